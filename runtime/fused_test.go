package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

// fusedGradCases are the finite-difference cases of the fused ops, for gradCases.
func fusedGradCases() []gradCase {
	var cs []gradCase
	for _, act := range []string{"none", "relu", "sigmoid", "tanh", "leaky_relu"} {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			x, w := S(2, 3), S(3, 4)
			if tr[0] {
				x = S(3, 2)
			}
			if tr[1] {
				w = S(4, 3)
			}
			bias := S(4)
			if tr[0] != tr[1] {
				bias = S(1, 4)
			}
			a := ir.Attrs{"act": act, "ta": tr[0], "tb": tr[1]}
			if act == "leaky_relu" {
				a["alpha"] = 0.1
			}
			cs = append(cs, gradCase{name: fmt.Sprintf("dense/%s/ta=%v,tb=%v", act, tr[0], tr[1]),
				kind: "dense", attrs: a, in: []ir.Shape{x, w, bias}})
		}
	}
	prob := []valueGen{nil, probability}
	elem := func(name, code, reduce string, gen []valueGen, in ...ir.Shape) gradCase {
		a := ir.Attrs{"code": code}
		if reduce != "" {
			a["reduce"] = reduce
		}
		return gradCase{name: "fused_elementwise/" + name, kind: "fused_elementwise", attrs: a, in: in, gen: gen}
	}
	cs = append(cs,
		elem("output-gradient", "sigmoid(x1); sub(t0, x2); mul(x0, t1)", "", []valueGen{nil, nil, probability}, S(), S(3, 5), S(3, 5)),
		elem("loss-head", "bce_logits(x0, x1)", "mean", prob, S(3, 5), S(3, 5)),
		elem("tree", "mul(x0, x0); tanh(t0); leaky_relu{alpha=0.1}(t1); add(t2, x1); mul(t3, x1)", "", nil, S(2, 7), S(2, 7)),
		elem("sum", "sub(x0, x1); square(t0)", "sum", nil, S(4, 3), S(4, 3)),
		elem("scalar-only", "exp(x0); mul(t0, x1)", "", nil, S(), S()),
	)
	return cs
}

// TestFusedKernels checks each fused kernel against the unfused ops it replaces, run through
// the same executor on the same random operands. The fused kernels do the same float32
// operations in the same order, so the results must be identical.
func TestFusedKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, act := range []string{"none", "relu", "sigmoid", "tanh", "leaky_relu"} {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			t.Run(fmt.Sprintf("%s/ta=%v,tb=%v", act, tr[0], tr[1]), func(t *testing.T) {
				B := ir.Sym("B")
				xs, ws := ir.Shape{B, ir.Const(5)}, S(5, 7)
				if tr[0] {
					xs = ir.Shape{ir.Const(5), B}
				}
				if tr[1] {
					ws = S(7, 5)
				}
				mm := ir.Attrs{"ta": tr[0], "tb": tr[1]}
				f := ir.NewFunc("f")
				b := ir.NewBuilder(f)
				x, w := b.Input("x", ir.F32(xs)), b.Input("w", ir.F32(ws))
				bias := b.Input("b", ir.F32(S(1, 7)))
				dy := b.Input("dy", ir.F32(ir.Shape{B, ir.Const(7)}))
				fa := mm.Clone()
				fa["act"] = act
				var ua ir.Attrs
				if act == "leaky_relu" {
					fa["alpha"], ua = 0.2, ir.Attrs{"alpha": 0.2}
				}
				y := b.Op("add", nil, b.Op("matmul", mm, x, w), bias)
				if act != "none" {
					y = b.Op(act, ua, y)
				}
				// The backward pattern: act_grad(dy·vᵀ, y), the gradient arriving through the
				// next layer's weights v.
				v := b.Input("v", ir.F32(S(7, 7)))
				f.Outputs = []ir.Output{
					{Name: "y", Value: y},
					{Name: "fused_y", Value: b.Op("dense", fa, x, w, bias)},
				}
				if act != "none" {
					ga := ir.Attrs{"act": act, "tb": true}
					for k, v := range ua {
						ga[k] = v
					}
					f.Outputs = append(f.Outputs,
						ir.Output{Name: "dz", Value: b.Op(act+"_grad", ua, b.Op("matmul", ir.Attrs{"tb": true}, dy, v), y)},
						ir.Output{Name: "fused_dz", Value: b.Op("matmul_act_grad", ga, dy, v, y)})
				}
				if b.Err != nil {
					t.Fatal(b.Err)
				}
				p, err := Compile(f)
				if err != nil {
					t.Fatal(err)
				}
				in := map[string]*Tensor{}
				for _, o := range f.Inputs {
					in[o.Name] = randomTensor(t, r, o.Type.Shape, map[string]int{"B": 7}, awayFromZero)
				}
				res, err := p.Run(in, nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range []string{"y", "dz"} {
					if res[k] == nil {
						continue
					}
					if d := maxRelDiff(res["fused_"+k], res[k]); d != 0 {
						t.Errorf("fused %s differs from unfused by %g (relative)", k, d)
					}
				}
			})
		}
	}
}

