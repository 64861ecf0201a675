package runtime

import (
	"math"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

// denseFunc builds y = relu(x·W + b) with x: [B, in], and a mean-squared loss against t.
func denseFunc(in, out int) *ir.Func {
	f := ir.NewFunc("dense")
	b := ir.NewBuilder(f)
	b.Pos = ir.Pos{File: "m.dl", Line: 3, Col: 5}
	B := ir.Sym("B")
	x := b.Input("x", ir.F32(ir.Shape{B, ir.Const(in)}))
	tgt := b.Input("t", ir.F32(ir.Shape{B, ir.Const(out)}))
	w := b.Param("W", ir.F32(S(in, out)), "glorot")
	bias := b.Param("b", ir.F32(S(out)), "zeros")
	y := b.Op("relu", nil, b.Op("add", nil, b.Op("matmul", nil, x, w), bias))
	loss := b.Op("mean", nil, b.Op("square", nil, b.Op("sub", nil, y, tgt)))
	if b.Err != nil {
		panic(b.Err)
	}
	grads, err := ir.Grad(f, loss, []*ir.Op{w, bias})
	if err != nil {
		panic(err)
	}
	f.Outputs = []ir.Output{{Name: "y", Value: y}, {Name: "loss", Value: loss},
		{Name: "grad:W", Value: grads[0]}, {Name: "grad:b", Value: grads[1]}}
	return f
}

func TestRun(t *testing.T) {
	p, err := Compile(denseFunc(2, 2))
	if err != nil {
		t.Fatal(err)
	}
	x := tensor([]int{3, 2}, 1, 2, 3, 4, -1, -1)
	tg := tensor([]int{3, 2}, 0, 0, 0, 0, 0, 0)
	params := map[string]*Tensor{
		"W": tensor([]int{2, 2}, 1, 0, 0, -1),
		"b": tensor([]int{2}, 0.5, 0.5),
	}
	for run := 0; run < 2; run++ { // the second run reuses the program's scratch
		res, err := p.Run(map[string]*Tensor{"x": x, "t": tg}, params)
		if err != nil {
			t.Fatal(err)
		}
		// x·W + b = [[1.5, -1.5], [3.5, -3.5], [-0.5, 1.5]]
		wantY := []float32{1.5, 0, 3.5, 0, 0, 1.5}
		if y := res["y"]; !sameShape(y.Shape, []int{3, 2}) || !close32(y.Data, wantY, 0) {
			t.Errorf("y: got %v, want %v", y, wantY)
		}
		if l := res["loss"].Data[0]; math.Abs(float64(l)-(1.5*1.5*2+3.5*3.5)/6) > 1e-6 {
			t.Errorf("loss: got %v", l)
		}
		// dL/dz = 2 (y - t) / 6 where z > 0: rows [0.5, 0], [7/6, 0], [0, 0.5].
		wantB := []float32{0.5 + 7.0/6, 0.5}
		if g := res["grad:b"]; !sameShape(g.Shape, []int{2}) || !close32(g.Data, wantB, 1e-6) {
			t.Errorf("grad:b: got %v, want %v", g, wantB)
		}
		wantW := []float32{0.5*1 + 7.0/6*3, 0.5 * -1, 0.5*2 + 7.0/6*4, 0.5 * -1}
		if g := res["grad:W"]; !close32(g.Data, wantW, 1e-6) {
			t.Errorf("grad:W: got %v, want %v", g, wantW)
		}
		for i, v := range p.vals {
			if v != nil {
				t.Errorf("slot %d still holds a tensor after Run", i)
			}
		}
	}
}

func TestRunErrors(t *testing.T) {
	p, err := Compile(denseFunc(784, 10))
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]*Tensor{"W": NewTensor(784, 10), "b": NewTensor(10)}
	cases := []struct {
		name   string
		inputs map[string]*Tensor
		params map[string]*Tensor
		err    string
	}{
		{"rank", map[string]*Tensor{"x": NewTensor(128, 28, 28), "t": NewTensor(128, 10)}, params,
			"runtime: input x: got [128, 28, 28], want [B, 784]"},
		{"conflict", map[string]*Tensor{"x": NewTensor(128, 784), "t": NewTensor(64, 10)}, params,
			"runtime: input t: got [64, 10], want [B, 10] with B = 128"},
		{"missing input", map[string]*Tensor{"x": NewTensor(128, 784)}, params,
			"runtime: missing input t"},
		{"bad tensor", map[string]*Tensor{"x": {Shape: []int{2, 784}, Data: make([]float32, 3)}, "t": NewTensor(2, 10)}, params,
			"runtime: input x: shape [2, 784] does not hold 3 elements"},
		{"missing param", map[string]*Tensor{"x": NewTensor(2, 784), "t": NewTensor(2, 10)}, map[string]*Tensor{"W": NewTensor(784, 10)},
			"runtime: missing param b"},
		{"param shape", map[string]*Tensor{"x": NewTensor(2, 784), "t": NewTensor(2, 10)}, map[string]*Tensor{"W": NewTensor(10, 784), "b": NewTensor(10)},
			"runtime: param W: got [10, 784], want [784, 10]"},
	}
	for _, c := range cases {
		_, err := p.Run(c.inputs, c.params)
		if err == nil || err.Error() != c.err {
			t.Errorf("%s: got error %v, want %q", c.name, err, c.err)
		}
	}
}

