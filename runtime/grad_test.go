package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"

	"github.com/dlc-lang/dlc/ir"
)

// The gradient check: every differentiable op kind has a case below whose ir.Grad result,
// run through the executor in float32, matches a central finite difference of the forward
// pass. The loss is sum(op(x...) * w) with fixed random w, so that every output element
// carries a different weight and a rule that mixes elements up cannot pass.

type gradCase struct {
	name  string
	kind  string
	attrs ir.Attrs
	in    []ir.Shape // operand types
	wrt   []int      // operands to differentiate; nil means all
	gen   []valueGen // per operand; missing means awayFromZero
	dims  map[string]int
	ints  [][]int32 // per operand: the values of an i32 index operand; nil for an f32 one
	bug   string    // a known bug in ir that makes the case fail; the case is skipped
}

// isIndex reports whether operand i is an i32 index, which has fixed values and no gradient.
func (c gradCase) isIndex(i int) bool { return i < len(c.ints) && c.ints[i] != nil }

// input appends operand i of shape s to b's func, as i32 when it is an index.
func (c gradCase) input(b *ir.Builder, i int, s ir.Shape) *ir.Op {
	if c.isIndex(i) {
		return b.Input(fmt.Sprintf("x%d", i), ir.I32(s))
	}
	return b.Input(fmt.Sprintf("x%d", i), ir.F32(s))
}