// buildStep builds the training step the compiler emits for an MLP: dense layers
// add(matmul(h, W), b), activations acts[i], a loss against the input (an autoencoder), and
// one grad:NAME output per parameter.
func buildStep(tb testing.TB, dims []int, acts []string, loss string) *ir.Func {
	tb.Helper()
	f := ir.NewFunc("step")
	b := ir.NewBuilder(f)
	x := b.Input("x", ir.F32(ir.Shape{ir.Sym("B"), ir.Const(dims[0])}))
	h := x
	var params []*ir.Op
	for i, act := range acts {
		w := b.Param(fmt.Sprintf("l%d.weight", i), ir.F32(S(dims[i], dims[i+1])), "glorot_uniform")
		bias := b.Param(fmt.Sprintf("l%d.bias", i), ir.F32(S(dims[i+1])), "zeros")
		params = append(params, w, bias)
		h = b.Op("add", nil, b.Op("matmul", nil, h, w), bias)
		switch act {
		case "none":
		case "leaky_relu":
			h = b.Op(act, ir.Attrs{"alpha": 0.2}, h)
		default:
			h = b.Op(act, nil, h)
		}
	}
	var l *ir.Op
	switch loss {
	case "bce_logits":
		l = b.Op("mean", nil, b.Op("bce_logits", nil, h, x))
	case "bce":
		l = b.Op("mean", nil, b.Op("bce", nil, h, x))
	case "mse":
		l = b.Op("mean", nil, b.Op("square", nil, b.Op("sub", nil, h, x)))
	}
	if b.Err != nil {
		tb.Fatal(b.Err)
	}
	gs, err := ir.Grad(f, l, params)
	if err != nil {
		tb.Fatal(err)
	}
	f.Outputs = []ir.Output{{Name: "loss", Value: l}}
	for i, p := range params {
		f.Outputs = append(f.Outputs, ir.Output{Name: "grad:" + p.Attrs.String("name"), Value: gs[i]})
	}
	return f
}

// stepData returns a seeded batch in [0, 1) (pixel-like, a valid bce target) and
// Glorot-uniform parameters with small random biases for f's params.
func stepData(tb testing.TB, f *ir.Func, batch int, seed uint64) (inputs, params map[string]*Tensor) {
	tb.Helper()
	r := rand.New(rand.NewPCG(seed, 2))
	x := f.Inputs[0]
	xt := NewTensor(batch, x.Type.Shape[1].Coef)
	for i := range xt.Data {
		xt.Data[i] = r.Float32()
	}
	params = map[string]*Tensor{}
	for _, p := range f.Params() {
		shape, err := p.Type.Shape.Eval(nil)
		if err != nil {
			tb.Fatal(err)
		}
		t := NewTensor(shape...)
		a := float32(0.1)
		if len(shape) == 2 {
			a = float32(math.Sqrt(6 / float64(shape[0]+shape[1])))
		}
		for i := range t.Data {
			t.Data[i] = a * (2*r.Float32() - 1)
		}
		params[p.Attrs.String("name")] = t
	}
	return map[string]*Tensor{"x": xt}, params
}

// maxRelDiff is max|got - want| / max|want|: an error relative to the tensor's scale, which
// per-element relative errors are not when an element is near zero.
func maxRelDiff(got, want *Tensor) float64 {
	if got == nil || want == nil || !sameShape(got.Shape, want.Shape) {
		return math.Inf(1)
	}
	var d, s float64
	for i := range want.Data {
		d = math.Max(d, math.Abs(float64(got.Data[i])-float64(want.Data[i])))
		s = math.Max(s, math.Abs(float64(want.Data[i])))
	}
	if s == 0 {
		return d
	}
	return d / s
}

// TestOptimizedStepMatches runs a training step before and after the default passes on the
// same seeded data and checks the loss and every gradient agree to 1e-5, relative.
func TestOptimizedStepMatches(t *testing.T) {
	tests := []struct {
		dims []int
		acts []string
		loss string
	}{
		{[]int{784, 256, 64, 256, 784}, []string{"relu", "relu", "relu", "none"}, "bce_logits"},
		{[]int{30, 16, 8, 30}, []string{"tanh", "leaky_relu", "sigmoid"}, "mse"},
		{[]int{30, 16, 8, 30}, []string{"sigmoid", "none", "sigmoid"}, "bce"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.dims, tt.acts, tt.loss), func(t *testing.T) {
			ref := buildStep(t, tt.dims, tt.acts, tt.loss)
			opt := buildStep(t, tt.dims, tt.acts, tt.loss)
			m := &ir.Module{Funcs: []*ir.Func{opt}}
			if err := ir.OptimizeVerified(m, ir.DefaultPasses(), ir.Verify); err != nil {
				t.Fatal(err)
			}
			fused := 0
			for _, o := range opt.Ops {
				if d, _ := ir.Lookup(o.Kind); d.Class == ir.Fused {
					fused++
				}
			}
			if fused == 0 {
				t.Fatalf("no op fused:\n%s", opt)
			}
			in, params := stepData(t, ref, 16, 11)
			want := run(t, ref, in, params)
			got := run(t, opt, in, params)
			for name, w := range want {
				if d := maxRelDiff(got[name], w); d > 1e-5 {
					t.Errorf("%s: optimised differs by %.3g (relative)", name, d)
				}
			}
		})
	}
}

