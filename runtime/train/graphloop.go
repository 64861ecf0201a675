package train

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/report"
)

// Training a model that takes a graph (compiler/graphtask.go lowers its functions). The
// train spec's Task says the level:
//
//   - node: one full-graph step per epoch. The loss covers the labelled nodes (the spec's
//     "labelled" split: explicit nodes, k per class, or a fraction, drawn with the run's
//     seed); evaluation covers every other node with a known label.
//   - graph: the data is a set of small graphs; an epoch is a pass over them in batches of
//     spec.Batch graphs, each batch their disjoint union. The test set is the test source.
//   - link: SplitEdges holds out the spec's TestEdges fraction of the edges with as many
//     sampled non-edges; each epoch is one full-graph step scoring every training edge
//     against as many fresh non-edges. The test metric is the AUROC of the held-out pairs.
//
// The spec's Feeds say what each input of the functions gets: the node features, one of
// the graph's arrays, the scored pairs, or the rows the loss covers and their targets.
//
// A graph run is spread over files by idea: this one runs the epochs (start, each epoch,
// finish); graphrun.go loads and splits the data, graphepoch.go trains an epoch of each
// task and evaluates, graphfeed.go makes the functions' inputs, graphresume.go and
// graphmemory.go add a checkpoint's data identity and the memory estimate.

// TrainGraph runs the train spec of a graph model as o says. It starts, resumes and
// interrupts as Train does (graphresume.go says what a graph run's checkpoint adds).
func TrainGraph(tr *Trainer, o RunOptions) error {
	spec, out := applyRunOptions(tr, o)
	if err := checkOutputs(o, spec); err != nil {
		return err
	}
	run, resumed, first, progress, err := startGraphRun(tr, o, spec, out)
	if err != nil {
		return err
	}
	metrics, err := openMetrics(o.Metrics, resumed)
	if err != nil {
		return err
	}
	if metrics != nil {
		defer metrics.Close()
	}
	if err := run.checkMemory(o, out); err != nil {
		return err
	}
	l := newGraphLoop(run, o, out, metrics)
	stay, saved := standing(tr, spec, first-1, run.pcg, progress), false
	stay.Graph = run.id
	for epoch := first; epoch <= spec.Epochs; epoch++ {
		if o.Steps > 0 && tr.Steps >= o.Steps {
			break
		}
		if err := l.epochFrom(epoch, progress); err != nil {
			return err
		}
		progress, saved = &EpochProgress{}, o.Save != ""
	}
	return l.finish(stay, saved)
}

// graphLoop is a graph run under way: what its epochs share.
type graphLoop struct {
	tr      *Trainer
	run     *graphRun
	spec    *ir.TrainSpec
	o       RunOptions
	out     io.Writer
	metrics *os.File // --metrics, or nil
	// Progress: for a set of graphs, the graphs done of each epoch after every step, as a
	// supervised run reports its samples; for one graph, whose epoch is one step, the epochs
	// done of the run, before the step (so that a bar shows during it) and after. The
	// callback and its map are made once: a full-graph epoch is one step.
	epoch                 int
	step                  func(done, total int, loss float64)
	losses                map[string]float64
	trainCurve, testCurve []float64
}

func newGraphLoop(run *graphRun, o RunOptions, out io.Writer, metrics *os.File) *graphLoop {
	l := &graphLoop{tr: run.tr, run: run, spec: run.tr.Spec, o: o, out: out, metrics: metrics, losses: map[string]float64{}}
	if o.Progress != nil {
		phase := l.spec.Phases[0].Name
		l.step = func(done, total int, loss float64) {
			l.losses[phase] = loss
			if run.task != ir.TaskGraph {
				done, total = l.epoch, l.spec.Epochs
			}
			o.Progress(l.epoch, done, total, l.losses)
		}
	}
	return l
}

