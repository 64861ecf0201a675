package train

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
)

// An epoch's report: the line printed after it, the metrics file's JSON record of it
// and the file itself.

// EpochRecord is one line of the metrics file.
type EpochRecord struct {
	Epoch     int
	TrainLoss float64
	// PhaseLosses are the mean losses of each phase when there are several (d_loss, g_loss).
	PhaseLosses  map[string]float64
	TrainMetrics map[string]float64 // means of the steps' metrics (d_real, d_fake)
	TestLoss     *float64
	TestMetrics  map[string]float64 // the family's metrics on the test set (test_accuracy)
	ValLoss      *float64
	ValMetrics   map[string]float64 // the same on the validation data (val_accuracy)
	// LR is each scheduled phase's learning rate in the epoch, by phase name; nil
	// without a schedule. It is written lr for a model of one phase, else PHASE_lr.
	LR      map[string]float64
	phases  int
	Seconds float64
	Samples int
	Steps   int
}

// MarshalJSON writes the record flat: epoch, train_loss, PHASE_loss…, train metrics under
// their names, test_loss, test_NAME…, seconds, samples, steps. JSON has no NaN or
// infinity: such a value is written null, and its name listed under non_finite.
func (r EpochRecord) MarshalJSON() ([]byte, error) {
	m := map[string]any{"epoch": r.Epoch, "seconds": r.Seconds, "samples": r.Samples, "steps": r.Steps}
	for k, v := range epochValues(&r) {
		m[k] = v
	}
	for k, v := range r.LR {
		m[lrName(k, r.phases)] = v
	}
	var bad []string
	for k, v := range m {
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			m[k] = nil
			bad = append(bad, k)
		}
	}
	if bad != nil {
		slices.Sort(bad)
		m["non_finite"] = bad
	}
	return json.Marshal(m)
}

// lrName names a phase's learning rate in a line: lr for a model of one phase, else
// PHASE_lr.
func lrName(phase string, phases int) string {
	if phases == 1 {
		return "lr"
	}
	return phase + "_lr"
}

// openMetrics opens the --metrics file at path, nil when path is "": a new run starts it
// afresh, a resumed run continues it when given the same one.
func openMetrics(path string, resumed bool) (*os.File, error) {
	if path == "" {
		return nil, nil
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if resumed {
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, fmt.Errorf("--metrics: %v", err)
	}
	return f, nil
}

// report evaluates after an epoch on the test and validation data, prints the epoch's
// line, writes its metrics line and log rows and adds it to the loss curves. It returns
// the values the line names, for the monitors, and with --check-finite, finite names the
// epoch's metrics that are NaN or infinite, an error the run ends with once the epoch is
// saved.
func (l *loop) report(epoch int, st EpochStats, secs float64) (vals map[string]float64, finite, err error) {
	spec := l.spec
	rec := EpochRecord{Epoch: epoch, TrainLoss: st.Loss, TrainMetrics: st.Metrics, Seconds: secs, Samples: st.Samples, Steps: st.Steps, phases: len(spec.Phases)}
	line := fmt.Sprintf("epoch %d/%d  train_loss %.5f", epoch, spec.Epochs, st.Loss)
	if len(spec.Phases) > 1 {
		rec.PhaseLosses = st.Losses
		line = fmt.Sprintf("epoch %d/%d", epoch, spec.Epochs)
		for _, ph := range spec.Phases {
			line += fmt.Sprintf("  %s_loss %.4f", ph.Name, st.Losses[ph.Name])
		}
		line += namedString("", st.Metrics)
	}
	testLoss, m, ok, err := l.task.evaluate()
	if err != nil {
		return nil, nil, err
	}
	if ok {
		rec.TestLoss, rec.TestMetrics = &testLoss, m
		line += fmt.Sprintf("  test_loss %.5f", testLoss) + namedString("test_", m)
	}
	valLoss, vm, vok, err := l.task.validate()
	if err != nil {
		return nil, nil, err
	}
	if vok {
		rec.ValLoss, rec.ValMetrics = &valLoss, vm
		line += fmt.Sprintf("  val_loss %.5f", valLoss) + namedString("val_", vm)
	}
	for i, s := range l.watch.scheds {
		if s != nil {
			if rec.LR == nil {
				rec.LR = map[string]float64{}
			}
			rec.LR[spec.Phases[i].Name] = l.tr.Opts[i].LearningRate()
		}
	}
	for _, ph := range spec.Phases {
		if lr, ok := rec.LR[ph.Name]; ok {
			line += fmt.Sprintf("  %s %.3g", lrName(ph.Name, len(spec.Phases)), lr)
		}
	}
	l.curves.epoch(epoch, spec.Phases, st, testLoss, m, ok)
	if vok {
		l.curves.validation(spec.Phases, valLoss, vm)
	}
	if l.words.graphLine {
		rec.Steps = l.tr.Steps
		line += fmt.Sprintf("  %.3fs", secs)
	} else {
		line += fmt.Sprintf("  %.1fs  %.0f samples/s", secs, float64(st.Samples)/secs)
	}
	fmt.Fprintln(l.out, fitEpochLine(line))
	if l.tr.CheckFinite {
		bad := nonFinite("", rec.TrainMetrics)
		bad = append(bad, nonFinite("", prefixed("", "_loss", rec.PhaseLosses))...)
		if rec.TestLoss != nil {
			bad = append(bad, nonFinite("", map[string]float64{"test_loss": *rec.TestLoss})...)
		}
		bad = append(bad, nonFinite("test_", rec.TestMetrics)...)
		if rec.ValLoss != nil {
			bad = append(bad, nonFinite("", map[string]float64{"val_loss": *rec.ValLoss})...)
		}
		bad = append(bad, nonFinite("val_", rec.ValMetrics)...)
		if bad != nil {
			finite = fmt.Errorf("epoch %d: %s (--check-finite)", epoch, strings.Join(bad, ", "))
		}
	}
	if err := l.log.epoch(&rec); err != nil {
		return nil, nil, err
	}
	vals = epochValues(&rec)
	if l.metrics == nil {
		return vals, finite, nil
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, nil, fmt.Errorf("--metrics: %v", err)
	}
	if _, err := fmt.Fprintf(l.metrics, "%s\n", b); err != nil {
		return nil, nil, fmt.Errorf("--metrics: %v", err)
	}
	return vals, finite, nil
}
