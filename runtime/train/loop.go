package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/atomicfile"
	"github.com/dlc-lang/dlc/runtime/checkpoint"
	"github.com/dlc-lang/dlc/runtime/data"
	"github.com/dlc-lang/dlc/runtime/report"
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
	// epochs: see TrainGraph).
	Out      io.Writer
	Progress func(epoch, done, total int, losses map[string]float64)
	// EpochDone, if set, is called when an epoch's progress is complete, before its line.
	EpochDone func()
	// Stop, if set, is asked before every step; once it says true (it must keep saying so),
	// the run stops, writes the checkpoint if Save is set and returns ErrInterrupted.
	Stop func() bool
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
	Seconds      float64
	Samples      int
	Steps        int
}

// MarshalJSON writes the record flat: epoch, train_loss, PHASE_loss…, train metrics under
// their names, test_loss, test_NAME…, seconds, samples, steps.
func (r EpochRecord) MarshalJSON() ([]byte, error) {
	m := map[string]any{"epoch": r.Epoch, "train_loss": r.TrainLoss, "seconds": r.Seconds, "samples": r.Samples, "steps": r.Steps}
	for k, v := range r.PhaseLosses {
		m[k+"_loss"] = v
	}
	for k, v := range r.TrainMetrics {
		m[k] = v
	}
	if r.TestLoss != nil {
		m["test_loss"] = *r.TestLoss
	}
	for k, v := range r.TestMetrics {
		m["test_"+k] = v
	}
	return json.Marshal(m)
}

// Train runs the module's train spec as o says.
func Train(tr *Trainer, o RunOptions) error {
	if tr.Spec.Task.IsGraph() {
		return TrainGraph(tr, o)
	}
	spec, out := applyRunOptions(tr, o)
	if err := checkOutputs(o, spec); err != nil {
		return err
	}
	rs, err := startRun(tr, o, spec)
	if err != nil {
		return err
	}
	trainSet, err := data.Load(spec.Data, data.Options{MNISTDir: o.MNISTDir})
	if err != nil {
		return err
	}
	var testSet *data.Set
	if spec.Test != nil {
		if testSet, err = data.Load(*spec.Test, data.Options{MNISTDir: o.MNISTDir}); err != nil {
			return err
		}
	}
	metrics, err := openMetrics(o.Metrics, rs != nil)
	if err != nil {
		return err
	}
	if metrics != nil {
		defer metrics.Close()
	}
	evalBatch := o.EvalBatch
	if evalBatch <= 0 {
		evalBatch = DefaultEvalBatch
	}
	pcg := rand.NewPCG(uint64(spec.Seed), 0x73687566)
	rng := rand.New(pcg)
	first, progress := 1, &EpochProgress{}
	fmt.Fprintf(out, "training %s: %d samples, batch %d, %d epochs, %s\n", phasesString(tr), trainSet.Len(), spec.Batch, spec.Epochs, optString(tr))
	if rs != nil {
		if err := pcg.UnmarshalBinary(rs.RNG); err != nil {
			return fmt.Errorf("--resume %s: dlc.run: shuffle generator: %v", o.Resume, err)
		}
		first = rs.Epoch + 1
		if rs.Progress != nil {
			progress = rs.Progress
		}
		fmt.Fprintf(out, "resuming %s at step %d, epoch %d (%d samples done)\n", o.Resume, tr.Steps, first, progress.Samples)
	}
	base := strings.TrimSuffix(filepath.Base(o.Source), filepath.Ext(o.Source))
	stay, saved := standing(tr, spec, first-1, pcg, progress), false
	var trainCurve, testCurve []float64
	for epoch := first; epoch <= spec.Epochs; epoch++ {
		if o.Steps > 0 && tr.Steps >= o.Steps {
			break
		}
		// The generator's state before the shuffle rebuilds this epoch's order on resume.
		rngStart, _ := pcg.MarshalBinary()
		start := time.Now()
		var step func(done, total int, losses map[string]float64)
		if o.Progress != nil {
			step = func(done, total int, losses map[string]float64) { o.Progress(epoch, done, total, losses) }
		}
		st, err := tr.EpochFrom(trainSet, rng, spec.Shuffle, progress, o.Steps, o.Stop, step)
		secs := time.Since(start).Seconds()
		if o.EpochDone != nil {
			o.EpochDone()
		}
		if err != nil {
			return err
		}
		// Where a checkpoint written now continues: after this epoch, or inside it.
		here := &runState{Seed: spec.Seed, Shuffle: spec.Shuffle, Steps: tr.Steps, Epoch: epoch, Cursor: tr.cursor, Turns: tr.turns, Runs: tr.programRuns()}
		if st.Complete {
			here.RNG, _ = pcg.MarshalBinary()
		} else {
			here.Epoch, here.RNG, here.Progress = epoch-1, rngStart, progress
		}
		progress = &EpochProgress{}
		if o.Stop != nil && o.Stop() && !st.Complete {
			fmt.Fprintf(out, "interrupted at step %d (epoch %d, %d of %d samples)\n", tr.Steps, epoch, st.Samples, trainSet.Len())
			return saveInterrupted(tr, o, out, here)
		}
		rec, line, err := epochReport(tr, epoch, st, secs, testSet, evalBatch)
		if err != nil {
			return err
		}
		testLoss := 0.0
		if rec.TestLoss != nil {
			testLoss = *rec.TestLoss
		}
		fmt.Fprintln(out, line)
		trainCurve = append(trainCurve, st.Loss)
		testCurve = append(testCurve, testLoss)
		if metrics != nil {
			b, err := json.Marshal(rec)
			if err != nil {
				return fmt.Errorf("--metrics: %v", err)
			}
			if _, err := fmt.Fprintf(metrics, "%s\n", b); err != nil {
				return fmt.Errorf("--metrics: %v", err)
			}
		}
		if o.OutDir != "" {
			if err := epochPictures(tr, o.OutDir, base, epoch, out); err != nil {
				return err
			}
		}
		if o.Save != "" {
			if st.Complete {
				// A resumed run redoes an incomplete epoch's pictures, not a complete one's.
				here.withRuns(tr)
			}
			if err := saveCheckpoint(tr, o.Save, o.Source, here); err != nil {
				return err
			}
			saved = true
		}
	}
	if spec.Epochs == 0 && testSet != nil {
		testLoss, m, err := tr.Evaluate(testSet, evalBatch)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "evaluation  test_loss %.5f%s\n", testLoss, namedString("test_", m))
	}
	if o.Save != "" {
		if !saved {
			if err := saveCheckpoint(tr, o.Save, o.Source, stay); err != nil {
				return err
			}
		}
		fmt.Fprintf(out, "wrote weights to %s\n", o.Save)
	}
	if o.OutDir == "" {
		return nil
	}
	return finalPictures(tr, o.OutDir, base, trainCurve, testCurve, testSet, trainSet, out)
}

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

