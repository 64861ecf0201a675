package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strings"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/report"
	"github.com/dlc-lang/dlc/runtime/train"
	"github.com/spf13/pflag"
)

type applyFlags struct {
	trainedFlags
	block, out, grid, target, pairs, writePairs string
	valueRange                                  string
	in                                          []string
	n                                           int
}

func (f *applyFlags) declare(fs *pflag.FlagSet) {
	f.declareTrained(fs, "the", "", "to run on instead of --in")
	fs.StringVar(&f.block, "block", "", "the function `NAME` to run: a block (an encoder), a family function (AE.reconstruct), a family role (encode, decode, reconstruct, corrupt, score), or an inner value of a block, named by its path of calls as parameters are (Club.h, Club.gcn0.aggregated)")
	fs.StringArrayVar(&f.in, "in", nil, "input rows, a .npy array [N, …]: `NAME=FILE` for the input NAME, once per input not fed by --data (FILE alone for a block of one input)")
	addCount(fs, &f.n, 0, "use only the first n input rows (default all)")
	fs.StringVar(&f.out, "out", "", "where to write the outputs, a .npy array `FILE`")
	fs.StringVar(&f.grid, "grid", "", "also write a PNG grid of the first 32 inputs above their outputs, each drawn at its own size (a code above the image it decodes to), to `FILE`")
	addRange(fs, &f.valueRange)
	fs.StringVar(&f.target, "target", "", "print the outputs' mean squared error against the rows of `TARGET`: a .npy array, or train or test (the data set's first rows)")
	fs.StringVar(&f.pairs, "pairs", "", "a link model: the node pairs to score, a `FILE`: a CSV with a header line src,dst or an integer .npy [P, 2] (default: the run's held-out test pairs)")
	fs.StringVar(&f.writePairs, "write-pairs", "", "a link model: also write the pairs scored to `FILE`, as a CSV src,dst (and label, for the test pairs)")
}

func (s *session) apply(_ *pflag.FlagSet, file string, f applyFlags) error {
	s.data = f.dataOptions()
	if err := declareOutputs(output{"--out", f.out}, output{"--grid", f.grid}, output{"--write-pairs", f.writePairs}); err != nil {
		return err
	}
	if done, err := s.applyGraph(file, f); done {
		return err
	}
	if f.pairs != "" || f.writePairs != "" {
		return usagef("--pairs and --write-pairs are for a link model; %s is not a graph model", file)
	}
	files := make([]train.InputFile, len(f.in))
	for i, v := range f.in {
		files[i] = train.ParseInputFile(v)
	}
	if f.block == "" || (len(files) == 0 && f.which == "") || f.out == "" || (f.which != "" && hasUnnamed(files)) {
		return usagef("want --block NAME --init W, the inputs as --in X.npy (--in NAME=X.npy for each of several) or --data train|test, and --out Y.npy")
	}
	if f.which != "" {
		if err := checkSplit(f.which); err != nil {
			return err
		}
	}
	r, err := parseRange(f.valueRange)
	if err != nil {
		return err
	}
	fn, value, err := s.valueBlock(file, f.block)
	if err != nil {
		return err
	}
	tr, err := s.loadTrained(file, f.init, "apply")
	if err != nil {
		return err
	}
	if value {
		tr.Result = ir.ValueOutput(f.block)
	}
	if role, isRole := ir.ParseRole(fn); tr.Module.Func(fn) == nil && isRole {
		// A role names the family's function for it: reconstruct is AE.reconstruct.
		if fn, err = tr.RoleFunc(role); err != nil {
			return fmt.Errorf("apply %s: %w", f.block, err)
		}
	}
	rs, err := tr.FuncRows(fn, train.RowFeed{Files: files, Which: f.which, N: f.n, Source: file, Data: f.dataOptions()})
	if err != nil {
		return fmt.Errorf("apply %s: %w", f.block, err)
	}
	y, err := tr.ApplyRows(fn, rs, f.batch)
	if err != nil {
		return fmt.Errorf("apply %s: %w", f.block, err)
	}
	x := rs[0].T
	if f.target != "" {
		lo, hi := tr.DataRange()
		fit, err := tr.TargetFit(file, f.target, y, f.dataOptions(), hi-lo)
		if err != nil {
			return err
		}
		defer printFit(s.stdout, fit)
	}
	if err := writeNPYFile(f.out, y); err != nil {
		return err
	}
	shown := fn
	if value {
		shown = f.block
	}
	fmt.Fprintf(s.stdout, "wrote %s %v to %s\n", shown, y.Shape, f.out)
	if f.grid == "" {
		return nil
	}
	k := min(32, x.Shape[0])
	inLo, inHi := tr.DataRange()
	if len(files) > 0 {
		// Rows from a file need not be images of the data's range (codes, noise): drawn
		// over their own.
		inLo, inHi = valueSpan(x.Data)
	}
	outLo, outHi, ok := tr.OutputRange(fn)
	if !ok {
		outLo, outHi = inLo, inHi
	}
	if r != nil {
		inLo, inHi, outLo, outHi = r[0], r[1], r[0], r[1]
	}
	xs := train.Images{T: x}.Cells(float32(inLo), float32(inHi))[:k]
	ys := train.Images{T: y}.Cells(float32(outLo), float32(outHi))[:k]
	sheet := report.Blocks([][]report.Cell{xs, ys}, []string{"input", "output"}, 8)
	sheet.Title = fmt.Sprintf("%s: %s above its output", fn, rs[0].Input)
	if err := report.WriteSheet(f.grid, sheet); err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "wrote %d inputs above their outputs to %s\n", k, f.grid)
	return nil
}