// value returns the tensor fed to operand i (or to the loss weights, past the operands):
// the index values, or f32 values drawn by the operand's generator.
func (c gradCase) value(t *testing.T, r *rand.Rand, i int, s ir.Shape) *Tensor {
	t.Helper()
	if c.isIndex(i) {
		shape, err := s.Eval(c.dims)
		if err != nil {
			t.Fatal(err)
		}
		x, err := FromInts(shape, append([]int32(nil), c.ints[i]...))
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	gen := awayFromZero
	if i < len(c.gen) && c.gen[i] != nil {
		gen = c.gen[i]
	}
	return randomTensor(t, r, s, c.dims, gen)
}

// valueGen draws one input element; each keeps clear of the op's kinks and poles.
type valueGen func(r *rand.Rand) float32

func awayFromZero(r *rand.Rand) float32 { // ±[0.2, 1)
	v := 0.2 + 0.8*r.Float32()
	if r.IntN(2) == 0 {
		return -v
	}
	return v
}
func positive(r *rand.Rand) float32    { return 0.5 + 1.5*r.Float32() } // [0.5, 2)
func probability(r *rand.Rand) float32 { return 0.1 + 0.8*r.Float32() } // (0.1, 0.9)
func unit(r *rand.Rand) float32        { return r.Float32() }           // [0, 1)

func S(dims ...int) ir.Shape {
	s := ir.Shape{}
	for _, d := range dims {
		s = append(s, ir.Const(d))
	}
	return s
}

func gradCases() []gradCase {
	var cs []gradCase
	for _, k := range []string{"add", "sub", "mul", "div"} {
		var g []valueGen
		if k == "div" {
			g = []valueGen{awayFromZero, positive}
		}
		for _, in := range [][]ir.Shape{
			{S(2, 3), S(2, 3)},
			{S(2, 3), S(3)},
			{S(3), S(2, 3)},
			{S(2, 1), S(1, 3)},
			{S(), S(2, 3)},
			{S(2, 3), S()},
			{S(2, 1, 3), S(4, 1)},
		} {
			cs = append(cs, gradCase{name: fmt.Sprintf("%s%v%v", k, in[0], in[1]), kind: k, in: in, gen: g})
		}
	}
	for _, k := range []string{"maximum", "minimum"} {
		for _, in := range [][]ir.Shape{{S(2, 3), S(2, 3)}, {S(2, 3), S(3)}, {S(), S(2, 3)}} {
			cs = append(cs, gradCase{name: fmt.Sprintf("%s%v%v", k, in[0], in[1]), kind: k, in: in})
		}
	}
	for _, k := range []string{"neg", "exp", "square", "abs", "relu", "sigmoid", "tanh"} {
		cs = append(cs, gradCase{kind: k, in: []ir.Shape{S(2, 3)}})
	}
	for _, k := range []string{"log", "sqrt"} {
		cs = append(cs, gradCase{kind: k, in: []ir.Shape{S(2, 3)}, gen: []valueGen{positive}})
	}
	cs = append(cs,
		gradCase{kind: "leaky_relu", attrs: ir.Attrs{"alpha": 0.1}, in: []ir.Shape{S(2, 3)}},
		gradCase{kind: "bce", in: []ir.Shape{S(2, 3), S(2, 3)}, gen: []valueGen{probability, unit}},
		gradCase{kind: "bce_logits", in: []ir.Shape{S(2, 3), S(2, 3)}, gen: []valueGen{awayFromZero, unit}},
	)
	for _, k := range []string{"sum", "mean"} {
		for _, a := range []ir.Attrs{
			nil,
			{"axes": []int{}, "keepdims": true},
			{"axes": []int{0}},
			{"axes": []int{1}, "keepdims": true},
			{"axes": []int{-1}},
		} {
			cs = append(cs, gradCase{name: fmt.Sprintf("%s%v", k, a), kind: k, attrs: a, in: []ir.Shape{S(2, 3)}})
		}
		cs = append(cs, gradCase{name: k + "3d", kind: k, attrs: ir.Attrs{"axes": []int{0, 2}}, in: []ir.Shape{S(2, 3, 4)}})
	}
	for _, in := range [][]ir.Shape{{S(2, 3), S(3)}, {S(2, 3), S(2, 1)}, {S(2, 3, 4), S(3, 1)}, {S(2, 3), S()}} {
		cs = append(cs, gradCase{name: fmt.Sprintf("sum_to%v%v", in[0], in[1]), kind: "sum_to", in: in, wrt: []int{0}})
	}
	cs = append(cs,
		gradCase{name: "broadcast_like/axes", kind: "broadcast_like", attrs: ir.Attrs{"axes": []int{1}}, in: []ir.Shape{S(2), S(2, 3)}, wrt: []int{0}},
		gradCase{name: "broadcast_like/keepdims", kind: "broadcast_like", attrs: ir.Attrs{"axes": []int{1}, "keepdims": true}, in: []ir.Shape{S(2, 1), S(2, 3)}, wrt: []int{0}},
		gradCase{name: "broadcast_like/scalar", kind: "broadcast_like", in: []ir.Shape{S(), S(2, 3)}, wrt: []int{0}},
		gradCase{name: "broadcast_like/numpy", kind: "broadcast_like", in: []ir.Shape{S(3), S(2, 3)}, wrt: []int{0}},
	)
	for _, t := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		a, b := S(2, 3), S(3, 4)
		if t[0] {
			a = S(3, 2)
		}
		if t[1] {
			b = S(4, 3)
		}
		cs = append(cs, gradCase{name: fmt.Sprintf("matmul/ta=%v,tb=%v", t[0], t[1]), kind: "matmul",
			attrs: ir.Attrs{"ta": t[0], "tb": t[1]}, in: []ir.Shape{a, b}})
	}
	// The fused ops' cases (every activation and transpose combination) live beside their
	// kernels in fused_test.go.
	cs = append(cs, fusedGradCases()...)
	cs = append(cs, convGradCases()...)
	cs = append(cs, graphGradCases()...)
	B := ir.Sym("B")
	cs = append(cs,
		gradCase{name: "reshape", kind: "reshape", attrs: ir.Attrs{"shape": S(3, 2)}, in: []ir.Shape{S(2, 3)}},
		gradCase{name: "reshape/symbolic", kind: "reshape", attrs: ir.Attrs{"shape": ir.Shape{ir.Const(2).Mul(B), ir.Const(3)}},
			in: []ir.Shape{{B, ir.Const(6)}}, dims: map[string]int{"B": 2}},
		gradCase{kind: "transpose", attrs: ir.Attrs{"perm": []int{2, 0, 1}}, in: []ir.Shape{S(2, 3, 4)}},
		gradCase{name: "concat/axis1", kind: "concat", attrs: ir.Attrs{"axis": 1}, in: []ir.Shape{S(2, 3), S(2, 2)}},
		gradCase{name: "concat/axis0x3", kind: "concat", attrs: ir.Attrs{"axis": 0}, in: []ir.Shape{S(1, 3), S(2, 3), S(1, 3)}},
		gradCase{name: "concat/axis-1", kind: "concat", attrs: ir.Attrs{"axis": -1}, in: []ir.Shape{S(2, 1), S(2, 2)}},
		gradCase{name: "slice/axis1", kind: "slice", attrs: ir.Attrs{"axis": 1, "start": 1, "end": 4}, in: []ir.Shape{S(2, 5)}},
		gradCase{name: "slice/axis-1", kind: "slice", attrs: ir.Attrs{"axis": -1, "start": 0, "end": 2}, in: []ir.Shape{S(2, 3, 4)}},
		gradCase{name: "unslice", kind: "unslice", attrs: ir.Attrs{"axis": 1, "start": 1, "end": 4}, in: []ir.Shape{S(2, 3), S(2, 5)}, wrt: []int{0}},
		gradCase{name: "softmax/last", kind: "softmax", attrs: ir.Attrs{"axis": -1}, in: []ir.Shape{S(2, 4)}},
		gradCase{name: "softmax/axis0", kind: "softmax", attrs: ir.Attrs{"axis": 0}, in: []ir.Shape{S(3, 2)}},
		gradCase{name: "log_softmax/last", kind: "log_softmax", attrs: ir.Attrs{"axis": -1}, in: []ir.Shape{S(2, 4)}},
		gradCase{name: "log_softmax/axis1of3", kind: "log_softmax", attrs: ir.Attrs{"axis": 1}, in: []ir.Shape{S(2, 3, 2)}},
	)
	return cs
}