// epochReport evaluates on the test set, if any, and returns an epoch's metrics record and
// its printed line.
func epochReport(tr *Trainer, epoch int, st EpochStats, secs float64, testSet *data.Set, evalBatch int) (EpochRecord, string, error) {
	spec := tr.Spec
	rec := EpochRecord{Epoch: epoch, TrainLoss: st.Loss, TrainMetrics: st.Metrics, Seconds: secs, Samples: st.Samples, Steps: st.Steps}
	line := fmt.Sprintf("epoch %d/%d  train_loss %.5f", epoch, spec.Epochs, st.Loss)
	if len(spec.Phases) > 1 {
		rec.PhaseLosses = st.Losses
		line = fmt.Sprintf("epoch %d/%d", epoch, spec.Epochs)
		for _, ph := range spec.Phases {
			line += fmt.Sprintf("  %s_loss %.4f", ph.Name, st.Losses[ph.Name])
		}
		line += namedString("", st.Metrics)
	}
	if testSet != nil {
		testLoss, m, err := tr.Evaluate(testSet, evalBatch)
		if err != nil {
			return rec, "", err
		}
		rec.TestLoss, rec.TestMetrics = &testLoss, m
		line += fmt.Sprintf("  test_loss %.5f", testLoss) + namedString("test_", m)
	}
	line += fmt.Sprintf("  %.1fs  %.0f samples/s", secs, float64(st.Samples)/secs)
	return rec, line, nil
}

// checkOutputs checks every output path before any work, and refuses one that is one of
// the run's inputs: an hour of training must not end in "cannot write", nor overwrite what
// it read.
func checkOutputs(o RunOptions, spec *ir.TrainSpec) error {
	if o.Resume != "" && o.Init != "" {
		return fmt.Errorf("--resume and --init: give one (--resume continues a run, --init starts one from trained weights)")
	}
	inputs := map[string]string{o.Source: "the .dl source", o.Init: "the --init checkpoint"}
	for _, d := range []*ir.DataSpec{&spec.Data, spec.Test} {
		if d != nil {
			for _, k := range []string{"path", "x", "y"} {
				if p := d.Args[k]; p != "" {
					inputs[p] = "a data file"
				}
			}
		}
	}
	for flag, p := range map[string]string{"--save": o.Save, "--metrics": o.Metrics} {
		if p == "" {
			continue
		}
		if o.Resume != "" && SameFile(o.Resume, p) {
			// Saving over the checkpoint being resumed is how a run goes on: it is read
			// whole before training, and replaced atomically.
			if flag == "--save" {
				continue
			}
			return fmt.Errorf("%s %s is the --resume checkpoint; refusing to overwrite it", flag, p)
		}
		for in, what := range inputs {
			if in != "" && SameFile(in, p) {
				return fmt.Errorf("%s %s is %s; refusing to overwrite it", flag, p, what)
			}
		}
		if err := atomicfile.CheckWritable(p); err != nil {
			// CheckWritable names the path already.
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%s %s: directory %s does not exist", flag, p, filepath.Dir(p))
			}
			return fmt.Errorf("%s %v", flag, err)
		}
	}
	return nil
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
	if err := tr.SetVars(vars); err != nil {
		return nil, nil, fmt.Errorf("--init %s: %v", path, err)
	}
	slices.Sort(drawn)
	slices.Sort(ignored)
	return drawn, ignored, nil
}

