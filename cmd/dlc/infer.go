package main

import (
	"bytes"
	"flag"
	"fmt"
	"github.com/dlc-lang/dlc/ir"
	"io"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/data"
	"github.com/dlc-lang/dlc/runtime/report"
	dlctrain "github.com/dlc-lang/dlc/runtime/train"
)

// Inference commands: sample from a trained generator, and score a generator with a
// trained classifier. Both load a checkpoint written by dlc run --save.

// loadTrained compiles file and loads the checkpoint at init into a trainer.
func loadTrained(file, init, what string, stderr io.Writer) (*dlctrain.Trainer, error) {
	m, err := compileFile(file, true, stderr)
	if err != nil {
		return nil, err
	}
	if m.Train == nil {
		return nil, fmt.Errorf("%s: no train block: %s needs the family it trains", file, what)
	}
	tr, err := dlctrain.NewTrainer(m)
	if err != nil {
		return nil, err
	}
	if init == "" {
		fmt.Fprintf(stderr, "dlc %s: --init CHECKPOINT is required (the weights dlc run --save wrote)\n", what)
		return nil, errUsage
	}
	if err := dlctrain.StartVars(tr, init, 0); err != nil {
		return nil, err
	}
	return tr, nil
}

// parseLabels reads --label 3 or --label 0,1,2 (nil for "").
func parseLabels(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(f), "%d", &n); err != nil || n < 0 {
			return nil, fmt.Errorf("--label %q: want class numbers ≥ 0 separated by commas", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func cmdSample(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sample", flag.ContinueOnError)
	init := fs.String("init", "", "the generator's checkpoint (from dlc run --save)")
	n := fs.Int("n", 64, "how many samples")
	out := fs.String("o", "samples.png", "where to write them: a PNG grid, or a .npy array [n, …] when the name ends in .npy")
	seed := fs.Uint64("seed", 1, "seed of the noise")
	label := fs.String("label", "", "for a conditional generator: the class of every sample, or a list (0,1,2) to cycle through")
	file, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	if *n < 1 {
		fmt.Fprintf(stderr, "dlc sample: -n %d, want at least 1\n", *n)
		return errUsage
	}
	labels, err := parseLabels(*label)
	if err != nil {
		fmt.Fprintf(stderr, "dlc sample: %v\n", err)
		return errUsage
	}
	tr, err := loadTrained(file, *init, "sample", stderr)
	if err != nil {
		return err
	}
	imgs, err := tr.Sample(*n, rand.New(rand.NewPCG(*seed, 0x73616d70)), labels)
	if err != nil {
		return err
	}
	if strings.HasSuffix(*out, ".npy") {
		if err := writeNPYFile(*out, imgs.T); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %d samples %v to %s\n", *n, imgs.T.Shape, *out)
		return nil
	}
	lo, hi := tr.DataRange()
	h, w := imgs.ImageSize()
	if err := report.ImageGrid(*out, imgs.Rows(), h, w, 8, float32(lo), float32(hi)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d samples to %s\n", *n, *out)
	return nil
}

func cmdScore(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("score", flag.ContinueOnError)
	init := fs.String("init", "", "the generator's checkpoint")
	clsFile := fs.String("classifier", "", "the classifier's .dl file (a model trained with cross_entropy)")
	clsInit := fs.String("classifier-init", "", "the classifier's checkpoint")
	n := fs.Int("n", 10000, "how many samples to classify")
	seed := fs.Uint64("seed", 1, "seed of the noise")
	label := fs.String("label", "", "for a conditional generator: the classes to request, cycled (default: every class in turn)")
	file, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	if *clsFile == "" || *n < 1 {
		fmt.Fprintf(stderr, "dlc score: want --classifier FILE --classifier-init CHECKPOINT and -n ≥ 1\n")
		return errUsage
	}
	labels, err := parseLabels(*label)
	if err != nil {
		fmt.Fprintf(stderr, "dlc score: %v\n", err)
		return errUsage
	}
	gen, err := loadTrained(file, *init, "score", stderr)
	if err != nil {
		return err
	}
	cls, err := loadTrained(*clsFile, *clsInit, "score", stderr)
	if err != nil {
		return err
	}
	if fn, ok := gen.Spec.Role(ir.RoleSample); labels == nil && ok && gen.Module.Func(fn) != nil && len(gen.Module.Func(fn).Inputs) == 2 {
		labels = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	}
	res, err := dlctrain.Score(gen, cls, *n, rand.New(rand.NewPCG(*seed, 0x73636f72)), labels)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "samples %d  mean confidence %.4f\n", res.N, res.Confidence)
	lo, hi := 1.0, 0.0
	for c, s := range res.Shares {
		fmt.Fprintf(stdout, "class %d  %.2f%%\n", c, 100*s)
		lo, hi = min(lo, s), max(hi, s)
	}
	fmt.Fprintf(stdout, "share min %.2f%%  max %.2f%%\n", 100*lo, 100*hi)
	if labels != nil {
		fmt.Fprintf(stdout, "classified as the requested label %.2f%%\n", 100*res.Agree)
	}
	return nil
}

func cmdApply(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	init := fs.String("init", "", "the checkpoint (from dlc run --save)")
	block := fs.String("block", "", "the function to run: a block (an encoder), a family function (AE.reconstruct), or a family role (encode, decode, reconstruct, corrupt, score)")
	in := fs.String("in", "", "input rows, a .npy array [N, …]")
	which := fs.String("data", "", "instead of --in: the train block's data set, train or test")
	n := fs.Int("n", 0, "use only the first n input rows (default all)")
	out := fs.String("out", "", "where to write the outputs, a .npy array")
	grid := fs.String("grid", "", "also write a PNG grid of the first 32 inputs above their outputs (outputs of the inputs' size)")
	target := fs.String("target", "", "print the outputs' mean squared error against these rows: a .npy array, or train or test (the data set's first rows)")
	batch := fs.Int("batch", 500, "rows per run")
	pairs := fs.String("pairs", "", "a link model: the node pairs to score, a CSV with a header line src,dst or an integer .npy [P, 2] (default: the run's held-out test pairs)")
	writePairs := fs.String("write-pairs", "", "a link model: also write the pairs scored, as a CSV src,dst (and label, for the test pairs)")
	file, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	if done, err := applyGraph(file, *init, *block, *in, *which, *out, *grid, *target, *pairs, *writePairs, stdout, stderr); done {
		return err
	}
	if *pairs != "" || *writePairs != "" {
		fmt.Fprintf(stderr, "dlc apply: --pairs and --write-pairs are for a link model; %s is not a graph model\n", file)
		return errUsage
	}
	if *block == "" || (*in == "") == (*which == "") || *out == "" || *batch < 1 {
		fmt.Fprintf(stderr, "dlc apply: want --block NAME --init W, the inputs as --in X.npy or --data train|test, and --out Y.npy\n")
		return errUsage
	}
	if *which != "" {
		if err := checkSplit("apply", *which, stderr); err != nil {
			return err
		}
	}
	if dlctrain.SameFile(*out, *in) || dlctrain.SameFile(*out, file) || dlctrain.SameFile(*out, *init) ||
		(*grid != "" && (dlctrain.SameFile(*grid, *in) || dlctrain.SameFile(*grid, file) || dlctrain.SameFile(*grid, *init) || dlctrain.SameFile(*grid, *out))) {
		fmt.Fprintf(stderr, "dlc apply: --out or --grid names one of the inputs or the other output; refusing to overwrite it\n")
		return errUsage
	}
	tr, err := loadTrained(file, *init, "apply", stderr)
	if err != nil {
		return err
	}
	var x *runtime.Tensor
	if *in != "" {
		d, shape, err := data.NPY(*in)
		if err != nil {
			return err
		}
		x = &runtime.Tensor{Shape: shape, Data: d}
	} else {
		set, err := loadSplit(tr, file, *which, "apply", stderr)
		if err != nil {
			return err
		}
		x = dlctrain.SetTensor(set)
	}
	if *n > 0 && len(x.Shape) > 0 && *n < x.Shape[0] {
		row := len(x.Data) / x.Shape[0]
		x = &runtime.Tensor{Shape: append([]int{*n}, x.Shape[1:]...), Data: x.Data[:*n*row]}
	}
	fn := *block
	var y *runtime.Tensor
	if role, isRole := ir.ParseRole(fn); tr.Module.Func(fn) == nil && isRole {
		// A role names the family's function for it: reconstruct is AE.reconstruct.
		y, err = tr.ApplyRole(role, x, *batch)
		fn, _ = tr.Spec.Role(role)
	} else {
		y, err = tr.ApplyBlock(fn, x, *batch)
	}
	if err != nil {
		return fmt.Errorf("apply %s: %v", *block, err)
	}
	if *target != "" {
		mse, err := targetMSE(tr, file, *target, y, stderr)
		if err != nil {
			return err
		}
		defer fmt.Fprintf(stdout, "mean squared error against %s: %.6g per value\n", *target, mse)
	}
	if *grid != "" && len(y.Data) != len(x.Data) {
		return fmt.Errorf("--grid: %s gives %d values a row for inputs of %d; a grid shows outputs of the inputs' size under them", fn, len(y.Data)/max(y.Shape[0], 1), len(x.Data)/max(x.Shape[0], 1))
	}
	if err := writeNPYFile(*out, y); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s %v to %s\n", fn, y.Shape, *out)
	if *grid == "" {
		return nil
	}
	k := min(32, x.Shape[0])
	xs, ys := dlctrain.Images{T: x}.Rows()[:k], dlctrain.Images{T: y}.Rows()[:k]
	h, w := dlctrain.Images{T: x}.ImageSize()
	lo, hi := tr.DataRange()
	if err := report.StackedGrid(*grid, [][][]float32{xs, ys}, h, w, 8, float32(lo), float32(hi)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d inputs above their outputs to %s\n", k, *grid)
	return nil
}

// targetMSE is the mean squared difference between y's rows and the first rows of target:
// a .npy file, or the train block's train or test set.
func targetMSE(tr *dlctrain.Trainer, file, target string, y *runtime.Tensor, stderr io.Writer) (float64, error) {
	var t []float32
	if target == "train" || target == "test" {
		set, err := loadSplit(tr, file, target, "apply", stderr)
		if err != nil {
			return 0, err
		}
		t = set.X
	} else {
		d, _, err := data.NPY(target)
		if err != nil {
			return 0, err
		}
		t = d
	}
	if len(t) < len(y.Data) {
		return 0, fmt.Errorf("--target %s holds %d values, fewer than the %d outputs", target, len(t), len(y.Data))
	}
	row := len(y.Data) / max(y.Shape[0], 1)
	if len(t)%row != 0 {
		return 0, fmt.Errorf("--target %s: %d values are not rows of the outputs' %d", target, len(t), row)
	}
	sum := 0.0
	for k, v := range y.Data {
		d := float64(v) - float64(t[k])
		sum += d * d
	}
	return sum / float64(len(y.Data)), nil
}

// writeNPYFile writes t as a .npy file, atomically.
func writeNPYFile(path string, t *runtime.Tensor) error {
	var buf bytes.Buffer
	if err := data.WriteNPY(&buf, t.Shape, t.Data); err != nil {
		return err
	}
	return writeFileAtomic(path, buf.Bytes())
}

// applyGraph runs dlc apply for a graph model: its predictions over the train block's graph
// data (a row per node, or per graph of a set), or a link model's probabilities for node
// pairs. done is false for any other model.
func applyGraph(file, init, block, in, which, out, grid, target, pairs, writePairs string, stdout, stderr io.Writer) (done bool, err error) {
	m, err := compileFile(file, true, io.Discard)
	if err != nil || m.Train == nil || !m.Train.Task.IsGraph() {
		return false, nil // reported, if at all, by the general path
	}
	fn, _ := m.Train.Role(ir.RolePredict)
	link := m.Train.Task == ir.TaskLink
	if in != "" || grid != "" || target != "" || (which != "" && which != "train") || (block != "" && block != fn) || out == "" {
		if link {
			fmt.Fprintf(stderr, "dlc apply: %s is a link model: want --init W --out P.npy (and at most --block %s, --pairs PAIRS.csv|PAIRS.npy, --write-pairs PAIRS.csv); it scores node pairs, by default the run's held-out test pairs\n", file, fn)
		} else {
			fmt.Fprintf(stderr, "dlc apply: %s is a graph model: want --init W --out Y.npy (and at most --data train, --block %s); it predicts over the train block's graph data\n", file, fn)
		}
		return true, errUsage
	}
	if !link && (pairs != "" || writePairs != "") {
		fmt.Fprintf(stderr, "dlc apply: --pairs and --write-pairs are for a link model; %s predicts over its graph data\n", file)
		return true, errUsage
	}
	for _, o := range []string{out, writePairs} {
		if o != "" && (dlctrain.SameFile(o, file) || dlctrain.SameFile(o, init) || (pairs != "" && dlctrain.SameFile(o, pairs))) {
			fmt.Fprintf(stderr, "dlc apply: --out or --write-pairs %s names one of the inputs; refusing to overwrite it\n", o)
			return true, errUsage
		}
	}
	if writePairs != "" && dlctrain.SameFile(out, writePairs) {
		fmt.Fprintf(stderr, "dlc apply: --out and --write-pairs name one file\n")
		return true, errUsage
	}
	tr, err := loadTrained(file, init, "apply", stderr)
	if err != nil {
		return true, err
	}
	if link {
		return true, applyLink(tr, init, pairs, writePairs, out, stdout)
	}
	y, err := dlctrain.PredictGraph(tr)
	if err != nil {
		return true, fmt.Errorf("apply %s: %v", fn, err)
	}
	if err := writeNPYFile(out, y); err != nil {
		return true, err
	}
	fmt.Fprintf(stdout, "wrote %s %v to %s\n", fn, y.Shape, out)
	return true, nil
}

// applyLink writes a link model's probability for each pair, the sigmoid of its logit,
// over the graph it was trained on. Without a pairs file it scores the run's held-out
// test pairs (split with the seed the checkpoint's run state holds) and prints their
// AUROC, which is the one dlc run printed for the same weights.
func applyLink(tr *dlctrain.Trainer, init, pairsPath, writePairs, out string, stdout io.Writer) error {
	fn, _ := tr.Spec.Role(ir.RolePredict)
	seed, ok, err := dlctrain.CheckpointSeed(init)
	if err != nil {
		return err
	}
	if !ok {
		seed = tr.Spec.Seed
	}
	s, err := dlctrain.NewLinkScorer(tr, seed)
	if err != nil {
		return err
	}
	var p data.Pairs
	what := ""
	if pairsPath != "" {
		if p, err = readPairs(pairsPath, s.Nodes()); err != nil {
			return err
		}
		what = fmt.Sprintf("the %d pairs of %s", p.Len(), pairsPath)
	} else {
		p = s.TestPairs()
		what = fmt.Sprintf("the held-out test pairs (%d edges, then as many non-edges; seed %d)", p.Len()/2, seed)
	}
	logits, err := s.Logits(p)
	if err != nil {
		return fmt.Errorf("apply %s: %v", fn, err)
	}
	probs := make([]float32, len(logits))
	for i, v := range logits {
		probs[i] = float32(1 / (1 + math.Exp(-float64(v))))
	}
	if err := writeNPYFile(out, &runtime.Tensor{Shape: []int{len(probs)}, Data: probs}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s's edge probabilities (the sigmoid of its logits) for %s, [%d], to %s\n", fn, what, len(probs), out)
	if pairsPath == "" {
		auroc, err := dlctrain.PairsAUROC(logits, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "test pairs: AUROC %.4f\n", auroc)
	}
	if writePairs == "" {
		return nil
	}
	var b strings.Builder
	b.WriteString("src,dst")
	if pairsPath == "" {
		b.WriteString(",label")
	}
	b.WriteString("\n")
	for i := range p.Src {
		fmt.Fprintf(&b, "%d,%d", p.Src[i], p.Dst[i])
		if pairsPath == "" {
			fmt.Fprintf(&b, ",%.0f", p.Label[i])
		}
		b.WriteString("\n")
	}
	if err := writeFileAtomic(writePairs, []byte(b.String())); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote the %d pairs to %s\n", p.Len(), writePairs)
	return nil
}
