package train

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
)

// What the loop watches after each epoch, the same for every task, as Lightning's
// callbacks are written once for every model: the best epoch by a monitor (for the
// .best checkpoint and early stopping, which restores that epoch's weights at the end,
// also when its patience never ran out: keras-team/keras#12511), and the monitors of
// plateau schedules. A monitor names a metric of the epoch line (epochValues).

// monitorState is a monitor's standing: its best value, the epoch of it, and the epochs
// since it last improved. It goes in the checkpoint's run state.
type monitorState struct {
	Has       bool    `json:"has"`
	Best      float64 `json:"best"`
	BestEpoch int     `json:"best_epoch"`
	Bad       int     `json:"bad_epochs"`
}

// see counts epoch's value v of monitor m and reports whether it improved on the best by
// more than m.MinDelta (the first finite value always does). A NaN or an infinity never
// improves (nor becomes the best, which the run state writes as JSON): it is a bad epoch.
func (w *monitorState) see(m *ir.Monitor, v float64, epoch int) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		if w.Has {
			w.Bad++
		}
		return false
	}
	better := !w.Has || m.Mode == "min" && v < w.Best-m.MinDelta || m.Mode == "max" && v > w.Best+m.MinDelta
	if better {
		w.Has, w.Best, w.BestEpoch, w.Bad = true, v, epoch, 0
		return true
	}
	w.Bad++
	return false
}

// loopState is the "loop" member of a checkpoint's run state: the best epoch's monitor,
// whether early stopping ended the run (and restored its best weights), and each plateau
// schedule's scale and monitor, by phase. It is absent when the run watches nothing.
type loopState struct {
	Best     monitorState            `json:"best"`
	Finished bool                    `json:"finished,omitempty"`
	Plateaus map[string]plateauState `json:"plateaus,omitempty"`
}

// plateauState is a plateau schedule's standing.
type plateauState struct {
	Scale float64      `json:"scale"`
	Watch monitorState `json:"watch"`
}

// watcher is the loop's watch over its epochs.
type watcher struct {
	// best is the monitor of the best epoch: early_stopping's, else the validation loss,
	// else the test loss; nil when the run has none (decided at the first epoch's line
	// for the test loss, which only the evaluation knows it has).
	best     *ir.Monitor
	early    bool // best is early_stopping's: stop and restore
	state    monitorState
	bestVars map[string]*runtime.Tensor // the best epoch's parameters and state, for early stopping
	finished bool
	scheds   []*schedule // by phase; nil where a phase has none
	savePath string      // the .best checkpoint, "" without --save
	source   string
}

// newWatcher starts the watch of a run of spec that saves to save ("" for none).
func newWatcher(tr *Trainer, spec *ir.TrainSpec, o RunOptions) (*watcher, error) {
	w := &watcher{source: o.Source}
	if o.Save != "" {
		w.savePath = BestPath(o.Save)
	}
	switch {
	case spec.EarlyStop != nil:
		w.best, w.early = spec.EarlyStop, true
	case spec.Validation != nil:
		w.best = &ir.Monitor{Metric: "val_loss", Mode: "min"}
	}
	w.scheds = make([]*schedule, len(spec.Phases))
	for i, ph := range spec.Phases {
		if ph.Schedule == nil {
			continue
		}
		s, err := newSchedule(ph.Schedule, tr.Opts[i].LearningRate(), spec.Epochs)
		if err != nil {
			return nil, fmt.Errorf("phase %s: %v", ph.Name, err)
		}
		w.scheds[i] = s
		if s.spec.PerStep {
			tr.stepScheds[i] = s
		}
	}
	return w, nil
}

// BestPath is the .best checkpoint beside a --save path: W.safetensors keeps
// W.best.safetensors.
func BestPath(save string) string {
	if base, ok := strings.CutSuffix(save, ".safetensors"); ok {
		return base + ".best.safetensors"
	}
	return save + ".best"
}

// scheduled reports whether any phase has a schedule.
func (w *watcher) scheduled() bool {
	return slices.ContainsFunc(w.scheds, func(s *schedule) bool { return s != nil })
}

// setRates sets each scheduled phase's rate for epoch; a schedule by steps sets its own
// before each step (Trainer.runPhase).
func (w *watcher) setRates(tr *Trainer, epoch int) {
	for i, s := range w.scheds {
		if s != nil && !s.spec.PerStep {
			tr.Opts[i].SetLearningRate(s.rate(epoch))
		}
	}
}

// save returns the loop's standing for a checkpoint, nil when it watches nothing.
func (w *watcher) save(spec *ir.TrainSpec) *loopState {
	if w.best == nil && !w.scheduled() {
		return nil
	}
	ls := &loopState{Best: w.state, Finished: w.finished}
	for i, s := range w.scheds {
		if s != nil && s.watch != nil {
			if ls.Plateaus == nil {
				ls.Plateaus = map[string]plateauState{}
			}
			ls.Plateaus[spec.Phases[i].Name] = plateauState{Scale: s.scale, Watch: *s.watch}
		}
	}
	return ls
}

