package train

import (
	"io"
	"slices"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

// TestLossCurvesByPhase: a model of several phases gets a train and a test curve per
// phase (the later phases' test losses from the evaluation's PHASE_loss metrics), a model
// of one phase "train" and "test"; the curves start at the first epoch this process ran.
func TestLossCurvesByPhase(t *testing.T) {
	two := []ir.Phase{{Name: "d"}, {Name: "g"}}
	var c lossCurves
	for e := 3; e <= 4; e++ {
		st := EpochStats{Loss: float64(e), Losses: map[string]float64{"d": float64(e), "g": 10 * float64(e)}}
		c.epoch(e, two, st, 0.5*float64(e), map[string]float64{"g_loss": 5 * float64(e), "d_real": 1}, true)
	}
	want := map[string][]float64{"train d": {3, 4}, "train g": {30, 40}, "test d": {1.5, 2}, "test g": {15, 20}}
	if c.first != 3 || len(c.series) != len(want) {
		t.Fatalf("first %d, series %v; want first 3 and %v", c.first, c.series, want)
	}
	for name, w := range want {
		if !slices.Equal(c.series[name], w) {
			t.Errorf("%s = %v, want %v", name, c.series[name], w)
		}
	}
	var one lossCurves
	one.epoch(1, []ir.Phase{{Name: "train"}}, EpochStats{Loss: 2}, 1, nil, true)
	one.epoch(2, []ir.Phase{{Name: "train"}}, EpochStats{Loss: 1}, 0, nil, false)
	if !slices.Equal(one.series["train"], []float64{2, 1}) || !slices.Equal(one.series["test"], []float64{1}) || one.first != 1 {
		t.Errorf("one phase: %v from %d", one.series, one.first)
	}
	// A test curve with an epoch missing is left out of the picture.
	if err := lossCurve(t.TempDir(), "m", one, io.Discard); err != nil {
		t.Fatal(err)
	}
}
