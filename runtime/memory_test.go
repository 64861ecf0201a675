package runtime

import (
	"testing"

	"github.com/dlc-lang/dlc/ir"
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
