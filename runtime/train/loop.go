package train

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/checkpoint"
	"github.com/dlc-lang/dlc/runtime/guard"
)

// The training run: what `dlc run` does, with the command line reduced to filling
// RunOptions. Train starts the parameters (drawn or loaded), loads the data, runs the
// epochs, evaluates on the test set after each, writes a metrics line, a checkpoint and the
// family's pictures per epoch, and the loss curve at the end.

// RunOptions are the knobs of a training run. Zero values mean "as the train spec says"
// where the spec has a value.
type RunOptions struct {
	Source      string // the .dl file, recorded in checkpoints and naming the pictures
	Epochs      int    // -1: the spec's
	Steps       int    // stop after this many optimiser steps in total (0: no limit)
	Seed        int64  // -1: the spec's
	NoShuffle   bool
	Init        string // start from this checkpoint's weights, with fresh optimisers
	InitPartial bool   // Init may lack parameters (they are drawn) and hold others (ignored)
	Resume      string // continue the run this checkpoint saved (weights, optimisers, data order)
	Save        string // write a checkpoint here after every epoch (atomically)
	Metrics     string // write one JSON line per epoch here
	OutDir      string // directory for the pictures; "" writes none
	CheckFinite bool
	EvalBatch   int    // batch size of evaluation; 0 means DefaultEvalBatch
	MNISTDir    string // where MNIST's IDX files lie; "": the usual places (data.Options)
	// MaxMemory refuses a graph model's run whose estimate at the loaded graph's sizes
	// exceeds it (0: no limit); other runs are checked before they start, by the caller.
	MaxMemory int64
	// Out receives the run's report lines; Progress, if set, is called after every step of
	// the first phase with the epoch, the samples done and the running losses by phase, in
	// a map the next call reuses (a graph run counts graphs, or for one graph the run's
	// epochs: see oneGraphTask).
	Out      io.Writer
	Progress func(epoch, done, total int, losses map[string]float64)
	// EpochDone, if set, is called when an epoch's progress is complete, before its line.
	EpochDone func()
	// Stop, if set, is asked before every step; once it says true (it must keep saying so),
	// the run stops, writes the checkpoint if Save is set and returns ErrInterrupted.
	Stop func() bool
	// LogDir, when set, gets a version folder of the run's logs (runlog.go): its epochs,
	// every LogEvery-th step, its resolved settings and Sources, the .dl file and its
	// imports by name.
	LogDir   string
	LogEvery int
	Sources  map[string][]byte
	// ShowSettings prints the run's resolved settings before it starts.
	ShowSettings bool
}

// DefaultEvalBatch is the batch size of evaluation on the test set.
const DefaultEvalBatch = runtime.DefaultEvalBatch

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

// Train runs the module's train spec as o says: one loop for every task (task.go), which
// brings the data, an epoch's training and the evaluation; the loop does the rest.
func Train(tr *Trainer, o RunOptions) error {
	spec, out := applyRunOptions(tr, o)
	if err := checkOutputs(o, spec); err != nil {
		return err
	}
	l := &loop{tr: tr, spec: spec, task: newTask(tr, o), o: o, out: out}
	first, progress, err := l.start()
	if err != nil {
		return err
	}
	if l.metrics, err = openMetrics(o.Metrics, o.Resume != ""); err != nil {
		return err
	}
	if l.metrics != nil {
		defer l.metrics.Close()
	}
	if err := l.task.check(o, out); err != nil {
		return err
	}
	if o.ShowSettings {
		printSettings(out, spec)
	}
	if l.log, err = openRunLog(o.LogDir, o.LogEvery, tr, spec, o.Sources, out); err != nil {
		return err
	}
	if l.log != nil {
		tr.onStep = l.log.step
		defer func() { tr.onStep = nil; l.log.close() }()
	}
	stay, saved := standing(tr, spec, first-1, l.pcg, progress), false
	stay.Graph = l.id
	stay.Loop = l.watch.save(spec)
	l.complete, l.last = true, stay
	for epoch := first; epoch <= spec.Epochs && !l.stopped; epoch++ {
		if o.Steps > 0 && tr.Steps >= o.Steps {
			l.complete = false
			break
		}
		if err := l.runEpoch(epoch, progress); err != nil {
			return err
		}
		progress, saved = &EpochProgress{}, o.Save != ""
	}
	if err := l.finish(stay, saved); err != nil {
		l.log.close()
		return err
	}
	return l.log.close()
}

