package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/checkpoint"
	"github.com/dlc-lang/dlc/runtime/data"
	"github.com/dlc-lang/dlc/runtime/report"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

type runFlags struct {
	epochs   int
	steps    int
	seed     int64
	shuffle  bool
	init     string
	save     string
	metrics  string
	out      string
	noOpt    bool
	progress string
}

func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var f runFlags
	fs.IntVar(&f.epochs, "epochs", -1, "number of epochs (default: the train block's); 0 only evaluates")
	fs.IntVar(&f.steps, "steps", 0, "stop after this many optimiser steps (0: no limit)")
	fs.Int64Var(&f.seed, "seed", -1, "random seed for initialisation and shuffling (default: the train block's)")
	fs.BoolVar(&f.shuffle, "shuffle", true, "shuffle the training data each epoch (and the train block says so)")
	fs.StringVar(&f.init, "init", "", "start from the weights in this .safetensors file")
	fs.StringVar(&f.save, "save", "", "write the trained weights to this .safetensors file (atomically)")
	fs.StringVar(&f.metrics, "metrics", "", "write one JSON line per epoch to this file")
	fs.StringVar(&f.out, "out", ".", "directory for the pictures (loss curve, reconstructions)")
	fs.BoolVar(&f.noOpt, "O0", false, "do not optimise the IR (no fusion); for comparisons")
	fs.StringVar(&f.progress, "progress", "auto", "progress bar: auto (when stderr is a terminal), always or never")
	file, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	if f.progress != "auto" && f.progress != "always" && f.progress != "never" {
		fmt.Fprintf(stderr, "dlc run: --progress %q, want auto, always or never\n", f.progress)
		return errUsage
	}
	m, err := compileFile(file, !f.noOpt, stderr)
	if err != nil {
		return err
	}
	if m.Train == nil {
		return fmt.Errorf("%s: no train block: nothing to run", file)
	}
	return train(file, m, f, stdout, stderr)
}

type epochMetrics struct {
	Epoch     int      `json:"epoch"`
	TrainLoss float64  `json:"train_loss"`
	TestLoss  *float64 `json:"test_loss,omitempty"`
	// TestMetrics are the family's own metrics on the test set, e.g. test_accuracy.
	TestMetrics map[string]float64 `json:"-"`
	Seconds     float64            `json:"seconds"`
	Samples     int                `json:"samples"`
	Steps       int                `json:"steps"`
}

func train(file string, m *ir.Module, f runFlags, stdout, stderr io.Writer) error {
	spec := m.Train
	if f.epochs >= 0 {
		spec.Epochs = f.epochs
	}
	if f.seed >= 0 {
		spec.Seed = f.seed
	}
	spec.Shuffle = spec.Shuffle && f.shuffle
	tr, err := runtime.NewTrainer(m)
	if err != nil {
		return err
	}
	if err := startParams(tr, f.init, spec.Seed); err != nil {
		return err
	}
	trainSet, err := runtime.LoadData(spec.Data)
	if err != nil {
		return err
	}
	var testSet *data.Set
	if spec.Test != nil {
		if testSet, err = runtime.LoadData(*spec.Test); err != nil {
			return err
		}
	}
	var metrics *os.File
	if f.metrics != "" {
		if metrics, err = os.Create(f.metrics); err != nil {
			return fmt.Errorf("--metrics: %v", unwrap(err))
		}
		defer metrics.Close()
	}
	showBar := f.progress == "always" || (f.progress == "auto" && isTerminal(stderr))
	rng := rand.New(rand.NewPCG(uint64(spec.Seed), 0x73687566))
	fmt.Fprintf(stdout, "training %s: %d samples, batch %d, %d epochs, %s\n", spec.Step, trainSet.Len(), spec.Batch, spec.Epochs, optString(spec.Optimizer))
	var trainCurve, testCurve []float64
	for epoch := 1; epoch <= spec.Epochs; epoch++ {
		if f.steps > 0 && tr.Steps >= f.steps {
			break
		}
		var bar *progressbar.ProgressBar
		if showBar {
			bar = progressbar.NewOptions(trainSet.Len(), progressbar.OptionSetWriter(stderr),
				progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", epoch, spec.Epochs)),
				progressbar.OptionShowIts(), progressbar.OptionSetItsString("samples"),
				progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		}
		start := time.Now()
		st, err := tr.Epoch(trainSet, rng, spec.Shuffle, f.steps, func(done, total int, loss float64) {
			if bar != nil {
				bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f", epoch, spec.Epochs, loss))
				bar.Set(done)
			}
		})
		secs := time.Since(start).Seconds()
		if bar != nil {
			bar.Finish()
		}
		if err != nil {
			return err
		}
		rec := epochMetrics{Epoch: epoch, TrainLoss: st.Loss, Seconds: secs, Samples: st.Samples, Steps: st.Steps}
		line := fmt.Sprintf("epoch %d/%d  train_loss %.5f", epoch, spec.Epochs, st.Loss)
		testLoss := 0.0
		if testSet != nil {
			var metrics map[string]float64
			if testLoss, metrics, err = tr.Evaluate(testSet, 500); err != nil {
				return err
			}
			rec.TestLoss, rec.TestMetrics = &testLoss, metrics
			line += fmt.Sprintf("  test_loss %.5f", testLoss) + metricsString(metrics)
		}
		line += fmt.Sprintf("  %.1fs  %.0f samples/s", secs, float64(st.Samples)/secs)
		fmt.Fprintln(stdout, line)
		trainCurve = append(trainCurve, st.Loss)
		testCurve = append(testCurve, testLoss)
		if metrics != nil {
			b, err := rec.MarshalJSON()
			if err != nil {
				return fmt.Errorf("--metrics: %v", err)
			}
			if _, err := fmt.Fprintf(metrics, "%s\n", b); err != nil {
				return fmt.Errorf("--metrics: %v", err)
			}
		}
	}
	if spec.Epochs == 0 && testSet != nil {
		testLoss, metrics, err := tr.Evaluate(testSet, 500)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "evaluation  test_loss %.5f%s\n", testLoss, metricsString(metrics))
	}
	if f.save != "" {
		if err := saveParams(tr, f.save, file); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote weights to %s\n", f.save)
	}
	return pictures(file, tr, trainCurve, testCurve, testSet, trainSet, f.out, stdout)
}

