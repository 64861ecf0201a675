package train

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/data"
)

// TestEpochWeightsByBatch: an epoch that ends in a partial batch reports, for each phase's
// loss and each metric, the mean over its samples (each step weighted by its batch size),
// as the test evaluation does, and its progress callback gets the same running means. A
// second trainer from the same weights takes the epoch's steps one by one to give the
// expected values: a classifier on batches of 8, 8 and 4, and a GAN with two
// discriminator steps a generator step, whose generator reuses the second batch and never
// runs on the last, partial one.
func TestEpochWeightsByBatch(t *testing.T) {
	type step struct {
		phase  int
		lo, hi int
	}
	for name, tc := range map[string]struct {
		src   string
		steps []step
	}{
		"classifier": {passSources["classifier"], []step{{0, 0, 8}, {0, 8, 16}, {0, 16, 20}}},
		"gan":        {passSources["gan"], []step{{0, 0, 8}, {0, 8, 16}, {1, 8, 16}, {0, 16, 20}}},
	} {
		t.Run(name, func(t *testing.T) {
			set := smallSet(20)
			want := &EpochProgress{LossSums: map[string]float64{}, LossWeights: map[string]int{}, MetricSums: map[string]float64{}, MetricWeights: map[string]int{}}
			unweighted := map[string]float64{}
			ref := compiledTrainer(t, name, tc.src)
			for _, s := range tc.steps {
				idx := make([]int, 0, s.hi-s.lo)
				for i := s.lo; i < s.hi; i++ {
					idx = append(idx, i)
				}
				loss, metrics, err := ref.StepPhase(s.phase, set, idx)
				if err != nil {
					t.Fatal(err)
				}
				want.add(ref.Spec.Phases[s.phase].Name, len(idx), loss, metrics)
				unweighted[ref.Spec.Phases[s.phase].Name] += loss
			}
			tr := compiledTrainer(t, name, tc.src)
			var last map[string]float64
			st, err := tr.Epoch(set, rand.New(rand.NewPCG(1, 2)), false, 0, func(done, total int, losses map[string]float64) {
				last = losses
			})
			if err != nil || !st.Complete || st.Samples != 20 || st.Steps != len(tc.steps) {
				t.Fatalf("epoch: %+v, %v", st, err)
			}
			first := tr.Spec.Phases[0].Name
			if runs := 3.0; st.Loss == unweighted[first]/runs {
				t.Errorf("train loss %v is the unweighted mean of the steps' losses", st.Loss)
			}
			for k, s := range want.LossSums {
				if w := s / float64(want.LossWeights[k]); st.Losses[k] != w || last[k] != w {
					t.Errorf("phase %s: mean loss %v, progress %v, want %v", k, st.Losses[k], last[k], w)
				}
			}
			if len(st.Metrics) != len(want.MetricSums) {
				t.Errorf("metrics %v, want %v", st.Metrics, want.MetricSums)
			}
			for k, s := range want.MetricSums {
				if w := s / float64(want.MetricWeights[k]); st.Metrics[k] != w {
					t.Errorf("metric %s: %v, want %v", k, st.Metrics[k], w)
				}
			}
		})
	}
}

// smallSet is a data set of n samples of 20 values with 4 one-hot classes.
func smallSet(n int) *data.Set {
	set := &data.Set{X: make([]float32, n*20), XShape: []int{n, 20}, Y: make([]float32, n*4), YShape: []int{n, 4}}
	for i := range set.X {
		set.X[i] = float32(i%7) / 7
	}
	for i := 0; i < n; i++ {
		set.Y[4*i+i%4] = 1
	}
	return set
}

// TestProgressUpgrade: an interrupted epoch's progress saved by an older dlc, which summed
// unweighted losses and counted runs (loss_runs), continues a graph-level run, whose sums
// were weighted already, and is refused for a samples run, naming --init.
func TestProgressUpgrade(t *testing.T) {
	old := `{"samples":24,"steps":3,"loss_sums":{"train":1.5},"loss_runs":{"train":3}}`
	for _, tc := range []struct {
		task ir.Task
		err  string
	}{{ir.TaskGraph, ""}, {ir.TaskSamples, "start from its weights with --init"}} {
		var p EpochProgress
		if err := json.Unmarshal([]byte(old), &p); err != nil {
			t.Fatal(err)
		}
		err := p.upgrade(tc.task, "w.safetensors")
		switch {
		case tc.err == "" && (err != nil || p.LossWeights["train"] != 24):
			t.Errorf("%s: %v, weights %v, want 24 graphs", tc.task, err, p.LossWeights)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: %v, want an error naming %q", tc.task, err, tc.err)
		}
	}
}