// valueBlock reads --block NAME: a function or a role as it is, or an inner value of a
// block (Club.h), for which it returns the function that computes it, value true, and
// makes the session compile the file to expose it.
func (s *session) valueBlock(file, name string) (fn string, value bool, err error) {
	m, err := (&session{stdout: io.Discard, stderr: io.Discard}).compileFile(file, true)
	if err != nil {
		return name, false, nil // reported by loadTrained
	}
	vfn, ok := valueFunc(m, name)
	if !ok {
		return name, false, nil
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return name, false, fmt.Errorf("cannot read %s: %v", file, unwrap(err))
	}
	if _, _, err := compiler.Compile(file, src, compiler.Options{Values: []string{name}}); err != nil {
		return name, false, fmt.Errorf("--block %s: %v", name, err)
	}
	s.values = []string{name}
	return vfn, true, nil
}

// valueFunc says whether name is an inner value of m rather than a function or a role:
// a dotted name whose first part is a function of m (the block whose value it is) or,
// failing that, any dotted name, computed by the model's predict function.
func valueFunc(m *ir.Module, name string) (string, bool) {
	if m.Func(name) != nil {
		return "", false
	}
	if _, isRole := ir.ParseRole(name); isRole {
		return "", false
	}
	head, _, dotted := strings.Cut(name, ".")
	switch {
	case !dotted:
		return "", false
	case m.Func(head) != nil:
		return head, true
	case m.Train != nil:
		if fn, ok := m.Train.Role(ir.RolePredict); ok {
			return fn, true
		}
	}
	return "", false
}

// printFit prints how close the outputs came to their targets: the mean squared error,
// the PSNR over the data's pixel range, and for a mask the IoU.
func printFit(w io.Writer, fit train.TargetFit) {
	fmt.Fprintf(w, "mean squared error against %s: %.6g per value; PSNR %.2f dB (peak %g)\n", fit.From, fit.MSE, fit.PSNR, fit.Peak)
	if fit.Binary {
		fmt.Fprintf(w, "the targets are a mask (0 or 1): IoU of the outputs ≥ 0.5 %.4f\n", fit.IoU)
	}
}

// hasUnnamed reports whether a file is given without the name of its input.
func hasUnnamed(files []train.InputFile) bool {
	for _, f := range files {
		if f.Name == "" {
			return true
		}
	}
	return false
}