func TestBindSymbols(t *testing.T) {
	B, T := ir.Sym("B"), ir.Sym("T")
	cases := []struct {
		want []ir.Shape
		got  [][]int
		env  map[string]int
		ok   bool
	}{
		{[]ir.Shape{{B, ir.Const(3)}}, [][]int{{5, 3}}, map[string]int{"B": 5}, true},
		{[]ir.Shape{{B.Mul(T)}, {T}}, [][]int{{12}, {4}}, map[string]int{"B": 3, "T": 4}, true}, // T comes from the second input
		{[]ir.Shape{{ir.Const(2).Mul(B)}}, [][]int{{8}}, map[string]int{"B": 4}, true},
		{[]ir.Shape{{ir.Const(2).Mul(B)}}, [][]int{{7}}, map[string]int{}, false},
		{[]ir.Shape{{B.Mul(B)}}, [][]int{{9}}, map[string]int{}, false}, // not solved
	}
	for i, c := range cases {
		env := map[string]int{}
		BindSymbols(env, c.want, c.got)
		ok := true
		for j := range c.want {
			ok = ok && matchShape(env, c.want[j], c.got[j])
		}
		if ok != c.ok || len(env) != len(c.env) {
			t.Errorf("case %d: got %v (ok=%v), want %v (ok=%v)", i, env, ok, c.env, c.ok)
			continue
		}
		for k, v := range c.env {
			if env[k] != v {
				t.Errorf("case %d: got %v, want %v", i, env, c.env)
			}
		}
	}
}

func TestReshapeSymbolInFunc(t *testing.T) {
	f := ir.NewFunc("flatten")
	b := ir.NewBuilder(f)
	B := ir.Sym("B")
	x := b.Input("x", ir.F32(ir.Shape{B, ir.Const(2), ir.Const(3)}))
	y := b.Op("reshape", ir.Attrs{"shape": ir.Shape{B, ir.Const(6)}}, x)
	f.Outputs = []ir.Output{{Name: "y", Value: y}}
	p, err := Compile(f)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Run(map[string]*Tensor{"x": NewTensor(4, 2, 3)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sameShape(res["y"].Shape, []int{4, 6}) {
		t.Errorf("got %v, want [4, 6]", ShapeString(res["y"].Shape))
	}
}

func TestCompileErrors(t *testing.T) {
	f := ir.NewFunc("f")
	b := ir.NewBuilder(f)
	b.Pos = ir.Pos{File: "m.dl", Line: 7, Col: 1}
	x := b.Input("x", ir.F32(S(2)))
	y := b.Op("neg", nil, x)
	y.Kind = "frobnicate"
	f.Outputs = []ir.Output{{Name: "y", Value: y}}
	if _, err := Compile(f); err == nil || err.Error() != "runtime: frobnicate at m.dl:7:1: no kernel for op frobnicate" {
		t.Errorf("got %v", err)
	}
	f.Outputs = []ir.Output{{Name: "z", Value: &ir.Op{Kind: "neg"}}}
	if _, err := Compile(f); err == nil || err.Error() != "runtime: output z is not an op of func f" {
		t.Errorf("got %v", err)
	}
}

func TestDeadOpsAreSkipped(t *testing.T) {
	f := ir.NewFunc("f")
	b := ir.NewBuilder(f)
	x := b.Input("x", ir.F32(S(2)))
	b.Op("exp", nil, b.Param("unused", ir.F32(S(2)), "zeros")) // needs a param nobody gives
	f.Outputs = []ir.Output{{Name: "y", Value: b.Op("neg", nil, x)}}
	p, err := Compile(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(map[string]*Tensor{"x": NewTensor(2)}, nil); err != nil {
		t.Error(err)
	}
}

func TestCheckFinite(t *testing.T) {
	f := ir.NewFunc("f")
	b := ir.NewBuilder(f)
	b.Pos = ir.Pos{File: "m.dl", Line: 2, Col: 9}
	x := b.Input("x", ir.F32(S(2)))
	f.Outputs = []ir.Output{{Name: "y", Value: b.Op("log", nil, x)}}
	p, err := Compile(f)
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]*Tensor{"x": tensor([]int{2}, 1, -1)}
	if _, err := p.Run(in, nil); err != nil {
		t.Errorf("without CheckFinite: %v", err)
	}
	p.CheckFinite = true
	if _, err := p.Run(in, nil); err == nil || err.Error() != "runtime: log at m.dl:2:9: result [2] holds NaN" {
		t.Errorf("got %v", err)
	}
}