func run(tb testing.TB, f *ir.Func, in, params map[string]*Tensor) map[string]*Tensor {
	tb.Helper()
	p, err := Compile(f)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := p.Run(in, params)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// BenchmarkAutoencoderStep times forward and backward of the 784-256-64-256-784 ReLU
// autoencoder with a bce-with-logits loss at batch 128: as autodiff emits it, after
// simplification alone, and after the default pipeline with fusion.
func BenchmarkAutoencoderStep(b *testing.B) {
	dims := []int{784, 256, 64, 256, 784}
	acts := []string{"relu", "relu", "relu", "none"}
	simplify := []ir.Pass{ir.RewritePass("simplify", ir.SimplifyRules), {Name: "dce", Run: ir.DeadCode}}
	for _, bc := range []struct {
		name   string
		passes []ir.Pass
	}{
		{"unoptimized", nil},
		{"simplified", simplify},
		{"fused", ir.DefaultPasses()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := buildStep(b, dims, acts, "bce_logits")
			if bc.passes != nil {
				if err := ir.Optimize(&ir.Module{Funcs: []*ir.Func{f}}, bc.passes...); err != nil {
					b.Fatal(err)
				}
			}
			p, err := Compile(f)
			if err != nil {
				b.Fatal(err)
			}
			in, params := stepData(b, f, 128, 1)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Run(in, params); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDenseLayer times one 784→256 ReLU layer at batch 128, forward (dense against
// matmul, add, relu) and backward (matmul_act_grad against matmul, relu_grad), so that the
// epilogue's effect is not lost in the noise of a whole step.
func BenchmarkDenseLayer(b *testing.B) {
	B := ir.Sym("B")
	for _, bc := range []struct {
		name  string
		build func(bl *ir.Builder, x, w, bias, dz, w2, y *ir.Op) *ir.Op
	}{
		{"forward/unfused", func(bl *ir.Builder, x, w, bias, _, _, _ *ir.Op) *ir.Op {
			return bl.Op("relu", nil, bl.Op("add", nil, bl.Op("matmul", nil, x, w), bias))
		}},
		{"forward/fused", func(bl *ir.Builder, x, w, bias, _, _, _ *ir.Op) *ir.Op {
			return bl.Op("dense", ir.Attrs{"act": "relu"}, x, w, bias)
		}},
		{"backward/unfused", func(bl *ir.Builder, _, _, _, dz, w2, y *ir.Op) *ir.Op {
			return bl.Op("relu_grad", nil, bl.Op("matmul", ir.Attrs{"tb": true}, dz, w2), y)
		}},
		{"backward/fused", func(bl *ir.Builder, _, _, _, dz, w2, y *ir.Op) *ir.Op {
			return bl.Op("matmul_act_grad", ir.Attrs{"act": "relu", "tb": true}, dz, w2, y)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := ir.NewFunc("layer")
			bl := ir.NewBuilder(f)
			x := bl.Input("x", ir.F32(ir.Shape{B, ir.Const(784)}))
			w := bl.Input("w", ir.F32(S(784, 256)))
			bias := bl.Input("b", ir.F32(S(256)))
			dz := bl.Input("dz", ir.F32(ir.Shape{B, ir.Const(784)}))
			w2 := bl.Input("w2", ir.F32(S(256, 784)))
			y := bl.Input("y", ir.F32(ir.Shape{B, ir.Const(256)}))
			f.Outputs = []ir.Output{{Name: "out", Value: bc.build(bl, x, w, bias, dz, w2, y)}}
			if bl.Err != nil {
				b.Fatal(bl.Err)
			}
			p, err := Compile(f)
			if err != nil {
				b.Fatal(err)
			}
			r := rand.New(rand.NewPCG(3, 3))
			in := map[string]*Tensor{}
			for _, o := range f.Inputs {
				shape, _ := o.Type.Shape.Eval(map[string]int{"B": 128})
				t := NewTensor(shape...)
				for i := range t.Data {
					t.Data[i] = awayFromZero(r)
				}
				in[o.Name] = t
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Run(in, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