// epochFrom runs epoch `epoch` from progress, which it updates: it trains, then stops the
// run with ErrInterrupted if o.Stop ended the epoch part-way, else reports the epoch and
// saves the checkpoint.
func (l *graphLoop) epochFrom(epoch int, progress *EpochProgress) error {
	tr, run := l.tr, l.run
	// The generator's state before the epoch's draws rebuilds them on resume.
	rngStart, _ := run.pcg.MarshalBinary()
	loss, samples, complete, secs, err := l.train(epoch, progress)
	if err != nil {
		return err
	}
	// Where a checkpoint written now continues: after this epoch, or inside it.
	here := &runState{Seed: l.spec.Seed, Shuffle: l.spec.Shuffle, Steps: tr.Steps, Epoch: epoch, Cursor: tr.cursor, Turns: tr.turns, Runs: tr.programRuns(), Graph: run.id}
	if complete {
		here.RNG, _ = run.pcg.MarshalBinary()
	} else {
		here.Epoch, here.RNG, here.Progress = epoch-1, rngStart, progress
	}
	if l.o.Stop != nil && l.o.Stop() && !complete {
		if run.task == ir.TaskGraph {
			fmt.Fprintf(l.out, "interrupted at step %d (epoch %d, %d of %d graphs)\n", tr.Steps, epoch, samples, run.set.Len())
		} else {
			fmt.Fprintf(l.out, "interrupted at step %d, after epoch %d\n", tr.Steps, epoch-1)
		}
		return saveInterrupted(tr, l.o, l.out, here)
	}
	if err := l.report(epoch, loss, samples, secs); err != nil {
		return err
	}
	if l.o.Save == "" {
		return nil
	}
	if complete {
		// A resumed run redoes an incomplete epoch's evaluation, not a complete one's.
		here.withRuns(tr)
	}
	return saveCheckpoint(tr, l.o.Save, l.o.Source, here)
}

// train trains the epoch and returns what run.epochFrom does and the seconds it took. The
// progress callback is told of a full-graph epoch before its step as well, so that a bar
// shows while the step runs.
func (l *graphLoop) train(epoch int, progress *EpochProgress) (loss float64, samples int, complete bool, secs float64, err error) {
	l.epoch = epoch
	start := time.Now()
	if l.o.Progress != nil && l.run.task != ir.TaskGraph {
		l.o.Progress(epoch, epoch-1, l.spec.Epochs, l.losses)
	}
	loss, samples, complete, err = l.run.epochFrom(progress, l.o.Steps, l.o.Stop, l.step)
	secs = time.Since(start).Seconds()
	if l.o.EpochDone != nil {
		l.o.EpochDone()
	}
	return loss, samples, complete, secs, err
}

// report evaluates after an epoch, prints the epoch's line, writes its metrics line and
// adds it to the loss curves.
func (l *graphLoop) report(epoch int, loss float64, samples int, secs float64) error {
	rec := EpochRecord{Epoch: epoch, TrainLoss: loss, Seconds: secs, Samples: samples, Steps: l.tr.Steps}
	line := fmt.Sprintf("epoch %d/%d  train_loss %.5f", epoch, l.spec.Epochs, loss)
	if l.run.hasTest() {
		tl, m, err := l.run.evaluate()
		if err != nil {
			return err
		}
		rec.TestLoss, rec.TestMetrics = &tl, m
		line += fmt.Sprintf("  test_loss %.5f", tl) + namedString("test_", m)
		l.testCurve = append(l.testCurve, tl)
	}
	l.trainCurve = append(l.trainCurve, loss)
	line += fmt.Sprintf("  %.3fs", secs)
	fmt.Fprintln(l.out, line)
	if l.metrics != nil {
		b, _ := json.Marshal(rec)
		if _, err := fmt.Fprintf(l.metrics, "%s\n", b); err != nil {
			return fmt.Errorf("--metrics: %v", err)
		}
	}
	return nil
}

// finish ends the run: a run of no epochs evaluates, and one that saved no epoch saves
// where it stood (stay); then the loss curve.
func (l *graphLoop) finish(stay *runState, saved bool) error {
	o, out := l.o, l.out
	if l.spec.Epochs == 0 && l.run.hasTest() {
		tl, m, err := l.run.evaluate()
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "evaluation  test_loss %.5f%s\n", tl, namedString("test_", m))
	}
	if o.Save != "" {
		if !saved {
			if err := saveCheckpoint(l.tr, o.Save, o.Source, stay); err != nil {
				return err
			}
		}
		fmt.Fprintf(out, "wrote weights to %s\n", o.Save)
	}
	return graphLossCurve(o, l.trainCurve, l.testCurve, out)
}

// graphLossCurve writes a graph run's picture, its loss curve (the test curve is the
// evaluated nodes', the held-out pairs' or the test graphs'), when o asks for pictures.
func graphLossCurve(o RunOptions, trainCurve, testCurve []float64, out io.Writer) error {
	if o.OutDir == "" || len(trainCurve) == 0 {
		return nil
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return err
	}
	base := strings.TrimSuffix(filepath.Base(o.Source), filepath.Ext(o.Source))
	series := map[string][]float64{"train": trainCurve}
	if len(testCurve) == len(trainCurve) {
		series["test"] = testCurve
	}
	path := filepath.Join(o.OutDir, base+"-loss.png")
	if err := report.LossCurve(path, base+": loss per epoch", series); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote loss curve to %s\n", path)
	return nil
}
