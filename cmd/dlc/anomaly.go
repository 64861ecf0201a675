package main

import (
	"bytes"
	"flag"
	"fmt"
	"github.com/dlc-lang/dlc/ir"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/anomaly"
	"github.com/dlc-lang/dlc/runtime/data"
	"github.com/dlc-lang/dlc/runtime/report"
	dlctrain "github.com/dlc-lang/dlc/runtime/train"
)

// dlc anomaly: score every sample of a data set by the autoencoder's reconstruction error
// (its "score" function), flag those above a threshold taken from the training data, and,
// when the data has labels, measure the flags against them.

// anomalyFlags are dlc anomaly's checked flags.
type anomalyFlags struct {
	init, which, normalFlag, prefix string
	pct, threshold                  float64
	byThreshold                     bool  // --threshold given: no percentile
	normal                          []int // --normal's classes; nil: the training data's
	batch                           int
}

func parseAnomalyFlags(args []string, stderr io.Writer) (string, *anomalyFlags, error) {
	fs := flag.NewFlagSet("anomaly", flag.ContinueOnError)
	o := &anomalyFlags{}
	fs.StringVar(&o.init, "init", "", "the autoencoder's checkpoint (from dlc run --save)")
	fs.StringVar(&o.which, "data", "test", "the train block's data set to score: test or train")
	fs.Float64Var(&o.pct, "percentile", 99, "the threshold is this percentile of the training data's scores")
	fs.Float64Var(&o.threshold, "threshold", math.NaN(), "flag scores above this value (instead of --percentile)")
	fs.StringVar(&o.normalFlag, "normal", "", "the classes that are normal, e.g. 0 or 1,7 (default: the classes of the training data)")
	fs.StringVar(&o.prefix, "o", "", "prefix of the outputs PREFIX.csv, PREFIX.npy and PREFIX-hist.png (default FILE's name + -scores)")
	fs.IntVar(&o.batch, "batch", 500, "rows per run of the score function")
	file, err := parseArgs(fs, args, stderr)
	if err != nil {
		return "", nil, err
	}
	if err := checkSplit("anomaly", o.which, stderr); err != nil {
		return "", nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.byThreshold = set["threshold"]
	usage := func(format string, args ...any) (string, *anomalyFlags, error) {
		fmt.Fprintf(stderr, "dlc anomaly: "+format+"\n", args...)
		return "", nil, errUsage
	}
	switch {
	case set["percentile"] && set["threshold"]:
		return usage("--percentile and --threshold: give one (the threshold, or the percentile of the training scores that sets it)")
	case !(o.pct >= 0 && o.pct <= 100):
		return usage("--percentile %v, want a number from 0 to 100", o.pct)
	case o.byThreshold && (math.IsNaN(o.threshold) || math.IsInf(o.threshold, 0)):
		return usage("--threshold %v, want a finite number", o.threshold)
	}
	if o.normal, err = parseLabels(o.normalFlag); err != nil {
		return usage("%v", strings.Replace(err.Error(), "--label", "--normal", 1))
	}
	if o.prefix == "" {
		o.prefix = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)) + "-scores"
	}
	return file, o, nil
}

func cmdAnomaly(args []string, stdout, stderr io.Writer) error {
	file, o, err := parseAnomalyFlags(args, stderr)
	if err != nil {
		return err
	}
	normalClasses := o.normal
	csvPath, npyPath, histPath := o.prefix+".csv", o.prefix+".npy", o.prefix+"-hist.png"
	if err := refuseInputs("anomaly", stderr, []string{csvPath, npyPath, histPath}, file, o.init); err != nil {
		return err
	}
	tr, err := loadTrained(file, o.init, "anomaly", stderr)
	if err != nil {
		return err
	}
	scored, err := loadSplit(tr, file, o.which, "anomaly", stderr)
	if err != nil {
		return err
	}
	if normalClasses != nil && scored.Labels == nil {
		return fmt.Errorf("--normal %s: the %s set has no class labels to tell normal samples by", o.normalFlag, o.which)
	}
	scores, err := sampleScores(tr, scored, o.batch)
	if err != nil {
		return err
	}
	// The training data sets the threshold and, unless --normal says, the normal classes.
	var train *data.Set
	if !o.byThreshold || (normalClasses == nil && scored.Labels != nil) {
		if o.which == "train" {
			train = scored
		} else if train, err = data.Load(tr.Spec.Data); err != nil {
			return err
		}
	}
	threshold, how := o.threshold, "given"
	if !o.byThreshold {
		if threshold, how, err = percentileThreshold(tr, train, scored, scores, o.pct, o.batch); err != nil {
			return err
		}
	}
	flagged := 0
	for _, s := range scores {
		if s > threshold {
			flagged++
		}
	}
	fmt.Fprintf(stdout, "threshold %.6g (%s)\n", threshold, how)
	fmt.Fprintf(stdout, "flagged %d of %d %s samples (%.2f%%)\n", flagged, len(scores), o.which, 100*float64(flagged)/float64(len(scores)))
	var isAnomaly []bool
	if scored.Labels != nil {
		if normalClasses == nil {
			normalClasses = classesOf(train.Labels)
		}
		isAnomaly = make([]bool, len(scores))
		for i, l := range scored.Labels {
			isAnomaly[i] = !slices.Contains(normalClasses, l)
		}
		if err := reportMetrics(stdout, scores, isAnomaly, scored.Labels, normalClasses, threshold); err != nil {
			return err
		}
	}
	title := fmt.Sprintf("%s: reconstruction error of the %s set", filepath.Base(file), o.which)
	if err := writeScores(o.prefix, title, o.which, scores, threshold, scored.Labels, isAnomaly, normalClasses); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote the scores to %s and %s, the histogram to %s\n", csvPath, npyPath, histPath)
	return nil
}

