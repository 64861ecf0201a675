package anomaly

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestPercentile(t *testing.T) {
	xs := []float64{15, 20, 35, 40, 50} // NumPy: percentile(xs, [0, 25, 40, 50, 99, 100])
	for _, tc := range []struct{ p, want float64 }{
		{0, 15}, {25, 20}, {40, 29}, {50, 35}, {99, 49.6}, {100, 50},
	} {
		got, err := Percentile(xs, tc.p)
		if err != nil || math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Percentile(%v, %v) = %v, %v; want %v", xs, tc.p, got, err, tc.want)
		}
	}
	if got, _ := Percentile([]float64{7}, 99); got != 7 {
		t.Errorf("one score: got %v, want 7", got)
	}
	for _, bad := range []struct {
		xs []float64
		p  float64
	}{{nil, 50}, {xs, -1}, {xs, 100.5}, {xs, math.NaN()}, {[]float64{1, math.Inf(1)}, 50}} {
		if _, err := Percentile(bad.xs, bad.p); err == nil {
			t.Errorf("Percentile(%v, %v): no error", bad.xs, bad.p)
		}
	}
}

func TestAUROCKnownCases(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scores []float64
		anom   []bool
		want   float64
	}{
		{"perfect", []float64{0.1, 0.2, 0.8, 0.9}, []bool{false, false, true, true}, 1},
		{"reversed", []float64{0.9, 0.8, 0.2, 0.1}, []bool{false, false, true, true}, 0},
		{"all tied", []float64{1, 1, 1, 1}, []bool{false, true, false, true}, 0.5},
		// Pairs (pos, neg): 0.35 vs 0.1 ✓, 0.35 vs 0.4 ✗, 0.8 vs both ✓ → 3/4.
		{"sklearn example", []float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}, 0.75},
		// One tie between a positive and a negative counts a half: (1 + 0.5 + 1 + 1) / 4.
		{"a tie", []float64{0.2, 0.5, 0.5, 0.9}, []bool{false, false, true, true}, 0.875},
	} {
		got, err := AUROC(tc.scores, tc.anom)
		if err != nil || math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: AUROC = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := AUROC([]float64{1, 2}, []bool{true, true}); err == nil {
		t.Error("no negatives: no error")
	}
	if _, err := AUROC([]float64{1, 2}, []bool{true}); err == nil {
		t.Error("length mismatch: no error")
	}
}

// TestAUROCMatchesPairCount compares the rank formula with counting every pair.
func TestAUROCMatchesPairCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 300
	scores := make([]float64, n)
	anom := make([]bool, n)
	for i := range scores {
		anom[i] = rng.IntN(3) == 0
		scores[i] = float64(rng.IntN(40)) // many ties
		if anom[i] {
			scores[i] += 8
		}
	}
	var wins, pairs float64
	for i := range scores {
		for j := range scores {
			if anom[i] && !anom[j] {
				pairs++
				switch {
				case scores[i] > scores[j]:
					wins++
				case scores[i] == scores[j]:
					wins += 0.5
				}
			}
		}
	}
	got, err := AUROC(scores, anom)
	if err != nil || math.Abs(got-wins/pairs) > 1e-12 {
		t.Errorf("AUROC = %v, %v; counting pairs gives %v", got, err, wins/pairs)
	}
}

func TestConfusion(t *testing.T) {
	scores := []float64{0.1, 0.5, 0.7, 0.2, 0.9, 0.5}
	anom := []bool{false, false, true, true, true, true}
	c := Confusion(scores, anom, 0.5) // flagged: 0.7, 0.9 (0.5 is not above)
	want := Counts{TruePos: 2, FalsePos: 0, TrueNeg: 2, FalseNeg: 2}
	if c != want {
		t.Fatalf("got %+v, want %+v", c, want)
	}
	if c.Precision() != 1 || c.Recall() != 0.5 {
		t.Errorf("precision %v recall %v, want 1 and 0.5", c.Precision(), c.Recall())
	}
	if p := Confusion(scores, anom, 1).Precision(); !math.IsNaN(p) {
		t.Errorf("nothing flagged: precision %v, want NaN", p)
	}
}
