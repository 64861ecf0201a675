package main

import (
	"bytes"
	"flag"
	"fmt"
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
)

// dlc anomaly: score every sample of a data set by the autoencoder's reconstruction error
// (its "score" function), flag those above a threshold taken from the training data, and,
// when the data has labels, measure the flags against them.

func cmdAnomaly(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("anomaly", flag.ContinueOnError)
	init := fs.String("init", "", "the autoencoder's checkpoint (from dlc run --save)")
	which := fs.String("data", "test", "the train block's data set to score: test or train")
	pct := fs.Float64("percentile", 99, "the threshold is this percentile of the training data's scores")
	thresh := fs.Float64("threshold", math.NaN(), "flag scores above this value (instead of --percentile)")
	normalFlag := fs.String("normal", "", "the classes that are normal, e.g. 0 or 1,7 (default: the classes of the training data)")
	out := fs.String("o", "", "prefix of the outputs PREFIX.csv, PREFIX.npy and PREFIX-hist.png (default FILE's name + -scores)")
	batch := fs.Int("batch", 500, "rows per run of the score function")
	file, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	if err := checkSplit("anomaly", *which, stderr); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["percentile"] && set["threshold"] {
		fmt.Fprintf(stderr, "dlc anomaly: --percentile and --threshold: give one (the threshold, or the percentile of the training scores that sets it)\n")
		return errUsage
	}
	if !(*pct >= 0 && *pct <= 100) {
		fmt.Fprintf(stderr, "dlc anomaly: --percentile %v, want a number from 0 to 100\n", *pct)
		return errUsage
	}
	if set["threshold"] && (math.IsNaN(*thresh) || math.IsInf(*thresh, 0)) {
		fmt.Fprintf(stderr, "dlc anomaly: --threshold %v, want a finite number\n", *thresh)
		return errUsage
	}
	normalClasses, err := parseLabels(*normalFlag)
	if err != nil {
		fmt.Fprintf(stderr, "dlc anomaly: %v\n", strings.Replace(err.Error(), "--label", "--normal", 1))
		return errUsage
	}
	prefix := *out
	if prefix == "" {
		prefix = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)) + "-scores"
	}
	csvPath, npyPath, histPath := prefix+".csv", prefix+".npy", prefix+"-hist.png"
	if err := refuseInputs("anomaly", stderr, []string{csvPath, npyPath, histPath}, file, *init); err != nil {
		return err
	}
	tr, err := loadTrained(file, *init, "anomaly", stderr)
	if err != nil {
		return err
	}
	scored, err := loadSplit(tr, file, *which, "anomaly", stderr)
	if err != nil {
		return err
	}
	scores, err := sampleScores(tr, scored, *batch)
	if err != nil {
		return err
	}
	// The training data sets the threshold and, unless --normal says, the normal classes.
	var train *data.Set
	if !set["threshold"] || (normalClasses == nil && scored.Labels != nil) {
		if *which == "train" {
			train = scored
		} else if train, err = data.Load(tr.Spec.Data); err != nil {
			return err
		}
	}
	threshold, how := *thresh, "given"
	if !set["threshold"] {
		trainScores := scores
		if train != scored {
			if trainScores, err = sampleScores(tr, train, *batch); err != nil {
				return err
			}
		}
		if threshold, err = anomaly.Percentile(trainScores, *pct); err != nil {
			return err
		}
		how = fmt.Sprintf("the %gth percentile of %d training scores", *pct, len(trainScores))
	}
	flagged := 0
	for _, s := range scores {
		if s > threshold {
			flagged++
		}
	}
	fmt.Fprintf(stdout, "threshold %.6g (%s)\n", threshold, how)
	fmt.Fprintf(stdout, "flagged %d of %d %s samples (%.2f%%)\n", flagged, len(scores), *which, 100*float64(flagged)/float64(len(scores)))
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
	if err := writeNPYFile(npyPath, &runtime.Tensor{Shape: []int{len(scores)}, Data: float32s(scores)}); err != nil {
		return err
	}
	if err := writeFileAtomic(csvPath, scoresCSV(scores, threshold, scored.Labels, isAnomaly)); err != nil {
		return err
	}
	var groups []report.ScoreGroup
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
	} else {
		groups = []report.ScoreGroup{{Name: *which + " samples", Scores: scores}}
	}
	title := fmt.Sprintf("%s: reconstruction error of the %s set", filepath.Base(file), *which)
	if err := report.ScoreHistogram(histPath, title, "score (reconstruction error)", groups, threshold); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote the scores to %s and %s, the histogram to %s\n", csvPath, npyPath, histPath)
	return nil
}

// sampleScores runs the model's score function on every sample of set.
func sampleScores(tr *runtime.Trainer, set *data.Set, batch int) ([]float64, error) {
	s, err := tr.ApplyRole("score", runtime.SetTensor(set), batch)
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
