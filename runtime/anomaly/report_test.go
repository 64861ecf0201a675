package anomaly

import (
	"strings"
	"testing"
)

// A labelled set: class 0 normal, class 1 anomalous, one of each misjudged.
func TestReport(t *testing.T) {
	r := NewReport([]float64{0.1, 0.2, 0.9, 0.8, 0.7, 0.3}, 0.5, []int{0, 0, 0, 1, 1, 1}, []int{0})
	if r.Flagged() != 3 {
		t.Errorf("flagged %d, want 3", r.Flagged())
	}
	var b strings.Builder
	if err := r.WriteMetrics(&b); err != nil {
		t.Fatal(err)
	}
	want := "normal classes 0: 3 samples; anomalies (the other classes): 3\n" +
		"precision 0.6667  recall 0.6667  AUROC 0.6667  (true pos 2, false pos 1, false neg 1, true neg 2)\n" +
		"flagged by class: 0 33.3%, 1 66.7%\n"
	if b.String() != want {
		t.Errorf("metrics:\n%s\nwant:\n%s", b.String(), want)
	}
	if got := string(r.CSV()); !strings.HasPrefix(got, "index,score,flagged,label,anomaly\n0,0.1,0,0,0\n") || !strings.HasSuffix(got, "5,0.3,0,1,1\n") {
		t.Errorf("CSV:\n%s", got)
	}
	normal, anomalous, ok := r.Split()
	if !ok || len(normal) != 3 || len(anomalous) != 3 || anomalous[0] != 0.8 {
		t.Errorf("Split: %v %v %v", normal, anomalous, ok)
	}
}

// Without labels there are no metrics, and the CSV has no label columns.
func TestReportUnlabelled(t *testing.T) {
	r := NewReport([]float64{1, 2}, 1.5, nil, nil)
	var b strings.Builder
	if err := r.WriteMetrics(&b); err != nil || b.Len() != 0 {
		t.Errorf("metrics %q, %v", b.String(), err)
	}
	if got := string(r.CSV()); got != "index,score,flagged\n0,1,0\n1,2,1\n" {
		t.Errorf("CSV %q", got)
	}
	if _, _, ok := r.Split(); ok {
		t.Error("Split of an unlabelled set: ok")
	}
}