// applyGraph runs dlc apply for a graph model: its predictions over the train block's graph
// data (a row per node, or per graph of a set), or a link model's probabilities for node
// pairs. done is false for any other model.
func (s *session) applyGraph(file string, f applyFlags) (done bool, err error) {
	m, err := (&session{stdout: io.Discard, stderr: io.Discard}).compileFile(file, true)
	if err != nil || m.Train == nil || !m.Train.Task.IsGraph() {
		return false, nil // reported, if at all, by the general path
	}
	fn, _ := m.Train.Role(ir.RolePredict)
	link := m.Train.Task == ir.TaskLink
	value := false
	if f.block != "" && f.block != fn && !link {
		vfn, ok, err := s.valueBlock(file, f.block)
		if err != nil {
			return true, err
		}
		value = ok && vfn == fn
	}
	if len(f.in) != 0 || f.grid != "" || f.target != "" || (f.which != "" && f.which != "train") || (f.block != "" && f.block != fn && !value) || f.out == "" {
		if link {
			return true, usagef("%s is a link model: want --init W --out P.npy (and at most --block %s, --pairs PAIRS.csv|PAIRS.npy, --write-pairs PAIRS.csv); it scores node pairs, by default the run's held-out test pairs", file, fn)
		}
		return true, usagef("%s is a graph model: want --init W --out Y.npy (and at most --data train, --block %s or an inner value of it, such as --block %s.h); it predicts over the train block's graph data", file, fn, fn)
	}
	if !link && (f.pairs != "" || f.writePairs != "") {
		return true, usagef("--pairs and --write-pairs are for a link model; %s predicts over its graph data", file)
	}
	tr, err := s.loadTrained(file, f.init, "apply")
	if err != nil {
		return true, err
	}
	if value {
		tr.Result, fn = ir.ValueOutput(f.block), f.block
	}
	if link {
		return true, s.applyLink(tr, f)
	}
	y, err := train.PredictGraph(tr)
	if err != nil {
		return true, fmt.Errorf("apply %s: %v", fn, err)
	}
	if err := writeNPYFile(f.out, y); err != nil {
		return true, err
	}
	fmt.Fprintf(s.stdout, "wrote %s %v to %s\n", fn, y.Shape, f.out)
	return true, nil
}

// applyLink writes a link model's probability for each pair, the sigmoid of its logit,
// over the graph it was trained on. Without a pairs file it scores the run's held-out
// test pairs (split with the seed the checkpoint's run state holds) and prints their
// AUROC, which is the one dlc run printed for the same weights.
func (s *session) applyLink(tr *train.Trainer, f applyFlags) error {
	fn, _ := tr.Spec.Role(ir.RolePredict)
	seed, ok, err := train.CheckpointSeed(f.init)
	if err != nil {
		return err
	}
	if !ok {
		seed = tr.Spec.Seed
	}
	ls, err := train.NewLinkScorer(tr, seed)
	if err != nil {
		return err
	}
	var p train.NodePairs
	what := ""
	if f.pairs != "" {
		if p, err = train.ReadNodePairs(f.pairs, ls.Nodes()); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("--pairs %s: no such file", f.pairs)
		} else if err != nil {
			return err
		}
		what = fmt.Sprintf("the %d pairs of %s", p.Len(), f.pairs)
	} else {
		p = ls.TestPairs()
		what = fmt.Sprintf("the held-out test pairs (%d edges, then as many non-edges; seed %d)", p.Len()/2, seed)
	}
	probs, logits, err := ls.Probabilities(p)
	if err != nil {
		return fmt.Errorf("apply %s: %v", fn, err)
	}
	if err := writeNPYFile(f.out, &train.Tensor{Shape: []int{len(probs)}, Data: probs}); err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "wrote %s's edge probabilities (the sigmoid of its logits) for %s, [%d], to %s\n", fn, what, len(probs), f.out)
	if f.pairs == "" {
		auroc, err := train.PairsAUROC(logits, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.stdout, "test pairs: AUROC %.4f\n", auroc)
	}
	if f.writePairs == "" {
		return nil
	}
	if err := writeFileAtomic(f.writePairs, train.NodePairsCSV(p, f.pairs == "")); err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "wrote the %d pairs to %s\n", p.Len(), f.writePairs)
	return nil
}

// valueSpan is the least and greatest finite value of xs, widened to [v-1, v+1] when they
// are one value v (or there is none), so that it can map values to black..white.
func valueSpan(xs []float32) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range xs {
		if f := float64(v); !math.IsNaN(f) && !math.IsInf(f, 0) {
			lo, hi = min(lo, f), max(hi, f)
		}
	}
	if !(lo < hi) {
		if math.IsInf(lo, 0) {
			lo, hi = 0, 0
		}
		lo, hi = lo-1, hi+1
	}
	return lo, hi
}