// restore takes a resumed run's standing from ls, and the best epoch's weights, for a
// run that stops early, from the .best checkpoint beside the one resumed.
func (w *watcher) restore(tr *Trainer, spec *ir.TrainSpec, ls *loopState, resume string) error {
	if ls == nil {
		return nil
	}
	if ls.Finished {
		return fmt.Errorf("--resume %s: the run has finished: early_stopping ended it and restored the weights of epoch %d; start a new run from them with --init %s", resume, ls.Best.BestEpoch, resume)
	}
	w.state = ls.Best
	if w.state.Has && w.best == nil {
		// The run watched its test loss, which newWatcher leaves to the first epoch.
		w.best = &ir.Monitor{Metric: "test_loss", Mode: "min"}
	}
	for i, s := range w.scheds {
		if s == nil || s.watch == nil {
			continue
		}
		if p, ok := ls.Plateaus[spec.Phases[i].Name]; ok {
			s.scale, *s.watch = p.Scale, p.Watch
		}
	}
	if !w.early || !w.state.Has {
		return nil
	}
	path := BestPath(resume)
	best, err := NewTrainer(tr.Module)
	if err != nil {
		return err
	}
	if _, err := loadCheckpoint(best, path, false); err != nil {
		return fmt.Errorf("--resume %s: early_stopping needs the best epoch's weights (epoch %d) from %s: %v", resume, w.state.BestEpoch, path, err)
	}
	w.bestVars = best.Vars
	return nil
}

// observe watches epoch's values: the plateau schedules' monitors, then the best epoch's,
// saving the .best checkpoint and, for early stopping, keeping its weights when it
// improves. It reports whether early stopping ends the run now.
func (w *watcher) observe(tr *Trainer, spec *ir.TrainSpec, epoch int, vals map[string]float64, out io.Writer) (bool, error) {
	for i, s := range w.scheds {
		if s == nil || s.watch == nil {
			continue
		}
		v, err := monitorValue(s.spec.Monitor, vals, "phase "+spec.Phases[i].Name+": schedule plateau")
		if err != nil {
			return false, err
		}
		s.observe(v)
	}
	if w.best == nil {
		if _, ok := vals["test_loss"]; !ok {
			return false, nil
		}
		w.best = &ir.Monitor{Metric: "test_loss", Mode: "min"}
	}
	v, err := monitorValue(w.best, vals, "early_stopping")
	if err != nil {
		return false, err
	}
	if w.state.see(w.best, v, epoch) {
		if w.early {
			w.bestVars = cloneVars(tr.Vars)
		}
		if w.savePath != "" {
			if err := saveCheckpoint(tr, w.savePath, w.source, nil); err != nil {
				return false, err
			}
		}
	}
	if !w.early || w.state.Bad < w.best.Patience {
		return false, nil
	}
	fmt.Fprintf(out, "early stopping: %s has not improved for %d epochs; the best was %.5f at epoch %d\n",
		w.best.Metric, w.state.Bad, w.state.Best, w.state.BestEpoch)
	return true, nil
}

// monitorValue is the monitor's value among an epoch's values.
func monitorValue(m *ir.Monitor, vals map[string]float64, what string) (float64, error) {
	v, ok := vals[m.Metric]
	if !ok {
		return 0, fmt.Errorf("%s: %s: monitor %q: this run's epoch lines have no such metric (they have %s)",
			m.Pos, what, m.Metric, strings.Join(slices.Sorted(maps.Keys(vals)), ", "))
	}
	return v, nil
}

// cloneVars copies every tensor of vars.
func cloneVars(vars map[string]*runtime.Tensor) map[string]*runtime.Tensor {
	out := make(map[string]*runtime.Tensor, len(vars))
	for n, t := range vars {
		out[n] = t.Clone()
	}
	return out
}

// epochValues are the values an epoch's line names, by the names a monitor uses:
// train_loss, PHASE_loss, the steps' metrics, test_NAME and val_NAME.
func epochValues(rec *EpochRecord) map[string]float64 {
	vals := map[string]float64{"train_loss": rec.TrainLoss}
	for k, v := range rec.PhaseLosses {
		vals[k+"_loss"] = v
	}
	maps.Copy(vals, rec.TrainMetrics)
	if rec.TestLoss != nil {
		vals["test_loss"] = *rec.TestLoss
	}
	for k, v := range rec.TestMetrics {
		vals["test_"+k] = v
	}
	if rec.ValLoss != nil {
		vals["val_loss"] = *rec.ValLoss
	}
	for k, v := range rec.ValMetrics {
		vals["val_"+k] = v
	}
	return vals
}
