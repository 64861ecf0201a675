package train

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/data"
)

// drawModule builds, by hand, a module whose functions take x (the batch's samples) and z
// (a batch drawn in an order of its own), with the loss mean((x·w − z)²): phase a (two
// runs a turn) trains wa, phase b (one run, on a's last batch) trains wb, and the
// evaluation uses wa. The data is a CSV file of n rows, row i holding i/n four times,
// so that a batch's rows name its samples; batches of 4.
func drawModule(t *testing.T, n int) *ir.Module {
	t.Helper()
	var csv strings.Builder
	for i := range n {
		v := float64(i) / float64(n)
		fmt.Fprintf(&csv, "%g,%g,%g,%g\n", v, v, v, v)
	}
	path := filepath.Join(t.TempDir(), "rows.csv")
	if err := os.WriteFile(path, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	B, c := ir.Sym("B"), ir.Const
	fn := func(name, param string, grad bool) *ir.Func {
		f := ir.NewFunc(name)
		b := ir.NewBuilder(f)
		x := b.Input("x", ir.F32(ir.Shape{B, c(4)}))
		z := b.Input("z", ir.F32(ir.Shape{B, c(4)}))
		w := b.Param(param, ir.F32(ir.Shape{c(4)}), "ones")
		d := b.Op("sub", nil, b.Op("mul", nil, x, w), z)
		loss := b.Op("mean", nil, b.Op("mul", nil, d, d))
		if b.Err != nil {
			t.Fatal(b.Err)
		}
		f.Outputs = []ir.Output{{Name: ir.OutputName(ir.OutLoss, ""), Value: loss}}
		if grad {
			g, err := ir.Grad(f, loss, []*ir.Op{w})
			if err != nil {
				t.Fatal(err)
			}
			f.Outputs = append(f.Outputs, ir.Output{Name: ir.OutputName(ir.OutGrad, param), Value: g[0]})
		}
		return f
	}
	// Adam, not SGD: SGD's tail of fewer than 8 values allocates (vecmath.sgdTails).
	opt := ir.OptSpec{Name: "adam", Args: map[string]float64{"lr": 0.01}}
	src := ir.DataSpec{Source: "csv", Args: map[string]string{"path": path}}
	m := &ir.Module{Funcs: []*ir.Func{fn("S.a", "wa", true), fn("S.b", "wb", true), fn("S.eval", "wa", false)}, Train: &ir.TrainSpec{
		Task:  ir.TaskSamples,
		Feeds: []ir.Feed{{Input: "x", Kind: ir.FeedSamples}, {Input: "z", Kind: ir.FeedDraw}},
		Phases: []ir.Phase{
			{Name: "a", Step: "S.a", Params: []string{"wa"}, Optimizer: opt, Repeat: 2},
			{Name: "b", Step: "S.b", Params: []string{"wb"}, Optimizer: opt, Repeat: 1},
		},
		Eval: "S.eval", Data: src, Test: &src, Batch: 4, Epochs: 3, Seed: 7, Shuffle: true,
	}}
	if err := ir.Verify(m); err != nil {
		t.Fatal(err)
	}
	return m
}

// drawTrainer returns a trainer of drawModule(n) and its data (loadedTrainer).
func drawTrainer(t *testing.T, n int) (*Trainer, *data.Set) {
	t.Helper()
	return loadedTrainer(t, drawModule(t, n))
}

// loadedTrainer returns a trainer of m, its parameters drawn from seed 1, and the train
// block's data.
func loadedTrainer(t *testing.T, m *ir.Module) (*Trainer, *data.Set) {
	t.Helper()
	tr, err := NewTrainer(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.InitParams(1); err != nil {
		t.Fatal(err)
	}
	set, err := data.Load(m.Train.Data, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return tr, set
}

// rowsOf returns the samples whose rows an input of the last feed holds, in drawModule's
// data of n rows.
func rowsOf(tr *Trainer, input string, n int) []int {
	d := tr.inputs[input].Data
	rows := make([]int, len(d)/4)
	for i := range rows {
		rows[i] = int(math.Round(float64(d[4*i]) * float64(n)))
	}
	return rows
}

// TestDrawOrder: an input fed a draw takes, at each step, a batch of the step's size in a
// permutation of the training set of its own, another from the samples' order and another
// each epoch; the phase after the first gets the first's last draw, as it gets its
// samples; evaluation draws the test set in a fixed permutation; and a step of a caller
// that draws nothing (StepPhase) is refused.
func TestDrawOrder(t *testing.T) {
	const n = 10 // batches of 4, 4 and 2
	tr, set := drawTrainer(t, n)
	identity := make([]int, n)
	for i := range identity {
		identity[i] = i
	}
	var epochs [][]int
	for range 2 {
		e, err := tr.newPass(set, identity, &EpochProgress{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var xs, zs, lastX, lastZ []int
		for {
			phase := tr.cursor
			over, err := tr.passStep(e)
			if err != nil {
				t.Fatal(err)
			}
			if over {
				break
			}
			x, z := rowsOf(tr, "x", n), rowsOf(tr, "z", n)
			if len(z) != len(x) {
				t.Fatalf("a batch of %d samples drew %d", len(x), len(z))
			}
			if phase == 0 {
				xs, zs, lastX, lastZ = append(xs, x...), append(zs, z...), x, z
			} else if !slices.Equal(x, lastX) || !slices.Equal(z, lastZ) {
				t.Errorf("phase b got samples %v and draw %v, want phase a's last, %v and %v", x, z, lastX, lastZ)
			}
		}
		if !slices.Equal(xs, identity) || slices.Equal(zs, identity) || !slices.Equal(slices.Sorted(slices.Values(zs)), identity) {
			t.Errorf("samples %v, draws %v: want the draws another permutation of the set", xs, zs)
		}
		epochs = append(epochs, zs)
	}
	if slices.Equal(epochs[0], epochs[1]) {
		t.Errorf("both epochs drew %v, want a fresh permutation each epoch", epochs[0])
	}

	evalDraw := func(batch int) []int {
		if _, _, err := tr.Evaluate(set, batch); err != nil {
			t.Fatal(err)
		}
		return rowsOf(tr, "z", n)
	}
	whole := evalDraw(n)
	if slices.Equal(whole, identity) || !slices.Equal(slices.Sorted(slices.Values(whole)), identity) {
		t.Errorf("evaluation drew %v, want a permutation of the test set other than its order", whole)
	}
	if again, last := evalDraw(n), evalDraw(4); !slices.Equal(again, whole) || !slices.Equal(last, whole[8:]) {
		t.Errorf("evaluation drew %v, then %v in its last batch of 4, want the fixed %v", again, last, whole)
	}
	if _, _, err := tr.StepPhase(0, set, identity[:4]); err == nil || !strings.Contains(err.Error(), "draws none") {
		t.Errorf("StepPhase on a model that draws: %v, want a refusal", err)
	}
}

// TestDrawResume: a run of the drawing model interrupted inside an epoch and resumed ends
// with the uninterrupted run's weights, optimiser state and epoch lines, bit for bit.
func TestDrawResume(t *testing.T) {
	m := drawModule(t, 10)
	dir := t.TempDir()
	run := func(o RunOptions) (string, error) {
		tr, err := NewTrainer(m)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		o.Source, o.Epochs, o.Seed, o.Out = filepath.Join(dir, "draw.dl"), -1, -1, &out
		err = Train(tr, o)
		return out.String(), err
	}
	full, part := filepath.Join(dir, "full.safetensors"), filepath.Join(dir, "part.safetensors")
	fullOut, err := run(RunOptions{Save: full, Metrics: filepath.Join(dir, "full.jsonl")})
	if err != nil {
		t.Fatalf("%v\n%s", err, fullOut)
	}
	calls := 0 // stopped in epoch 2 between phase a's first batch and phase b's run on it
	out, err := run(RunOptions{Save: part, Metrics: filepath.Join(dir, "part.jsonl"), Stop: func() bool { calls++; return calls >= 8 }})
	if !errors.Is(err, ErrInterrupted) || !strings.Contains(out, "interrupted at step 5 (epoch 2, 4 of 10 samples)") {
		t.Fatalf("stopped run: %v\n%s", err, out)
	}
	if out, err := run(RunOptions{Resume: part, Save: part, Metrics: filepath.Join(dir, "part.jsonl")}); err != nil || !strings.Contains(out, "resuming") {
		t.Fatalf("resumed run: %v\n%s", err, out)
	}
	sameTensors(t, part, full)
	lines := func(path string) []string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var ls []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			ls = append(ls, regexpSeconds.ReplaceAllString(l, ""))
		}
		return ls
	}
	if g, w := lines(filepath.Join(dir, "part.jsonl")), lines(filepath.Join(dir, "full.jsonl")); !slices.Equal(g, w) {
		t.Errorf("metrics of the resumed run:\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
}

// TestDrawStepAllocs: a step of an epoch that draws a second batch allocates nothing in
// steady state.
func TestDrawStepAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector")
	}
	const n = 1024
	tr, set := drawTrainer(t, n)
	order := make([]int, n)
	for i := range order {
		order[i] = (i * 7) % n
	}
	e, err := tr.newPass(set, order, &EpochProgress{}, func(int, int, map[string]float64) {})
	if err != nil {
		t.Fatal(err)
	}
	step := func() {
		if over, err := tr.passStep(e); err != nil || over {
			t.Fatalf("passStep: over %v, %v", over, err)
		}
	}
	for range 6 { // every phase's buffers made
		step()
	}
	if a := testing.AllocsPerRun(20, step); a != 0 {
		t.Errorf("%.1f allocations per step that draws, want 0", a)
	}
}

// regexpSeconds matches the seconds of a metrics line, which differ from run to run.
var regexpSeconds = regexp.MustCompile(`"seconds":[^,}]*,?`)