// loop is a run under way: what its epochs share.
type loop struct {
	tr      *Trainer
	spec    *ir.TrainSpec
	task    task
	o       RunOptions
	out     io.Writer
	metrics *os.File // --metrics, or nil
	pcg     *rand.PCG
	id      *graphIdentity
	words   taskWords
	// epoch is the epoch under way; step hands o.Progress a pass's progress in it (nil
	// without o.Progress).
	epoch  int
	step   func(done, total int, losses map[string]float64)
	curves lossCurves
	watch  *watcher
	log    *runLog // --log-dir, or nil
	// stopped is set when early stopping ends the run; complete when the run has gone
	// through its epochs (or stopped early), not stopped by --steps.
	stopped, complete bool
	// last is where the run stands after its last complete epoch (or where it started).
	last *runState
}

// start sets the parameters, state and, resuming, the optimisers and run position
// (startRun), sets the task up and, resuming, puts its generator where the checkpoint
// says. It returns the epoch to begin with and how far that epoch has got.
func (l *loop) start() (int, *EpochProgress, error) {
	rs, err := startRun(l.tr, l.o, l.spec)
	if err != nil {
		return 0, nil, err
	}
	if l.pcg, l.id, err = l.task.setup(l.out); err != nil {
		return 0, nil, err
	}
	if l.watch, err = newWatcher(l.tr, l.spec, l.o); err != nil {
		return 0, nil, err
	}
	l.words = l.task.words()
	if l.o.Progress != nil {
		l.step = func(done, total int, losses map[string]float64) { l.o.Progress(l.epoch, done, total, losses) }
	}
	if rs == nil {
		return 1, &EpochProgress{}, nil
	}
	path := l.o.Resume
	if l.id != nil {
		if err := checkIdentity(path, rs.Graph, l.id); err != nil {
			return 0, nil, err
		}
	}
	if err := l.pcg.UnmarshalBinary(rs.RNG); err != nil {
		return 0, nil, fmt.Errorf("--resume %s: dlc.run: generator: %v", path, err)
	}
	if err := l.tr.setDrawState(rs.Draw, path); err != nil {
		return 0, nil, err
	}
	if err := l.watch.restore(l.tr, l.spec, rs.Loop, path); err != nil {
		return 0, nil, err
	}
	if err := rs.Progress.upgrade(l.spec.Task, path); err != nil {
		return 0, nil, err
	}
	progress := rs.Progress
	if progress == nil {
		progress = &EpochProgress{}
	}
	fmt.Fprintf(l.out, "resuming %s at step %d, epoch %d", path, l.tr.Steps, rs.Epoch+1)
	if l.words.unit != "" {
		fmt.Fprintf(l.out, " (%d %s done)", progress.Samples, l.words.unit)
	}
	fmt.Fprintln(l.out)
	return rs.Epoch + 1, progress, nil
}

