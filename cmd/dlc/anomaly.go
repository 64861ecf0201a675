package main

import (
	"fmt"
	"math"
	"path/filepath"

	"github.com/dlc-lang/dlc/runtime/report"
	"github.com/dlc-lang/dlc/runtime/train"
	"github.com/spf13/pflag"
)

// dlc anomaly: score every sample of a data set by the autoencoder's reconstruction error
// (its "score" function), flag those above a threshold taken from the training data, and,
// when the data has labels, measure the flags against them.

type anomalyFlags struct {
	trainedFlags
	normal, prefix string
	pct, threshold float64
}

func (f *anomalyFlags) declare(fs *pflag.FlagSet) {
	f.declareTrained(fs, "the autoencoder's", "test", "to score")
	fs.Float64Var(&f.pct, "percentile", 99, "the threshold is the `P`th percentile of the training data's scores")
	fs.Float64Var(&f.threshold, "threshold", math.NaN(), "flag scores above this `VALUE` (instead of --percentile)")
	fs.StringVar(&f.normal, "normal", "", "the `CLASSES` that are normal, e.g. 0 or 1,7 (default: the classes of the training data)")
	addOutput(fs, &f.prefix, "", "`PREFIX` of the outputs PREFIX.csv, PREFIX.npy and PREFIX-hist.png (default FILE's name + -scores)")
}

// options checks the flags and says what to evaluate.
func (f anomalyFlags) options(fs *pflag.FlagSet, file string) (train.AnomalyOptions, error) {
	o := train.AnomalyOptions{Source: file, Which: f.which, Percentile: f.pct, Threshold: math.NaN(),
		Batch: f.batch, Data: f.dataOptions()}
	if err := checkSplit(f.which); err != nil {
		return o, err
	}
	byThreshold := given(fs, "threshold")
	switch {
	case given(fs, "percentile") && byThreshold:
		return o, usagef("--percentile and --threshold: give one (the threshold, or the percentile of the training scores that sets it)")
	case !(f.pct >= 0 && f.pct <= 100):
		return o, usagef("--percentile %v, want a number from 0 to 100", f.pct)
	case byThreshold && (math.IsNaN(f.threshold) || math.IsInf(f.threshold, 0)):
		return o, usagef("--threshold %v, want a finite number", f.threshold)
	case byThreshold:
		o.Threshold = f.threshold
	}
	var err error
	o.Normal, err = parseLabels("--normal", f.normal)
	return o, err
}

func (s *session) anomaly(fs *pflag.FlagSet, file string, f anomalyFlags) error {
	s.data = f.dataOptions()
	o, err := f.options(fs, file)
	if err != nil {
		return err
	}
	prefix := f.prefix
	if prefix == "" {
		prefix = train.PictureBase(file) + "-scores" // autoencoder-oneclass-scores, as the pictures are named
	}
	csvPath, npyPath, histPath := prefix+".csv", prefix+".npy", prefix+"-hist.png"
	if err := declareOutputs(output{"the scores' CSV", csvPath}, output{"the scores' .npy", npyPath}, output{"the histogram", histPath}); err != nil {
		return err
	}
	tr, err := s.loadTrained(file, f.init, "anomaly")
	if err != nil {
		return err
	}
	r, how, err := train.EvaluateAnomalies(tr, o)
	if err != nil {
		return err
	}
	flagged := r.Flagged()
	fmt.Fprintf(s.stdout, "threshold %.6g (%s)\n", r.Threshold, how)
	fmt.Fprintf(s.stdout, "flagged %d of %d %s samples (%.2f%%)\n", flagged, len(r.Scores), f.which, 100*float64(flagged)/float64(len(r.Scores)))
	if err := r.WriteMetrics(s.stdout); err != nil {
		return err
	}
	title := fmt.Sprintf("%s: reconstruction error of the %s set", filepath.Base(file), f.which)
	if err := writeScores(prefix, title, f.which, r); err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "wrote the scores to %s and %s, the histogram to %s\n", csvPath, npyPath, histPath)
	return nil
}

// writeScores writes PREFIX.npy, PREFIX.csv and the histogram PREFIX-hist.png: normal
// against anomalous samples when the labels tell both apart, else all the scores.
func writeScores(prefix, title, which string, r train.AnomalyReport) error {
	scores := make([]float32, len(r.Scores))
	for i, v := range r.Scores {
		scores[i] = float32(v)
	}
	if err := writeNPYFile(prefix+".npy", &train.Tensor{Shape: []int{len(scores)}, Data: scores}); err != nil {
		return err
	}
	if err := writeFileAtomic(prefix+".csv", r.CSV()); err != nil {
		return err
	}
	groups := []report.ScoreGroup{{Name: which + " samples", Scores: r.Scores}}
	if normal, anomalous, ok := r.Split(); ok {
		groups = []report.ScoreGroup{{Name: "normal: class " + r.NormalClasses(), Scores: normal}, {Name: "anomalous", Scores: anomalous}}
	}
	return report.ScoreHistogram(prefix+"-hist.png", title, "score (reconstruction error)", groups, r.Threshold)
}
