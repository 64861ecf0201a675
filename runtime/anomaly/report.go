package anomaly

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Report is the evaluation of one data set's scores against a threshold: the samples
// flagged and, when the set has class labels, how the flags match them.
type Report struct {
	Scores    []float64 // one per sample
	Threshold float64   // a sample scoring above it is flagged
	// Labels are the samples' classes (nil when the set has none); Normal lists the
	// classes counted normal, and Anomalous tells, per sample, whether its class is not one
	// of them (nil without labels).
	Labels    []int
	Normal    []int
	Anomalous []bool
}

// NewReport evaluates scores against threshold; with labels, the classes in normal are
// normal and every other class anomalous.
func NewReport(scores []float64, threshold float64, labels, normal []int) Report {
	r := Report{Scores: scores, Threshold: threshold, Labels: labels, Normal: normal}
	if labels != nil {
		r.Anomalous = make([]bool, len(labels))
		for i, l := range labels {
			r.Anomalous[i] = !slices.Contains(normal, l)
		}
	}
	return r
}

// Flagged is the number of samples scoring above the threshold.
func (r Report) Flagged() int {
	n := 0
	for _, s := range r.Scores {
		if s > r.Threshold {
			n++
		}
	}
	return n
}

// WriteMetrics writes, for a set with labels, the counts of normal and anomalous samples,
// the flags' precision, recall and AUROC (when the set has both kinds), and the share
// flagged of each class. It writes nothing for a set without labels.
func (r Report) WriteMetrics(w io.Writer) error {
	if r.Labels == nil {
		return nil
	}
	anomalies := 0
	for _, a := range r.Anomalous {
		if a {
			anomalies++
		}
	}
	fmt.Fprintf(w, "normal classes %s: %d samples; anomalies (the other classes): %d\n", r.NormalClasses(), len(r.Scores)-anomalies, anomalies)
	if anomalies == 0 || anomalies == len(r.Scores) {
		fmt.Fprintf(w, "no precision, recall or AUROC: the set has no %s samples (give --normal)\n", map[bool]string{true: "anomalous", false: "normal"}[anomalies == 0])
	} else {
		c := Confusion(r.Scores, r.Anomalous, r.Threshold)
		auroc, err := AUROC(r.Scores, r.Anomalous)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "precision %.4f  recall %.4f  AUROC %.4f  (true pos %d, false pos %d, false neg %d, true neg %d)\n",
			c.Precision(), c.Recall(), auroc, c.TruePos, c.FalsePos, c.FalseNeg, c.TrueNeg)
	}
	byClass := map[int][2]int{} // flagged, total
	for i, l := range r.Labels {
		f := byClass[l]
		if r.Scores[i] > r.Threshold {
			f[0]++
		}
		f[1]++
		byClass[l] = f
	}
	classes := Classes(r.Labels)
	parts := make([]string, len(classes))
	for i, c := range classes {
		parts[i] = fmt.Sprintf("%d %.1f%%", c, 100*float64(byClass[c][0])/float64(byClass[c][1]))
	}
	fmt.Fprintf(w, "flagged by class: %s\n", strings.Join(parts, ", "))
	return nil
}

// NormalClasses lists the normal classes, comma-separated.
func (r Report) NormalClasses() string {
	s := make([]string, len(r.Normal))
	for i, x := range r.Normal {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// Split returns the scores of the normal and of the anomalous samples; ok is false unless
// the set has both.
func (r Report) Split() (normal, anomalous []float64, ok bool) {
	for i, s := range r.Scores {
		if r.Anomalous != nil && r.Anomalous[i] {
			anomalous = append(anomalous, s)
		} else {
			normal = append(normal, s)
		}
	}
	return normal, anomalous, len(normal) > 0 && len(anomalous) > 0
}

// CSV is one line per sample: its index, score and flag (0 or 1), and for a set with
// labels its label and whether it is an anomaly; under a header line.
func (r Report) CSV() []byte {
	var b bytes.Buffer
	b.WriteString("index,score,flagged")
	if r.Labels != nil {
		b.WriteString(",label,anomaly")
	}
	b.WriteByte('\n')
	for i, s := range r.Scores {
		fmt.Fprintf(&b, "%d,%s,%d", i, strconv.FormatFloat(s, 'g', -1, 32), b2i(s > r.Threshold))
		if r.Labels != nil {
			fmt.Fprintf(&b, ",%d,%d", r.Labels[i], b2i(r.Anomalous[i]))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Classes lists the distinct labels, ascending.
func Classes(labels []int) []int {
	c := slices.Clone(labels)
	slices.Sort(c)
	return slices.Compact(c)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