// startParams loads the parameters from a checkpoint when one is given, else draws them
// from their initialisers with seed.
func startParams(tr *runtime.Trainer, path string, seed int64) error {
	if path == "" {
		return tr.InitParams(seed)
	}
	ts, _, err := checkpoint.Load(path)
	if err != nil {
		return err
	}
	params := map[string]*runtime.Tensor{}
	for n, t := range ts {
		params[n] = &runtime.Tensor{Shape: t.Shape, Data: t.Data}
	}
	if err := tr.SetParams(params); err != nil {
		return fmt.Errorf("--init %s: %v", path, err)
	}
	return nil
}

// saveParams writes the trained parameters as a safetensors file, atomically.
func saveParams(tr *runtime.Trainer, path, source string) error {
	ts := map[string]checkpoint.Tensor{}
	for n, p := range tr.Params {
		ts[n] = checkpoint.Tensor{Shape: p.Shape, Data: p.Data}
	}
	meta := map[string]string{"dlc.source": source, "dlc.steps": fmt.Sprint(tr.Steps)}
	return checkpoint.Save(path, ts, meta)
}

// pictures writes the loss curve and, for an autoencoder, test images beside their
// reconstructions.
func pictures(file string, tr *runtime.Trainer, trainCurve, testCurve []float64, testSet, trainSet *data.Set, dir string, stdout io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	base := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	if len(trainCurve) > 0 {
		series := map[string][]float64{"train": trainCurve}
		if testSet != nil {
			series["test"] = testCurve
		}
		lossPath := filepath.Join(dir, base+"-loss.png")
		if err := report.LossCurve(lossPath, base+": loss per epoch", series); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote loss curve to %s\n", lossPath)
	}
	fn, ok := tr.Spec.Extra["reconstruct"]
	if !ok {
		return nil
	}
	set := testSet
	if set == nil {
		set = trainSet
	}
	n := min(16, set.Len())
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	out, err := tr.Apply(fn, set, idx)
	if err != nil {
		return err
	}
	row := set.XRow()
	h, w := imageSize(row)
	var orig, recon [][]float32
	for i := 0; i < n; i++ {
		orig = append(orig, set.X[i*row:(i+1)*row])
		recon = append(recon, out.Data[i*row:(i+1)*row])
	}
	path := filepath.Join(dir, base+"-recon.png")
	if err := report.PairGrid(path, orig, recon, h, w, 8); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote test images and reconstructions to %s\n", path)
	return nil
}

// imageSize guesses the height and width of a flattened image: square when it can be.
func imageSize(n int) (int, int) {
	for s := 1; s*s <= n; s++ {
		if s*s == n {
			return s, s
		}
	}
	return 1, n
}

func optString(o ir.OptSpec) string {
	s := o.Name + "("
	first := true
	for _, k := range sortedKeys(o.Args) {
		if !first {
			s += ", "
		}
		s += fmt.Sprintf("%s: %g", k, o.Args[k])
		first = false
	}
	return s + ")"
}

func sortedKeys(m map[string]float64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// metricsString formats metrics as "  test_NAME value" pairs in name order.
func metricsString(metrics map[string]float64) string {
	s := ""
	for _, k := range sortedKeys(metrics) {
		s += fmt.Sprintf("  test_%s %.4f", k, metrics[k])
	}
	return s
}

// MarshalJSON writes the record with each test metric as its own test_NAME field.
func (r epochMetrics) MarshalJSON() ([]byte, error) {
	type plain epochMetrics
	b, err := json.Marshal(plain(r))
	if err != nil || len(r.TestMetrics) == 0 {
		return b, err
	}
	extra := map[string]float64{}
	for k, v := range r.TestMetrics {
		extra["test_"+k] = v
	}
	e, err := json.Marshal(extra)
	if err != nil {
		return nil, err
	}
	return append(append(b[:len(b)-1], ','), e[1:]...), nil
}