// runEpoch runs epoch `epoch` from progress, which it updates: it trains, then stops the
// run with ErrInterrupted if o.Stop ended the epoch part-way, else reports the epoch,
// writes its pictures and saves the checkpoint.
func (l *loop) runEpoch(epoch int, progress *EpochProgress) error {
	tr, o := l.tr, l.o
	// The generator's state before the epoch's draws rebuilds them on resume.
	rngStart, _ := l.pcg.MarshalBinary()
	drawStart := tr.drawState()
	l.epoch = epoch
	l.watch.setRates(tr, epoch)
	if l.log != nil {
		l.log.curEpoch = epoch
	}
	start := time.Now()
	st, err := l.task.trainEpoch(l, progress)
	secs := time.Since(start).Seconds()
	if o.EpochDone != nil {
		o.EpochDone()
	}
	if err != nil {
		return err
	}
	// Where a checkpoint written now continues: after this epoch, or inside it.
	here := &runState{Seed: l.spec.Seed, Shuffle: l.spec.Shuffle, Steps: tr.Steps, PhaseSteps: slices.Clone(tr.PhaseSteps), Epoch: epoch, Cursor: tr.cursor, Turns: tr.turns, Runs: tr.programRuns(), Graph: l.id,
		Loop: l.watch.save(l.spec)}
	if st.Complete {
		here.RNG, _ = l.pcg.MarshalBinary()
		here.Draw = tr.drawState()
	} else {
		here.Epoch, here.RNG, here.Draw, here.Progress = epoch-1, rngStart, drawStart, progress
	}
	if o.Stop != nil && o.Stop() && !st.Complete {
		if l.words.unit == "" {
			fmt.Fprintf(l.out, "interrupted at step %d, after epoch %d\n", tr.Steps, epoch-1)
		} else {
			fmt.Fprintf(l.out, "interrupted at step %d (epoch %d, %d of %d %s)\n", tr.Steps, epoch, st.Samples, l.words.total, l.words.unit)
		}
		return saveInterrupted(tr, o, l.out, here)
	}
	vals, finite, err := l.report(epoch, st, secs)
	if err != nil {
		return err
	}
	if st.Complete {
		// A partial epoch (--steps) is reported but not watched: its resumed run
		// watches the whole epoch once.
		if l.stopped, err = l.watch.observe(tr, l.spec, epoch, vals, l.out); err != nil {
			return err
		}
		here.Loop = l.watch.save(l.spec)
		l.last = here
	}
	if o.OutDir != "" {
		if err := l.task.epochPictures(o.OutDir, l.base(), epoch, l.out); err != nil {
			return err
		}
	}
	if o.Save == "" {
		return finite
	}
	if st.Complete {
		// A resumed run redoes an incomplete epoch's report and pictures, not a complete one's.
		here.withRuns(tr)
	}
	if err := saveCheckpoint(tr, o.Save, o.Source, here); err != nil {
		return err
	}
	return finite // the epoch's checkpoint is written first: its weights are finite
}

// halted reports whether the run is to stop before its next step: o.Steps reached, or
// o.Stop saying so.
func (l *loop) halted() bool {
	return (l.o.Steps > 0 && l.tr.Steps >= l.o.Steps) || (l.o.Stop != nil && l.o.Stop())
}

// finish ends the run: a run of no epochs evaluates, and one that saved no epoch saves
// where it stood (stay); then the loss curve and the task's last pictures.
func (l *loop) finish(stay *runState, saved bool) error {
	o, out := l.o, l.out
	if l.spec.Epochs == 0 {
		loss, m, ok, err := l.task.evaluate()
		if err != nil {
			return err
		}
		if ok {
			fmt.Fprintf(out, "evaluation  test_loss %.5f%s\n", loss, namedString("test_", m))
			if err := l.writeEvaluation(loss, m); err != nil {
				return err
			}
		}
	}
	restored, err := l.restoreBest()
	if err != nil {
		return err
	}
	if o.Save != "" {
		if !saved || restored != nil {
			if restored != nil {
				stay = restored
			}
			if err := saveCheckpoint(l.tr, o.Save, o.Source, stay); err != nil {
				return err
			}
		}
		fmt.Fprintf(out, "wrote weights to %s\n", o.Save)
		if w := l.watch; w.state.Has && w.best != nil && w.savePath != "" {
			fmt.Fprintf(out, "wrote the best epoch's weights (epoch %d, %s %.5f) to %s\n", w.state.BestEpoch, w.best.Metric, w.state.Best, w.savePath)
		}
	}
	if o.OutDir == "" {
		return nil
	}
	if err := lossCurve(o.OutDir, l.base(), l.curves, out); err != nil {
		return err
	}
	return l.task.pictures(o.OutDir, l.base(), out)
}

