package runtime

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/data"
)

// The estimate counts every parameter once, Adam's two moments per trained parameter, and
// an activation peak that grows with the batch.
func TestEstimateMemory(t *testing.T) {
	m := trainModule(t, 16)
	e, err := EstimateMemory(m, 0)
	if err != nil {
		t.Fatal(err)
	}
	var params int64
	for _, o := range m.Params() {
		params += 4 * int64(o.Type.Shape.NumElements().Coef)
	}
	if e.Params != params || e.Optim != 2*params || e.Batch != 16 {
		t.Errorf("params %d optim %d batch %d, want %d, %d, 16", e.Params, e.Optim, e.Batch, params, 2*params)
	}
	big, err := EstimateMemory(trainModule(t, 1600), 0)
	if err != nil {
		t.Fatal(err)
	}
	// An activation holds at least a batch of inputs: 1600 rows of 4 floats.
	if e.Activ <= 0 || big.Activ < 1600*4*4 || big.Activ <= 10*e.Activ || big.Params != e.Params {
		t.Errorf("activations %d at batch 16, %d at batch 1600", e.Activ, big.Activ)
	}
	if e.Total() != e.Params+e.State+e.Optim+e.Activ {
		t.Errorf("total %d", e.Total())
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3 << 20: "3.0 MiB", 3 << 29: "1.5 GiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// trainModule is a dense model of 4 inputs trained with Adam at the given batch size.
func trainModule(t *testing.T, batch int) *ir.Module {
	t.Helper()
	b := ir.NewBuilder(ir.NewFunc("M.step"))
	x := b.Input("x", ir.F32(ir.Shape{ir.Sym("B"), ir.Const(4)}))
	w := b.Param("M.w", ir.F32(ir.Shape{ir.Const(4), ir.Const(8)}), "zeros")
	h := b.Op("matmul", nil, x, w)
	loss := b.Op("mean", ir.Attrs{}, b.Op("mul", nil, h, h))
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	b.F.Outputs = []ir.Output{{Name: "loss", Value: loss}}
	m := &ir.Module{Funcs: []*ir.Func{b.F}, Train: &ir.TrainSpec{
		Batch: batch, Eval: "M.step",
		Phases: []ir.Phase{{Name: "train", Step: "M.step", Params: []string{"M.w"}, Repeat: 1, Optimizer: ir.OptSpec{Name: "adam"}}},
	}}
	return m
}

// The estimate's activations are the buffers the programs really keep: after a step of each
// phase of a GAN with batch norm (two phases, a sample extra), the programs' planned bytes
// add up to the estimate's.
func TestEstimateMatchesPlan(t *testing.T) {
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("a,b,c,d,e,f\n")
	for i := range 40 {
		fmt.Fprintf(&csv, "%d,%d,%d,%d,%d,%d\n", i%3, i%5, i%7, i%2, i%4, i%6)
	}
	if err := os.WriteFile(filepath.Join(dir, "p.csv"), []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `
generator G(z: [B, 4]) -> [B, 6] {
    return dense(relu(batchnorm(dense(z, 16))), 6)
}
discriminator D(x: [B, 6]) -> [B, 1] {
    return dense(leaky_relu(dense(x, 16), 0.2), 1)
}
gan GAN(gen: G, disc: D) {
    noise = normal(4)
}
train GAN {
    data      = csv(path: "p.csv", label: "")
    optimizer = adam(lr: 0.01)
    batch     = 8
    epochs    = 1
}
`
	path := filepath.Join(dir, "g.dl")
	m, _, err := compiler.Compile(path, []byte(src), compiler.Options{Optimize: true})
	if err != nil {
		t.Fatal(err)
	}
	e, err := EstimateMemory(m, 0)
	if err != nil {
		t.Fatal(err)
	}
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
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7}
	for i := range m.Train.Phases {
		if _, _, err := tr.StepPhase(i, set, idx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tr.Sample(8, rand.New(rand.NewPCG(1, 1)), nil); err != nil {
		t.Fatal(err)
	}
	got := int64(0)
	for _, p := range tr.progs {
		got += int64(p.PlannedBytes())
	}
	// Scalars (a loss, a metric) may be planned as views; allow a few bytes.
	if d := e.Activ - got; d < 0 || d > 64 {
		t.Errorf("estimated activations %d bytes, the programs planned %d", e.Activ, got)
	}
}