// writeScores writes PREFIX.npy, PREFIX.csv and the histogram PREFIX-hist.png: normal
// against anomalous samples when the labels tell both apart, else all the scores.
func writeScores(prefix, title, which string, scores []float64, threshold float64, labels []int, isAnomaly []bool, normalClasses []int) error {
	if err := writeNPYFile(prefix+".npy", &runtime.Tensor{Shape: []int{len(scores)}, Data: float32s(scores)}); err != nil {
		return err
	}
	if err := writeFileAtomic(prefix+".csv", scoresCSV(scores, threshold, labels, isAnomaly)); err != nil {
		return err
	}
	groups := []report.ScoreGroup{{Name: which + " samples", Scores: scores}}
	if slices.Contains(isAnomaly, true) && slices.Contains(isAnomaly, false) {
		var normal, anomalous []float64
		for i, s := range scores {
			if isAnomaly[i] {
				anomalous = append(anomalous, s)
			} else {
				normal = append(normal, s)
			}
		}
		groups = []report.ScoreGroup{{Name: "normal: class " + joinInts(normalClasses), Scores: normal}, {Name: "anomalous", Scores: anomalous}}
	}
	return report.ScoreHistogram(prefix+"-hist.png", title, "score (reconstruction error)", groups, threshold)
}

// percentileThreshold is the pct-th percentile of the training set's scores (those of
// scored when it is the training set), and how it was found.
func percentileThreshold(tr *dlctrain.Trainer, train, scored *data.Set, scores []float64, pct float64, batch int) (float64, string, error) {
	trainScores := scores
	if train != scored {
		var err error
		if trainScores, err = sampleScores(tr, train, batch); err != nil {
			return 0, "", err
		}
	}
	t, err := anomaly.Percentile(trainScores, pct)
	return t, fmt.Sprintf("the %gth percentile of %d training scores", pct, len(trainScores)), err
}

// sampleScores runs the model's score function on every sample of set.
func sampleScores(tr *dlctrain.Trainer, set *data.Set, batch int) ([]float64, error) {
	s, err := tr.ApplyRole(ir.RoleScore, dlctrain.SetTensor(set), batch)
	if err != nil {
		return nil, err
	}
	if len(s.Data) != set.Len() {
		return nil, fmt.Errorf("the score function gives %v for %d samples, want one score each", s.Shape, set.Len())
	}
	out := make([]float64, len(s.Data))
	for i, v := range s.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("the score of sample %d is %v, want a finite reconstruction error", i, v)
		}
		out[i] = float64(v)
	}
	return out, nil
}

// reportMetrics prints precision, recall and AUROC of the flags, and the share flagged of
// each class.
func reportMetrics(w io.Writer, scores []float64, isAnomaly []bool, labels, normal []int, threshold float64) error {
	anomalies := 0
	for _, a := range isAnomaly {
		if a {
			anomalies++
		}
	}
	fmt.Fprintf(w, "normal classes %s: %d samples; anomalies (the other classes): %d\n", joinInts(normal), len(scores)-anomalies, anomalies)
	if anomalies == 0 || anomalies == len(scores) {
		fmt.Fprintf(w, "no precision, recall or AUROC: the set has no %s samples (give --normal)\n", map[bool]string{true: "anomalous", false: "normal"}[anomalies == 0])
	} else {
		c := anomaly.Confusion(scores, isAnomaly, threshold)
		auroc, err := anomaly.AUROC(scores, isAnomaly)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "precision %.4f  recall %.4f  AUROC %.4f  (true pos %d, false pos %d, false neg %d, true neg %d)\n",
			c.Precision(), c.Recall(), auroc, c.TruePos, c.FalsePos, c.FalseNeg, c.TrueNeg)
	}
	byClass := map[int][2]int{} // flagged, total
	for i, l := range labels {
		f := byClass[l]
		if scores[i] > threshold {
			f[0]++
		}
		f[1]++
		byClass[l] = f
	}
	classes := classesOf(labels)
	parts := make([]string, len(classes))
	for i, c := range classes {
		parts[i] = fmt.Sprintf("%d %.1f%%", c, 100*float64(byClass[c][0])/float64(byClass[c][1]))
	}
	fmt.Fprintf(w, "flagged by class: %s\n", strings.Join(parts, ", "))
	return nil
}

// classesOf lists the distinct labels, ascending.
func classesOf(labels []int) []int {
	c := slices.Clone(labels)
	slices.Sort(c)
	return slices.Compact(c)
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func float32s(xs []float64) []float32 {
	out := make([]float32, len(xs))
	for i, v := range xs {
		out[i] = float32(v)
	}
	return out
}

// scoresCSV writes one line per sample: its index, score and flag, and with labels its
// label and whether it is an anomaly.
func scoresCSV(scores []float64, threshold float64, labels []int, isAnomaly []bool) []byte {
	var b bytes.Buffer
	b.WriteString("index,score,flagged")
	if labels != nil {
		b.WriteString(",label,anomaly")
	}
	b.WriteByte('\n')
	for i, s := range scores {
		fmt.Fprintf(&b, "%d,%s,%d", i, strconv.FormatFloat(s, 'g', -1, 32), b2i(s > threshold))
		if labels != nil {
			fmt.Fprintf(&b, ",%d,%d", labels[i], b2i(isAnomaly[i]))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
