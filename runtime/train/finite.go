package train

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/dlc-lang/dlc/runtime"
)

// With --check-finite every value a run makes is checked, not only the ops' results
// (runtime.Program.CheckFinite): after each optimiser step the parameters it moved and the
// optimiser's own state (Adam's moments, SGD's velocity), and after an epoch its metrics.
// A learning rate of 1e30 makes Adam's second moment +Inf while every op still computes
// something; this names the tensor at once, instead of a run of 20 epochs that ends in 0.

// checkStepFinite checks, after phase i's optimiser step and state updates, the
// parameters of the phase, the model's state and the optimiser's state.
func (t *Trainer) checkStepFinite(i int) error {
	ph := &t.Spec.Phases[i]
	for _, name := range ph.Params {
		if err := finiteTensor("parameter "+name, t.Vars[name]); err != nil {
			return fmt.Errorf("step %d (phase %s): after the %s update, %v", t.Steps, ph.Name, t.Opts[i].Name(), err)
		}
	}
	st := t.Opts[i].State()
	for _, k := range slices.Sorted(maps.Keys(st)) {
		if err := finiteTensor("optimiser state "+k, st[k]); err != nil {
			return fmt.Errorf("step %d (phase %s): %v (%s diverged)", t.Steps, ph.Name, err, ph.Optimizer.Source())
		}
	}
	return nil
}

// finiteTensor names the first NaN or infinity of x, what says what x is.
func finiteTensor(what string, x *runtime.Tensor) error {
	if x == nil {
		return nil
	}
	for j, v := range x.Data {
		if v-v != 0 { // NaN and ±Inf
			return fmt.Errorf("%s %s holds %v at element %d, want finite values", what, runtime.ShapeString(x.Shape), v, j)
		}
	}
	return nil
}

// nonFinite lists, sorted, the names of m whose values are NaN or infinite, each with its
// prefix ("test_").
func nonFinite(prefix string, m map[string]float64) []string {
	var bad []string
	for k, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			bad = append(bad, fmt.Sprintf("%s%s is %v", prefix, k, v))
		}
	}
	slices.Sort(bad)
	return bad
}

// prefixed is m with each key between prefix and suffix.
func prefixed(prefix, suffix string, m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[prefix+k+suffix] = v
	}
	return out
}

// writeEvaluation writes the metrics line of a run of no epochs, which only evaluates:
// epoch 0 and the test set's loss and metrics (a run of 0 epochs used to leave --metrics
// empty). With --check-finite a NaN or infinite one is an error, after the line.
func (l *loop) writeEvaluation(loss float64, m map[string]float64) error {
	rec := map[string]float64{"test_loss": loss}
	for k, v := range m {
		rec["test_"+k] = v
	}
	if l.metrics != nil {
		if err := writeRecord(l.metrics, 0, rec); err != nil {
			return err
		}
	}
	if bad := nonFinite("", rec); l.tr.CheckFinite && bad != nil {
		return fmt.Errorf("evaluation: %s (--check-finite)", strings.Join(bad, ", "))
	}
	return nil
}

// writeRecord writes one metrics line: epoch, then rec's values, a NaN or infinity as null
// with its name under non_finite.
func writeRecord(w io.Writer, epoch int, rec map[string]float64) error {
	m := map[string]any{"epoch": epoch}
	var bad []string
	for k, v := range rec {
		m[k] = v
		if math.IsNaN(v) || math.IsInf(v, 0) {
			m[k] = nil
			bad = append(bad, k)
		}
	}
	if bad != nil {
		slices.Sort(bad)
		m["non_finite"] = bad
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("--metrics: %v", err)
	}
	if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
		return fmt.Errorf("--metrics: %v", err)
	}
	return nil
}
