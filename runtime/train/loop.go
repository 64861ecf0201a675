package train

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
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