// restoreBest ends a complete run with early stopping in the best epoch's weights, and
// returns the run state a checkpoint of them holds: the run marked finished (nil when
// nothing is restored).
func (l *loop) restoreBest() (*runState, error) {
	w := l.watch
	if !w.early || !l.complete || w.bestVars == nil {
		return nil, nil
	}
	if err := l.tr.SetVars(w.bestVars); err != nil {
		return nil, fmt.Errorf("early_stopping: restoring epoch %d: %v", w.state.BestEpoch, err)
	}
	w.finished = true
	fmt.Fprintf(l.out, "restored the weights of epoch %d (%s %.5f)\n", w.state.BestEpoch, w.best.Metric, w.state.Best)
	rs := *l.last
	rs.Loop = w.save(l.spec)
	return &rs, nil
}

// printSettings prints the run's resolved settings, one line.
func printSettings(out io.Writer, spec *ir.TrainSpec) {
	parts := []string{}
	for _, s := range spec.Settings() {
		parts = append(parts, s.Name+" = "+s.Value)
	}
	fmt.Fprintf(out, "settings: %s\n", strings.Join(parts, "; "))
}

// base names the pictures (PictureBase).
func (l *loop) base() string { return PictureBase(l.o.Source) }

// applyRunOptions sets tr's train spec to o's overrides of its epochs, seed and shuffling,
// and tr's finiteness checks; it returns the spec and the writer of the run's report.
func applyRunOptions(tr *Trainer, o RunOptions) (*ir.TrainSpec, io.Writer) {
	spec := tr.Spec
	if o.Epochs >= 0 {
		spec.Epochs = o.Epochs
	}
	if o.Seed >= 0 {
		spec.Seed = o.Seed
	}
	spec.Shuffle = spec.Shuffle && !o.NoShuffle
	tr.CheckFinite = o.CheckFinite
	if o.Out == nil {
		return spec, io.Discard
	}
	return spec, o.Out
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

// saveInterrupted writes the checkpoint of a run stopped at here, when o asks for one, and
// returns ErrInterrupted.
func saveInterrupted(tr *Trainer, o RunOptions, out io.Writer, here *runState) error {
	if o.Save != "" {
		if err := saveCheckpoint(tr, o.Save, o.Source, here); err != nil {
			return err
		}
		fmt.Fprintf(out, "wrote weights and training state to %s; continue with --resume %s\n", o.Save, o.Save)
	}
	return ErrInterrupted
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

// checkOutputs declares the run's outputs to runtime/guard before any work: each must be
// writable and free of another process's lock, and none may be one of the files the run
// reads, which the guard refuses whether the file was read before (the source, a
// checkpoint) or is read later (the data, as it is loaded): an hour of training must not
// end in "cannot write", nor overwrite what it read.
func checkOutputs(o RunOptions, spec *ir.TrainSpec) error {
	if o.Resume != "" && o.Init != "" {
		return fmt.Errorf("--resume and --init: give one (--resume continues a run, --init starts one from trained weights)")
	}
	// Saving over the checkpoint being resumed is how a run goes on: it is read whole
	// before training, and replaced atomically.
	replaces := o.Resume != "" && SameFile(o.Resume, o.Save)
	if err := guard.Output("--save", o.Save, guard.Options{Replaces: replaces}); err != nil {
		return err
	}
	if o.Save != "" {
		// The best epoch's copy is replaced as the monitor improves, and on resume.
		best := BestPath(o.Save)
		if err := guard.Output("--save (its best epoch's copy)", best, guard.Options{Replaces: o.Resume != "" && SameFile(BestPath(o.Resume), best)}); err != nil {
			return err
		}
	}
	if err := guard.Output("--metrics", o.Metrics, guard.Options{}); err != nil {
		return err
	}
	if o.OutDir == "" {
		return nil
	}
	// The pictures' directory is made now, as their writers would make it, so that it is
	// checked writable before the first epoch rather than after the last.
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return fmt.Errorf("--out %s: %v", o.OutDir, err)
	}
	return guard.OutputPattern("--out", o.OutDir, PictureBase(o.Source)+"-*.png")
}

// SameFile reports whether two paths name one file: the same cleaned absolute path, or
// the same file on disk.
func SameFile(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if err1 == nil && err2 == nil && aa == bb {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// StartVars loads the parameters and state from a checkpoint when path is given, else
// draws them from their initialisers with seed.
func StartVars(tr *Trainer, path string, seed int64) error {
	if path == "" {
		return tr.InitParams(seed)
	}
	_, err := loadCheckpoint(tr, path, false)
	return err
}

// StartVarsPartial draws every parameter and state from its initialiser with seed, then
// replaces those the checkpoint at path holds: greedy layer-wise pre-training starts a
// deeper model from a shallower one's weights (dlc run --init W --init-partial). A name in
// both with another shape is an error. It returns, for the run's report, the names it
// left drawn and the checkpoint's names this model does not have (ignored).
func StartVarsPartial(tr *Trainer, path string, seed int64) (drawn, ignored []string, err error) {
	if err := tr.InitParams(seed); err != nil {
		return nil, nil, err
	}
	ts, _, err := checkpoint.Load(path)
	if err != nil {
		return nil, nil, err
	}
	vars := maps.Clone(tr.Vars)
	for n, t := range ts {
		if strings.HasPrefix(n, optPrefix) {
			continue // the run's optimisers start afresh, as with --init
		}
		if _, ok := vars[n]; !ok {
			ignored = append(ignored, n)
			continue
		}
		vars[n] = &runtime.Tensor{Shape: t.Shape, Data: t.Data}
	}
	for n := range vars {
		if _, ok := ts[n]; !ok {
			drawn = append(drawn, n)
		}
	}
	slices.Sort(drawn)
	slices.Sort(ignored)
	if len(drawn) == len(vars) {
		// Training from scratch with exit 0 would hide that the names do not line up.
		return nil, nil, fmt.Errorf("--init %s --init-partial: none of the file's tensors is one of the model's, so nothing would be loaded; the file holds %s; the model expects %s",
			path, nameList(ignored), nameList(drawn))
	}
	if err := tr.SetVars(vars); err != nil {
		return nil, nil, fmt.Errorf("--init %s: %v", path, err)
	}
	return drawn, ignored, nil
}

// SaveVars writes the parameters, the state and the optimisers' state as a safetensors
// file, atomically, without the run state that --resume needs (Train writes that).
func SaveVars(tr *Trainer, path, source string) error {
	return saveCheckpoint(tr, path, source, nil)
}

func phasesString(tr *Trainer) string {
	var parts []string
	for _, ph := range tr.Spec.Phases {
		s := ph.Step
		if ph.Repeat > 1 {
			s += fmt.Sprintf(" ×%d", ph.Repeat)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func optString(tr *Trainer) string {
	var parts []string
	seen := map[string]bool{}
	for _, ph := range tr.Spec.Phases {
		s := ph.Optimizer.Source()
		if !seen[s] {
			seen[s] = true
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]float64) []string { return slices.Sorted(maps.Keys(m)) }

// namedString formats values as "  PREFIXname value" pairs in name order.
func namedString(prefix string, values map[string]float64) string {
	s := ""
	for _, k := range sortedKeys(values) {
		s += fmt.Sprintf("  %s%s %.4f", prefix, k, values[k])
	}
	return s
}

// nameList lists sorted names, the first eight of them when there are more.
func nameList(names []string) string {
	if len(names) == 0 {
		return "no tensors"
	}
	if len(names) > 8 {
		return fmt.Sprintf("%s, … (%d in all)", strings.Join(names[:8], ", "), len(names))
	}
	return strings.Join(names, ", ")
}