// TestGradCoverage fails for a differentiable op kind without a finite-difference case.
func TestGradCoverage(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range gradCases() {
		if c.bug == "" {
			covered[c.kind] = true
		}
	}
	for _, k := range ir.Kinds() {
		d, _ := ir.Lookup(k)
		if d.Class == ir.Source || d.NoGrad {
			continue
		}
		if d.Grad == nil {
			t.Errorf("op %s has no gradient rule", k)
		}
		if !covered[k] {
			t.Errorf("op %s has no finite-difference check", k)
		}
	}
}

func TestGradFiniteDifference(t *testing.T) {
	for i, c := range gradCases() {
		name := c.name
		if name == "" {
			name = c.kind
		}
		t.Run(name, func(t *testing.T) {
			if c.bug != "" {
				t.Skip(c.bug)
			}
			checkGrad(t, c, uint64(i))
		})
	}
}

func checkGrad(t *testing.T, c gradCase, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	f := ir.NewFunc(c.kind)
	b := ir.NewBuilder(f)
	var xs []*ir.Op
	for i, s := range c.in {
		xs = append(xs, c.input(b, i, s))
	}
	y, err := b.Emit(c.kind, c.attrs, xs...)
	if err != nil {
		t.Fatalf("building %s: %v", c.kind, err)
	}
	w := b.Input("w", y.Type)
	loss := b.Op("sum", nil, b.Op("mul", nil, y, w))
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	wrt := c.wrt
	if wrt == nil {
		for i := range xs {
			if !c.isIndex(i) {
				wrt = append(wrt, i)
			}
		}
	}
	var wrtOps []*ir.Op
	for _, i := range wrt {
		wrtOps = append(wrtOps, xs[i])
	}
	grads, err := ir.Grad(f, loss, wrtOps)
	if err != nil {
		t.Fatal(err)
	}
	f.Outputs = append(f.Outputs, ir.Output{Name: "loss", Value: loss})
	for j, g := range grads {
		f.Outputs = append(f.Outputs, ir.Output{Name: fmt.Sprintf("grad:%d", j), Value: g})
	}
	p, err := Compile(f)
	if err != nil {
		t.Fatal(err)
	}

	inputs := map[string]*Tensor{}
	for i, x := range xs {
		inputs[x.Name] = c.value(t, r, i, x.Type.Shape)
	}
	inputs["w"] = randomTensor(t, r, w.Type.Shape, c.dims, awayFromZero)
	res, err := p.Run(inputs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range res { // the finite differences run p again, which reuses its buffers
		res[k] = v.Clone()
	}

	for j, i := range wrt {
		x := inputs[xs[i].Name]
		got := res[fmt.Sprintf("grad:%d", j)]
		if !sameShape(got.Shape, x.Shape) {
			t.Errorf("grad of operand %d: got shape %s, want %s", i, ShapeString(got.Shape), ShapeString(x.Shape))
			continue
		}
		orig := append([]float32{}, x.Data...)
		forward := func(v []float64) float64 {
			for k := range v {
				x.Data[k] = float32(v[k])
			}
			out, err := p.Run(inputs, nil)
			if err != nil {
				t.Fatal(err)
			}
			return float64(out["loss"].Data[0])
		}
		at := make([]float64, len(orig))
		for k, v := range orig {
			at[k] = float64(v)
		}
		want := fd.Gradient(nil, forward, at, &fd.Settings{Formula: fd.Central, Step: 1e-3})
		copy(x.Data, orig)
		for k := range want {
			g, n := float64(got.Data[k]), want[k]
			if math.Abs(g-n) > 1e-3+1e-2*math.Abs(n) {
				t.Errorf("d loss / d x%d[%d]: got %.6g, finite difference %.6g", i, k, g, n)
			}
		}
	}
}

func randomTensor(t *testing.T, r *rand.Rand, s ir.Shape, dims map[string]int, gen valueGen) *Tensor {
	t.Helper()
	shape, err := s.Eval(dims)
	if err != nil {
		t.Fatal(err)
	}
	x := NewTensor(shape...)
	for i := range x.Data {
		x.Data[i] = gen(r)
	}
	return x
}
