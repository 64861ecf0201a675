package ir

import (
	"math"
	"testing"
)

// Modules built through the Builder and Grad, shared by the printer, reader and verifier
// tests. Between them every non-fused op kind appears at least once.

// autoencoderModule is a dense autoencoder with its training step (forward, bce loss and
// the gradient of every parameter) and an eval function, and its train spec.
func autoencoderModule(t testing.TB) *Module {
	t.Helper()
	step := NewFunc("AE.step")
	b := NewBuilder(step)
	x := autoencoderForward(b, false)
	loss := b.F.Output("loss")
	_ = x
	params := step.Params()
	b.Pos = Pos{File: "ae.dl", Line: 30, Col: 3}
	grads, err := Grad(step, loss, params)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range params {
		step.Outputs = append(step.Outputs, Output{Name: "grad:" + p.Attrs.String("name"), Value: grads[i]})
	}

	eval := NewFunc("AE.eval")
	autoencoderForward(NewBuilder(eval), true)

	var names []string
	for _, p := range params {
		names = append(names, p.Attrs.String("name"))
	}
	m := &Module{Funcs: []*Func{step, eval}, Train: &TrainSpec{
		Task:  TaskSamples,
		Feeds: []Feed{{Input: "x", Kind: FeedSamples}},
		Phases: []Phase{{Name: "train", Step: "AE.step", Params: names, Repeat: 1,
			Optimizer: OptSpec{Name: "adam", Args: map[string]float64{"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}, Pos: Pos{"ae.dl", 23, 14}}}},
		Eval:    "AE.eval",
		Data:    DataSpec{Source: "mnist", Args: map[string]string{"split": "train", "path": "data/mnist dir"}, Pos: Pos{"ae.dl", 21, 9}},
		Test:    &DataSpec{Source: "mnist", Args: map[string]string{"split": "test"}, Pos: Pos{"ae.dl", 22, 9}},
		Batch:   128,
		Epochs:  10,
		Seed:    -42,
		Shuffle: true,
		Roles:   []RoleFunc{{Role: RoleReconstruct, Func: "AE.eval"}},
		Pos:     Pos{"ae.dl", 20, 1},
	}}
	if err := Verify(m); err != nil {
		t.Fatal(err)
	}
	return m
}

// autoencoderForward appends encoder, decoder and loss to b's func and sets its "loss"
// output (and "reconstruction" when eval).
func autoencoderForward(b *Builder, eval bool) *Op {
	B, c := Sym("B"), Const
	f32 := func(ds ...Dim) Type { return F32(Shape(ds)) }
	b.Pos = Pos{File: "ae.dl", Line: 3, Col: 9}
	x := b.Input("x", f32(B, c(784)))
	dense := func(name string, h *Op, in, out int, act string, line int) *Op {
		b.Pos = Pos{File: "ae.dl", Line: line, Col: 14}
		w := b.Param(name+".weight", f32(c(in), c(out)), "glorot_uniform")
		bias := b.Param(name+".bias", f32(c(out)), "zeros")
		return b.Op(act, nil, b.Op("add", nil, b.Op("matmul", nil, h, w), bias))
	}
	h := dense("Enc.dense0", x, 784, 256, "relu", 5)
	h = dense("Enc.dense1", h, 256, 32, "relu", 6)
	h = dense("Dec.dense0", h, 32, 256, "relu", 9)
	p := dense("Dec.dense1", h, 256, 784, "sigmoid", 10)
	b.Pos = Pos{File: "ae.dl", Line: 14, Col: 11}
	loss := b.Op("mean", nil, b.Op("bce", nil, p, x))
	b.F.Outputs = append(b.F.Outputs, Output{Name: "loss", Value: loss})
	if eval {
		b.F.Outputs = append(b.F.Outputs, Output{Name: "reconstruction", Value: p})
	}
	if b.Err != nil {
		panic(b.Err)
	}
	return x
}

// kitchenModule exercises every other op kind, the gradient rules that emit the backward
// helpers, odd names and positions that must be quoted, and float attributes that need care.
func kitchenModule(t testing.TB) *Module {
	t.Helper()
	B, c := Sym("B"), Const
	f32 := func(ds ...Dim) Type { return F32(Shape(ds)) }
	f := NewFunc("kitchen sink")
	b := NewBuilder(f)
	N := Sym("N")
	b.Pos = Pos{File: "dir with space/k.dl", Line: 1, Col: 1}
	x := b.Input("x", f32(B, N, c(8)))
	b.Pos = Pos{File: `quo"te#d.dl`, Line: 2, Col: 3}
	y := b.Input("label:onehot", f32(B, c(10)))
	b.Pos = Pos{File: "k.dl", Line: 3, Col: 5}
	w1 := b.Param("w1", f32(c(8), c(16)), "glorot_uniform")
	w2 := b.Param("w2", f32(c(10), c(16)), "he_normal")
	unused := b.Param("unused", f32(c(3)), "zeros")
	_ = unused

	// [B, N, 8] → [B·N, 8] → matmul → [B·N, 16] → [B, N, 16] → sum over N → [B, 16]
	b.Pos = Pos{File: "k.dl", Line: 4, Col: 7}
	flat := b.Op("reshape", Attrs{"shape": Shape{B.Mul(N), c(8)}}, x)
	h := b.Op("tanh", nil, b.Op("matmul", nil, flat, w1))
	h = b.Op("leaky_relu", Attrs{"alpha": 0.2}, h)
	h3 := b.Op("reshape", Attrs{"shape": Shape{B, N, c(16)}}, h)
	pooled := b.Op("mean", Attrs{"axes": []int{1}}, h3) // [B, 16]
	// Movement: [B, 16] → [B, 4, 4] → transpose → [B, 16] → split and swap halves.
	b.Pos = Pos{File: "k.dl", Line: 5, Col: 7}
	t3 := b.Op("transpose", Attrs{"perm": []int{0, 2, 1}}, b.Op("reshape", Attrs{"shape": Shape{B, c(4), c(4)}}, pooled))
	r := b.Op("reshape", Attrs{"shape": Shape{B, c(16)}}, t3)
	s1 := b.Op("slice", Attrs{"axis": 1, "start": 0, "end": 6}, r)
	s2 := b.Op("slice", Attrs{"axis": -1, "start": 6, "end": 16}, r)
	cat := b.Op("concat", Attrs{"axis": 1}, s2, s1)
	// The second operand transposed: [B, 16] · [10, 16]ᵀ.
	logits := b.Op("matmul", Attrs{"tb": true}, cat, w2)

	b.Pos = Pos{File: "k.dl", Line: 6, Col: 9}
	nll := b.Op("neg", nil, b.Op("mean", nil, b.Op("sum", Attrs{"axes": []int{1}}, b.Op("mul", nil, b.Op("log_softmax", Attrs{"axis": -1}, logits), y))))
	mse := b.Op("mean", nil, b.Op("square", nil, b.Op("sub", nil, b.Op("softmax", Attrs{"axis": 1}, logits), y)))
	bce := b.Op("mean", nil, b.Op("bce", nil, b.Op("sigmoid", nil, logits), y))
	bcl := b.Op("mean", nil, b.Op("bce_logits", nil, logits, y))
	b.Pos = Pos{File: "k.dl", Line: 7, Col: 9}
	one := b.Const(1)
	rt := b.Op("mean", nil, b.Op("sqrt", nil, b.Op("add", nil, b.Op("abs", nil, logits), one)))
	lg := b.Op("mean", nil, b.Op("log", nil, b.Op("add", nil, b.Op("exp", nil, b.Op("neg", nil, b.Op("square", nil, logits))), one)))
	kd := b.Op("sum", Attrs{"axes": []int{0, 1}, "keepdims": true}, b.Op("div", nil, logits, b.Op("add", nil, b.Op("relu", nil, logits), b.Const(2))))
	kd = b.Op("reshape", Attrs{"shape": Shape{}}, kd)
	loss := b.Op("add", nil, b.Op("add", nil, b.Op("add", nil, nll, mse), b.Op("add", nil, bce, bcl)), b.Op("add", nil, b.Op("add", nil, rt, lg), kd))
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	params := f.Params()
	grads, err := Grad(f, loss, params)
	if err != nil {
		t.Fatal(err)
	}
	f.Outputs = append(f.Outputs, Output{Name: "loss", Value: loss})
	for i, p := range params {
		f.Outputs = append(f.Outputs, Output{Name: "grad:" + p.Attrs.String("name"), Value: grads[i]})
	}

	// Ops the gradients above do not emit, and attributes whose text form needs care.
	g := NewFunc("extras")
	b = NewBuilder(g)
	x = b.Input("x", f32(B, c(6)))
	lk := b.Op("leaky_relu", Attrs{"alpha": 1e-300}, x)
	b.Op("sign", nil, lk)
	b.Op("count", Attrs{"axes": []int{}}, x)
	b.Op("sum_to", nil, x, b.Param("v", f32(c(6)), "zeros"))
	b.Op("broadcast_like", Attrs{"axes": []int{1}}, b.Op("sum", Attrs{"axes": []int{1}}, x), x)
	b.Op("unslice", Attrs{"axis": 1, "start": 2, "end": 4}, b.Op("slice", Attrs{"axis": 1, "start": 2, "end": 4}, x), x)
	b.Op("relu_grad", nil, x, x)
	b.Op("sigmoid_grad", nil, x, x)
	b.Op("tanh_grad", nil, x, x)
	b.Op("leaky_relu_grad", Attrs{"alpha": 0.01}, x, x)
	b.Op("bce_grad", nil, x, x)
	b.Op("eq", nil, b.Op("argmax", Attrs{"axis": 1}, x), b.Const(3))
	for _, v := range []float64{0, math.Copysign(0, -1), 0.1, -2.5, 1e21, 5e-324, math.MaxFloat64, math.Inf(1), math.Inf(-1), math.NaN()} {
		b.Const(v)
	}
	b.Op("reshape", Attrs{"shape": Shape{c(2), c(3).Mul(B)}}, x)
	b.Op("random_normal", Attrs{"shape": Shape{B, c(6)}, "mean": 0.0, "std": 1.0, "stream": 1})
	b.Op("random_uniform", Attrs{"shape": Shape{B, c(6)}, "low": -1.0, "high": 1.0, "stream": 2})
	b.Op("random_bernoulli", Attrs{"shape": Shape{B, c(6)}, "p": 0.25, "stream": 3})
	b.Op("add", nil, b.Op("stop_gradient", nil, x), b.State("running", F32(Shape{c(6)}), "zeros"))
	b.Op("attr_probe", Attrs{"note": "a \"quoted\"\n\tstring", "flag": false, "ratio": 3, "dims": Shape{Sym("_x1").Mul(Sym("y")), c(1)}}, x, x)
	named := b.Op("add", nil, x, x)
	named.Name = "sum.of:x"
	q := b.Op("neg", nil, named)
	q.Name = "needs quoting!"
	b.Pos = Pos{Line: 9} // no file
	b.Op("exp", nil, q)
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	g.Outputs = append(g.Outputs, Output{Name: "out with space", Value: q}, Output{Name: "x", Value: x})

	m := &Module{Funcs: []*Func{f, g}}
	if err := Verify(m); err != nil {
		t.Fatal(err)
	}
	return m
}

// attr_probe exists only in this package's tests: an op that takes any attributes, so that
// the golden modules can print every attribute form.
func init() {
	def(&OpDef{Kind: "attr_probe", Arity: 2, Class: Elementwise, Shape: sameShapes, NoGrad: true, OpenAttrs: true,
		IROnly: "a test of the text form"})
}