// SaveVars writes the parameters, the state and the optimisers' state as a safetensors
// file, atomically, without the run state that --resume needs (Train writes that).
func SaveVars(tr *Trainer, path, source string) error {
	return saveCheckpoint(tr, path, source, nil)
}

// epochPictures writes what a family shows after each epoch: a generative model's (a GAN's,
// a VAE's) samples from one fixed noise batch, in the data's range.
func epochPictures(tr *Trainer, dir, base string, epoch int, out io.Writer) error {
	if !tr.HasRole(ir.RoleSample) {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	imgs, err := tr.Sample(64, rand.New(rand.NewPCG(0x66697865, 0x64)), nil)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, base+"-samples.png")
	h, w := imgs.ImageSize()
	lo, hi := tr.DataRange() // samples look like the data: a VAE's in [0, 1], a GAN's in [−1, 1]
	if err := report.ImageGrid(path, imgs.Rows(), h, w, 8, float32(lo), float32(hi)); err != nil {
		return err
	}
	if epoch == 1 {
		fmt.Fprintf(out, "writing 64 samples from fixed noise to %s after every epoch\n", path)
	}
	return nil
}

// finalPictures writes the loss curve and, for a family that reconstructs, test images
// beside their reconstructions: with a corrupt function (a denoising autoencoder) the
// rows are the clean images, their corrupted versions and the reconstructions of those,
// so that the picture shows what the model was trained to undo.
func finalPictures(tr *Trainer, dir, base string, trainCurve, testCurve []float64, testSet, trainSet *data.Set, out io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if len(trainCurve) > 0 {
		series := map[string][]float64{"train": trainCurve}
		if testSet != nil {
			series["test"] = testCurve
		}
		lossPath := filepath.Join(dir, base+"-loss.png")
		if err := report.LossCurve(lossPath, base+": loss per epoch", series); err != nil {
			return err
		}
		fmt.Fprintf(out, "wrote loss curve to %s\n", lossPath)
	}
	if !tr.HasRole(ir.RoleReconstruct) {
		return nil
	}
	set := testSet
	if set == nil {
		set = trainSet
	}
	n, row := min(16, set.Len()), set.XRow()
	x := &runtime.Tensor{Shape: append([]int{n}, set.XShape[1:]...), Data: set.X[:n*row]}
	kinds := [][][]float32{rows(x)}
	what := "test images and reconstructions"
	if tr.HasRole(ir.RoleCorrupt) {
		noisy, err := tr.ApplyRole(ir.RoleCorrupt, x, n)
		if err != nil {
			return err
		}
		kinds = append(kinds, rows(noisy))
		x, what = noisy, "test images, corrupted, and the reconstructions of the corrupted"
	}
	recon, err := tr.ApplyRole(ir.RoleReconstruct, x, n)
	if err != nil {
		return err
	}
	if len(recon.Data) != n*row {
		return fmt.Errorf("reconstructions of %d values a sample, want the input's %d", len(recon.Data)/n, row)
	}
	kinds = append(kinds, rows(recon))
	path := filepath.Join(dir, base+"-recon.png")
	h, w := Images{T: x}.ImageSize()
	lo, hi := tr.DataRange()
	if err := report.StackedGrid(path, kinds, h, w, 8, float32(lo), float32(hi)); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s to %s\n", what, path)
	return nil
}

// rows returns each sample of a batch [n, …] as its values.
func rows(t *runtime.Tensor) [][]float32 { return Images{T: t}.Rows() }

// squareSize guesses the height and width of a flattened image: square when it can be.
func squareSize(n int) (int, int) {
	for s := 1; s*s <= n; s++ {
		if s*s == n {
			return s, s
		}
	}
	return 1, n
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
		o := ph.Optimizer
		s := o.Name + "("
		for i, k := range sortedKeys(o.Args) {
			if i > 0 {
				s += ", "
			}
			s += fmt.Sprintf("%s: %g", k, o.Args[k])
		}
		s += ")"
		if !seen[s] {
			seen[s] = true
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]float64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// namedString formats values as "  PREFIXname value" pairs in name order.
func namedString(prefix string, values map[string]float64) string {
	s := ""
	for _, k := range sortedKeys(values) {
		s += fmt.Sprintf("  %s%s %.4f", prefix, k, values[k])
	}
	return s
}
