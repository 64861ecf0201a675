package runtime

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

// Benchmarks: the matrix products of an MNIST autoencoder's first layer (batch 128,
// 784 → 256) in the four transpose combinations autodiff emits, and one training step of
// a dense stack, with and without the ir passes (fusion).

func BenchmarkMatmul(b *testing.B) {
	const m, k, n = 128, 784, 256
	for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
		b.Run(fmt.Sprintf("%dx%dx%d/ta=%v,tb=%v", m, k, n, tr[0], tr[1]), func(b *testing.B) {
			benchMatmul(b, m, k, n, tr[0], tr[1])
		})
	}
	b.Run("128x256x64", func(b *testing.B) { benchMatmul(b, 128, 256, 64, false, false) })
}

func benchMatmul(b *testing.B, m, k, n int, ta, tb bool) {
	r := rand.New(rand.NewPCG(1, 1))
	as, bs := []int{m, k}, []int{k, n}
	if ta {
		as = []int{k, m}
	}
	if tb {
		bs = []int{n, k}
	}
	x, w := randomFilled(r, as), randomFilled(r, bs)
	op := &ir.Op{Kind: "matmul", Attrs: ir.Attrs{"ta": ta, "tb": tb}}
	c := &Ctx{Env: map[string]int{}}
	args := []*Tensor{x, w}
	b.ResetTimer()
	for b.Loop() {
		if _, err := matmulKernel(c, op, args); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(2*float64(m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// denseStack builds a training step for layers of the given widths: sigmoid(... relu(x·W+b)
// ...), mean bce against x (an autoencoder when the last width is the first), and the
// gradient of every parameter.
func denseStack(widths []int) *ir.Func {
	f := ir.NewFunc("step")
	bl := ir.NewBuilder(f)
	B := ir.Sym("B")
	x := bl.Input("x", ir.F32(ir.Shape{B, ir.Const(widths[0])}))
	t := bl.Input("t", ir.F32(ir.Shape{B, ir.Const(widths[len(widths)-1])}))
	h := x
	var params []*ir.Op
	for i := 1; i < len(widths); i++ {
		w := bl.Param(fmt.Sprintf("W%d", i), ir.F32(S(widths[i-1], widths[i])), "glorot")
		bias := bl.Param(fmt.Sprintf("b%d", i), ir.F32(S(widths[i])), "zeros")
		params = append(params, w, bias)
		act := "relu"
		if i == len(widths)-1 {
			act = "sigmoid"
		}
		h = bl.Op(act, nil, bl.Op("add", nil, bl.Op("matmul", nil, h, w), bias))
	}
	loss := bl.Op("mean", nil, bl.Op("bce", nil, h, t))
	if bl.Err != nil {
		panic(bl.Err)
	}
	grads, err := ir.Grad(f, loss, params)
	if err != nil {
		panic(err)
	}
	f.Outputs = []ir.Output{{Name: "loss", Value: loss}}
	for i, g := range grads {
		f.Outputs = append(f.Outputs, ir.Output{Name: "grad:" + params[i].Attrs.String("name"), Value: g})
	}
	return f
}

// benchStep times one forward and backward pass of denseStack(widths) on a seeded batch.
func benchStep(b *testing.B, widths []int, batch int, optimize bool) {
	f := denseStack(widths)
	if optimize {
		if err := ir.Optimize(&ir.Module{Funcs: []*ir.Func{f}}); err != nil {
			b.Fatal(err)
		}
	}
	p, err := Compile(f)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(2, 2))
	x := NewTensor(batch, widths[0])
	for i := range x.Data {
		x.Data[i] = r.Float32()
	}
	tgt := NewTensor(batch, widths[len(widths)-1])
	for i := range tgt.Data {
		tgt.Data[i] = r.Float32()
	}
	inputs := map[string]*Tensor{"x": x, "t": tgt}
	params := map[string]*Tensor{}
	for _, o := range f.Params() {
		shape, _ := o.Type.Shape.Eval(nil)
		w := NewTensor(shape...)
		for i := range w.Data {
			w.Data[i] = (r.Float32() - 0.5) * 0.1
		}
		params[o.Attrs.String("name")] = w
	}
	flops := 0
	for i := 1; i < len(widths); i++ {
		products := 3 // forward, dx and dW
		if i == 1 {
			products = 2 // x is data: no dx
		}
		flops += products * 2 * batch * widths[i-1] * widths[i]
	}
	// One run first sizes the program's buffers, so that the figures are a steady state's.
	if _, err := p.Run(inputs, params); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.Run(inputs, params); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(flops)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(float64(p.PlannedBytes()), "planned-B")
	b.ReportMetric(float64(len(p.bufs)), "buffers")
}

func BenchmarkStep(b *testing.B) {
	for _, c := range []struct {
		name   string
		widths []int
	}{
		{"dense784-256", []int{784, 256}},
		{"autoencoder784-256-64-256-784", []int{784, 256, 64, 256, 784}},
	} {
		for _, opt := range []bool{false, true} {
			name := c.name
			if opt {
				name += "/fused"
			}
			b.Run(name, func(b *testing.B) { benchStep(b, c.widths, 128, opt) })
		}
	}
}
