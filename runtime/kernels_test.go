package runtime

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

func tensor(shape []int, data ...float32) *Tensor {
	t, err := FromData(shape, data)
	if err != nil {
		panic(err)
	}
	return t
}

// runKernel applies the kernel of kind to args, with no symbols bound unless env says so.
func runKernel(kind string, attrs ir.Attrs, env map[string]int, args ...*Tensor) (*Tensor, error) {
	if env == nil {
		env = map[string]int{}
	}
	op := &ir.Op{Kind: kind, Attrs: attrs, Pos: ir.Pos{File: "k.dl", Line: 1, Col: 2}}
	return kernels[kind](&Ctx{Env: env}, op, args)
}

func close32(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > tol*(1+math.Abs(float64(b[i]))) {
			return false
		}
	}
	return true
}

func TestEveryOpHasKernel(t *testing.T) {
	for _, k := range ir.Kinds() {
		if !HasKernel(k) {
			t.Errorf("op %s has no kernel", k)
		}
	}
	for k := range kernels {
		if _, ok := ir.Lookup(k); !ok {
			t.Errorf("kernel %s has no op in the ir op table", k)
		}
	}
}

// naiveBroadcast is the reference for the arithmetic kernels: index arithmetic per element.
func naiveBroadcast(o binOp, a, b *Tensor) *Tensor {
	shape, _ := broadcastShapes(nil, a.Shape, b.Shape)
	out := NewTensor(shape...)
	at := func(x *Tensor, idx []int) float32 {
		off := 0
		for i, d := range x.Shape {
			j := idx[len(idx)-len(x.Shape)+i]
			if d == 1 {
				j = 0
			}
			off = off*d + j
		}
		return x.Data[off]
	}
	idx := make([]int, len(shape))
	for i := range out.Data {
		r := i
		for k := len(shape) - 1; k >= 0; k-- {
			idx[k] = r % shape[k]
			r /= shape[k]
		}
		out.Data[i] = o.apply(at(a, idx), at(b, idx))
	}
	return out
}

func TestBinaryBroadcast(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := [][2][]int{
		{{2, 3}, {2, 3}},
		{{2, 3}, {3}},    // row bias
		{{3}, {2, 3}},    // row bias on the left
		{{2, 3}, {2, 1}}, // column
		{{2, 1}, {1, 3}}, // outer
		{{}, {2, 3}},     // scalar
		{{2, 3}, {1}},    // one element, lower rank
		{{1, 1, 1}, {2}}, // one element, higher rank
		{{2, 1, 3}, {4, 1}},
		{{4, 1, 5, 1}, {3, 1, 2}},
		{{2, 0}, {1}}, // empty
	}
	names := map[binOp]string{opAdd: "add", opSub: "sub", opMul: "mul", opDiv: "div"}
	for _, c := range cases {
		a := randomFilled(r, c[0])
		b := randomFilled(r, c[1])
		for o, name := range names {
			got, err := runKernel(name, nil, nil, a, b)
			if err != nil {
				t.Fatalf("%s %v %v: %v", name, c[0], c[1], err)
			}
			want := naiveBroadcast(o, a, b)
			if !sameShape(got.Shape, want.Shape) || !close32(got.Data, want.Data, 0) {
				t.Errorf("%s %v %v: got %v, want %v", name, c[0], c[1], got, want)
			}
		}
	}
	_, err := runKernel("add", nil, nil, NewTensor(2, 3), NewTensor(2))
	if want := "runtime: add at k.dl:1:2: got [2, 3] and [2], want broadcastable shapes"; err == nil || err.Error() != want {
		t.Errorf("got error %v, want %q", err, want)
	}
}

func randomFilled(r *rand.Rand, shape []int) *Tensor {
	x := NewTensor(shape...)
	for i := range x.Data {
		x.Data[i] = float32(r.IntN(9)+1) * float32(1-2*r.IntN(2)) / 4
	}
	return x
}

// elementwiseULPs bounds the distance of an elementwise kernel's result from the float64
// result rounded to float32: spec.md's bound for the kernel (at most 3 ulps, for the losses)
// plus the half ulp of that rounding, rounded down to whole float32 steps.
const elementwiseULPs = 3

// withinULPs reports whether got and want have the same length and each got[i] is at most
// n float32 steps from want[i], with NaN matching only NaN.
func withinULPs(got, want []float32, n int64) bool {
	if len(got) != len(want) {
		return false
	}
	ord := func(x float32) int64 {
		b := math.Float32bits(x)
		if b>>31 == 1 {
			return -int64(b &^ (1 << 31))
		}
		return int64(b)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g != g || w != w {
			if g == g || w == w {
				return false
			}
			continue
		}
		if d := ord(g) - ord(w); d > n || d < -n {
			return false
		}
	}
	return true
}

func TestElementwise(t *testing.T) {
	x := tensor([]int{5}, -2, -0.5, 0, 0.5, 2)
	e := func(v float64) float32 { return float32(v) }
	cases := []struct {
		kind  string
		attrs ir.Attrs
		args  []*Tensor
		want  []float32
	}{
		{"neg", nil, []*Tensor{x}, []float32{2, 0.5, 0, -0.5, -2}},
		{"exp", nil, []*Tensor{x}, []float32{e(math.Exp(-2)), e(math.Exp(-0.5)), 1, e(math.Exp(0.5)), e(math.Exp(2))}},
		{"log", nil, []*Tensor{tensor([]int{3}, 1, math.E, 0)}, []float32{0, 1, float32(math.Inf(-1))}},
		{"sqrt", nil, []*Tensor{tensor([]int{3}, 0, 4, 2.25)}, []float32{0, 2, 1.5}},
		{"square", nil, []*Tensor{x}, []float32{4, 0.25, 0, 0.25, 4}},
		{"abs", nil, []*Tensor{x}, []float32{2, 0.5, 0, 0.5, 2}},
		{"sign", nil, []*Tensor{x}, []float32{-1, -1, 0, 1, 1}},
		{"relu", nil, []*Tensor{x}, []float32{0, 0, 0, 0.5, 2}},
		{"leaky_relu", ir.Attrs{"alpha": 0.1}, []*Tensor{x}, []float32{-0.2, -0.05, 0, 0.5, 2}},
		{"sigmoid", nil, []*Tensor{tensor([]int{4}, 0, -100, 100, 2)}, []float32{0.5, e(1 / (1 + math.Exp(100))), 1, e(1 / (1 + math.Exp(-2)))}},
		{"tanh", nil, []*Tensor{x}, []float32{e(math.Tanh(-2)), e(math.Tanh(-0.5)), 0, e(math.Tanh(0.5)), e(math.Tanh(2))}},
		{"relu_grad", nil, []*Tensor{tensor([]int{3}, 5, 6, 7), tensor([]int{3}, 0, 1, -1)}, []float32{0, 6, 0}},
		{"leaky_relu_grad", ir.Attrs{"alpha": 0.1}, []*Tensor{tensor([]int{2}, 5, 6), tensor([]int{2}, -1, 1)}, []float32{0.5, 6}},
		{"sigmoid_grad", nil, []*Tensor{tensor([]int{2}, 2, 4), tensor([]int{2}, 0.5, 0.25)}, []float32{0.5, 0.75}},
		{"tanh_grad", nil, []*Tensor{tensor([]int{2}, 2, 4), tensor([]int{2}, 0.5, 0)}, []float32{1.5, 4}},
		// PyTorch clamps each log at -100, so p = 0 or 1 costs 100, not Inf.
		{"bce", nil, []*Tensor{tensor([]int{4}, 0.5, 0, 1, 0.9), tensor([]int{4}, 1, 1, 0, 1)},
			[]float32{e(math.Ln2), 100, 100, e(-math.Log(float64(float32(0.9))))}},
		{"bce_grad", nil, []*Tensor{tensor([]int{2}, 0.5, 0.2), tensor([]int{2}, 1, 0)}, []float32{-2, 1.25}},
		{"bce_logits", nil, []*Tensor{tensor([]int{4}, 0, 100, -100, 2), tensor([]int{4}, 1, 1, 1, 0)},
			[]float32{e(math.Ln2), e(math.Log1p(math.Exp(-100))), 100, e(2 + math.Log1p(math.Exp(-2)))}},
	}
	for _, c := range cases {
		got, err := runKernel(c.kind, c.attrs, nil, c.args...)
		if err != nil {
			t.Errorf("%s: %v", c.kind, err)
			continue
		}
		if !withinULPs(got.Data, c.want, elementwiseULPs) {
			t.Errorf("%s: got %v, want %v within %d ulps", c.kind, got.Data, c.want, elementwiseULPs)
		}
	}
	_, err := runKernel("relu_grad", nil, nil, NewTensor(2), NewTensor(3))
	if want := "runtime: relu_grad at k.dl:1:2: got [2] and [3], want equal shapes"; err == nil || err.Error() != want {
		t.Errorf("got error %v, want %q", err, want)
	}
}

// TestGradientLoopULPs checks the rational elementwise gradients against float64 arithmetic
// on random operands in their working ranges: within 2 ulps of the exact result (spec.md).
func TestGradientLoopULPs(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const n = 1 << 16
	cases := []struct {
		kind string
		a, b func() float32
		ref  func(a, b float64) float64
	}{
		{"sigmoid_grad", func() float32 { return float32(r.NormFloat64()) }, r.Float32,
			func(dy, y float64) float64 { return dy * y * (1 - y) }},
		{"tanh_grad", func() float32 { return float32(r.NormFloat64()) }, func() float32 { return 2*r.Float32() - 1 },
			func(dy, y float64) float64 { return dy * (1 - y*y) }},
		{"bce_grad", r.Float32, r.Float32,
			func(p, t float64) float64 { return (p - t) / math.Max(p*(1-p), float64(float32(1e-12))) }},
	}
	for _, c := range cases {
		a, b, dst := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range a {
			a[i], b[i] = c.a(), c.b()
		}
		pairLoops[c.kind](dst, a, b, &ir.Op{})
		worst := 0.0
		for i, g := range dst {
			want := c.ref(float64(a[i]), float64(b[i]))
			_, e := math.Frexp(want) // ulp: 2^(e-24) in want's binade, 2^-149 among subnormals
			worst = math.Max(worst, math.Abs(float64(g)-want)/math.Ldexp(1, max(e-24, -149)))
		}
		if worst > 2 {
			t.Errorf("%s: max error %.3f ulp, want ≤ 2", c.kind, worst)
		}
	}
}

func TestReductions(t *testing.T) {
	x := tensor([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	x3 := NewTensor(2, 3, 4)
	for i := range x3.Data {
		x3.Data[i] = float32(i)
	}
	cases := []struct {
		kind  string
		attrs ir.Attrs
		args  []*Tensor
		shape []int
		want  []float32
	}{
		{"sum", nil, []*Tensor{x}, []int{}, []float32{21}},
		{"sum", ir.Attrs{"keepdims": true}, []*Tensor{x}, []int{1, 1}, []float32{21}},
		{"sum", ir.Attrs{"axes": []int{0}}, []*Tensor{x}, []int{3}, []float32{5, 7, 9}},
		{"sum", ir.Attrs{"axes": []int{1}, "keepdims": true}, []*Tensor{x}, []int{2, 1}, []float32{6, 15}},
		{"sum", ir.Attrs{"axes": []int{-1}}, []*Tensor{x}, []int{2}, []float32{6, 15}},
		{"sum", ir.Attrs{"axes": []int{0, 2}}, []*Tensor{x3}, []int{3}, []float32{0 + 1 + 2 + 3 + 12 + 13 + 14 + 15, 92, 124}},
		{"sum", ir.Attrs{"axes": []int{1}, "keepdims": true}, []*Tensor{x3}, []int{2, 1, 4}, []float32{12, 15, 18, 21, 48, 51, 54, 57}},
		{"mean", nil, []*Tensor{x}, []int{}, []float32{3.5}},
		{"mean", ir.Attrs{"axes": []int{0}, "keepdims": true}, []*Tensor{x}, []int{1, 3}, []float32{2.5, 3.5, 4.5}},
		{"mean", ir.Attrs{"axes": []int{1}}, []*Tensor{x}, []int{2}, []float32{2, 5}},
		{"count", nil, []*Tensor{x3}, []int{}, []float32{24}},
		{"count", ir.Attrs{"axes": []int{0, -1}}, []*Tensor{x3}, []int{}, []float32{8}},
		{"sum_to", nil, []*Tensor{x, NewTensor(3)}, []int{3}, []float32{5, 7, 9}},
		{"sum_to", nil, []*Tensor{x, NewTensor(2, 1)}, []int{2, 1}, []float32{6, 15}},
		{"sum_to", nil, []*Tensor{x, NewTensor()}, []int{}, []float32{21}},
		{"sum_to", nil, []*Tensor{x, NewTensor(2, 3)}, []int{2, 3}, x.Data},
		{"broadcast_like", nil, []*Tensor{tensor([]int{}, 7), x}, []int{2, 3}, []float32{7, 7, 7, 7, 7, 7}},
		{"broadcast_like", ir.Attrs{"axes": []int{1}}, []*Tensor{tensor([]int{2}, 1, 2), x}, []int{2, 3}, []float32{1, 1, 1, 2, 2, 2}},
		{"broadcast_like", ir.Attrs{"axes": []int{0}}, []*Tensor{tensor([]int{3}, 1, 2, 3), x}, []int{2, 3}, []float32{1, 2, 3, 1, 2, 3}},
		{"broadcast_like", ir.Attrs{"axes": []int{1}, "keepdims": true}, []*Tensor{tensor([]int{2, 1}, 1, 2), x}, []int{2, 3}, []float32{1, 1, 1, 2, 2, 2}},
		{"broadcast_like", nil, []*Tensor{tensor([]int{3}, 1, 2, 3), x}, []int{2, 3}, []float32{1, 2, 3, 1, 2, 3}},
	}
	for _, c := range cases {
		got, err := runKernel(c.kind, c.attrs, nil, c.args...)
		if err != nil {
			t.Errorf("%s%v: %v", c.kind, c.attrs, err)
			continue
		}
		if !sameShape(got.Shape, c.shape) || !close32(got.Data, c.want, 1e-6) {
			t.Errorf("%s%v: got %v, want %v%v", c.kind, c.attrs, got, ShapeString(c.shape), c.want)
		}
	}
	for _, c := range []struct {
		kind  string
		attrs ir.Attrs
		args  []*Tensor
		err   string
	}{
		{"sum", ir.Attrs{"axes": []int{2}}, []*Tensor{x}, "runtime: sum at k.dl:1:2: axis 2 out of range for rank 2"},
		{"sum_to", nil, []*Tensor{x, NewTensor(2)}, "runtime: sum_to at k.dl:1:2: got [2, 3], want a shape that [2] broadcasts to"},
		{"broadcast_like", ir.Attrs{"axes": []int{1}}, []*Tensor{NewTensor(3), x}, "runtime: broadcast_like at k.dl:1:2: got [3], want a shape that broadcasts to [2, 3]"},
	} {
		_, err := runKernel(c.kind, c.attrs, nil, c.args...)
		if err == nil || err.Error() != c.err {
			t.Errorf("%s: got error %v, want %q", c.kind, err, c.err)
		}
	}
}

// naiveMatmul computes op(a)·op(b) with three loops in float64.
func naiveMatmul(a, b *Tensor, ta, tb bool) *Tensor {
	at := func(x *Tensor, t bool, i, j int) float64 {
		if t {
			i, j = j, i
		}
		return float64(x.Data[i*x.Shape[1]+j])
	}
	m, k := a.Shape[0], a.Shape[1]
	if ta {
		m, k = k, m
	}
	n := b.Shape[1]
	if tb {
		n = b.Shape[0]
	}
	out := NewTensor(m, n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for l := 0; l < k; l++ {
				s += at(a, ta, i, l) * at(b, tb, l, j)
			}
			out.Data[i*n+j] = float32(s)
		}
	}
	return out
}

func TestMatmul(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, size := range [][3]int{{1, 1, 1}, {3, 4, 5}, {70, 130, 90}} {
		m, k, n := size[0], size[1], size[2]
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			as, bs := []int{m, k}, []int{k, n}
			if tr[0] {
				as = []int{k, m}
			}
			if tr[1] {
				bs = []int{n, k}
			}
			a, b := randomFilled(r, as), randomFilled(r, bs)
			got, err := runKernel("matmul", ir.Attrs{"ta": tr[0], "tb": tr[1]}, nil, a, b)
			if err != nil {
				t.Fatal(err)
			}
			if want := naiveMatmul(a, b, tr[0], tr[1]); !sameShape(got.Shape, want.Shape) || !close32(got.Data, want.Data, 1e-5) {
				t.Errorf("matmul %v ta=%v tb=%v: result differs from the naive product", size, tr[0], tr[1])
			}
		}
	}
	got, err := runKernel("matmul", nil, nil, NewTensor(0, 3), NewTensor(3, 2))
	if err != nil || !sameShape(got.Shape, []int{0, 2}) {
		t.Errorf("empty matmul: got %v, %v", got, err)
	}
	_, err = runKernel("matmul", ir.Attrs{"tb": true}, nil, NewTensor(2, 3), NewTensor(3, 2))
	if want := "runtime: matmul at k.dl:1:2: got [2, 3] and [3, 2] (ta=false, tb=true), want equal inner dimensions"; err == nil || err.Error() != want {
		t.Errorf("got error %v, want %q", err, want)
	}
}

func TestSoftmax(t *testing.T) {
	x := tensor([]int{2, 3}, 1, 2, 3, 1000, 1001, 1002) // the second row overflows a naive exp
	for _, axis := range []int{-1, 0} {
		y, err := runKernel("softmax", ir.Attrs{"axis": axis}, nil, x)
		if err != nil {
			t.Fatal(err)
		}
		ly, err := runKernel("log_softmax", ir.Attrs{"axis": axis}, nil, x)
		if err != nil {
			t.Fatal(err)
		}
		outer, n, inner := splitAt(x.Shape, (axis+2)%2)
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				var s float64
				for j := 0; j < n; j++ {
					k := (o*n+j)*inner + i
					s += float64(y.Data[k])
					if d := math.Abs(math.Exp(float64(ly.Data[k])) - float64(y.Data[k])); d > 1e-6 {
						t.Errorf("axis %d: exp(log_softmax) differs from softmax by %g", axis, d)
					}
				}
				if math.Abs(s-1) > 1e-6 {
					t.Errorf("axis %d: slice sums to %g, want 1", axis, s)
				}
			}
		}
	}
	y, _ := runKernel("softmax", ir.Attrs{"axis": -1}, nil, x)
	if !close32(y.Data[:3], y.Data[3:], 1e-6) {
		t.Errorf("softmax is not shift-invariant: %v", y.Data)
	}
}

func TestMovement(t *testing.T) {
	x := tensor([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	cases := []struct {
		kind  string
		attrs ir.Attrs
		env   map[string]int
		args  []*Tensor
		shape []int
		want  []float32
	}{
		{"reshape", ir.Attrs{"shape": S(3, 2)}, nil, []*Tensor{x}, []int{3, 2}, x.Data},
		{"reshape", ir.Attrs{"shape": ir.Shape{ir.Sym("B"), ir.Const(3).Mul(ir.Sym("C"))}}, map[string]int{"B": 1, "C": 2},
			[]*Tensor{x}, []int{1, 6}, x.Data},
		{"transpose", ir.Attrs{"perm": []int{1, 0}}, nil, []*Tensor{x}, []int{3, 2}, []float32{1, 4, 2, 5, 3, 6}},
		{"transpose", ir.Attrs{"perm": []int{0, 1}}, nil, []*Tensor{x}, []int{2, 3}, x.Data},
		{"transpose", ir.Attrs{"perm": []int{2, 0, 1}}, nil, []*Tensor{tensor([]int{1, 2, 3}, 1, 2, 3, 4, 5, 6)}, []int{3, 1, 2}, []float32{1, 4, 2, 5, 3, 6}},
		{"concat", ir.Attrs{"axis": 0}, nil, []*Tensor{x, tensor([]int{1, 3}, 7, 8, 9)}, []int{3, 3}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"concat", ir.Attrs{"axis": -1}, nil, []*Tensor{x, tensor([]int{2, 1}, 7, 8)}, []int{2, 4}, []float32{1, 2, 3, 7, 4, 5, 6, 8}},
		{"slice", ir.Attrs{"axis": 1, "start": 1, "end": 3}, nil, []*Tensor{x}, []int{2, 2}, []float32{2, 3, 5, 6}},
		{"slice", ir.Attrs{"axis": 0, "start": 1, "end": 2}, nil, []*Tensor{x}, []int{1, 3}, []float32{4, 5, 6}},
		{"unslice", ir.Attrs{"axis": -1, "start": 1, "end": 3}, nil, []*Tensor{tensor([]int{2, 2}, 2, 3, 5, 6), x}, []int{2, 3}, []float32{0, 2, 3, 0, 5, 6}},
	}
	for _, c := range cases {
		got, err := runKernel(c.kind, c.attrs, c.env, c.args...)
		if err != nil {
			t.Errorf("%s%v: %v", c.kind, c.attrs, err)
			continue
		}
		if !sameShape(got.Shape, c.shape) || !close32(got.Data, c.want, 0) {
			t.Errorf("%s%v: got %v, want %v%v", c.kind, c.attrs, got, ShapeString(c.shape), c.want)
		}
	}
	for _, c := range []struct {
		kind  string
		attrs ir.Attrs
		env   map[string]int
		args  []*Tensor
		err   string
	}{
		{"reshape", ir.Attrs{"shape": ir.Shape{ir.Sym("B"), ir.Const(4)}}, map[string]int{"B": 2}, []*Tensor{x},
			"runtime: reshape at k.dl:1:2: got [2, 3] (6 elements), want [B, 4] = [2, 4] (8 elements)"},
		{"reshape", ir.Attrs{"shape": ir.Shape{ir.Sym("B"), ir.Const(3)}}, nil, []*Tensor{x},
			"runtime: reshape at k.dl:1:2: shape [B, 3]: unbound dimension B"},
		{"transpose", ir.Attrs{"perm": []int{0, 0}}, nil, []*Tensor{x},
			"runtime: transpose at k.dl:1:2: got perm [0 0] for [2, 3], want a permutation of 2 axes"},
		{"concat", ir.Attrs{"axis": 0}, nil, []*Tensor{x, NewTensor(1, 2)},
			"runtime: concat at k.dl:1:2: got [2, 3] and [1, 2], want equal shapes except on axis 0"},
		{"slice", ir.Attrs{"axis": 1, "start": 2, "end": 4}, nil, []*Tensor{x},
			"runtime: slice at k.dl:1:2: got slice [2:4] of axis 1 of [2, 3], want 0 <= start < end <= 3"},
		{"unslice", ir.Attrs{"axis": 1, "start": 0, "end": 2}, nil, []*Tensor{NewTensor(2, 3), x},
			"runtime: unslice at k.dl:1:2: got [2, 3], want [2, 2]"},
	} {
		_, err := runKernel(c.kind, c.attrs, c.env, c.args...)
		if err == nil || err.Error() != c.err {
			t.Errorf("%s: got error %v, want %q", c.kind, err, c.err)
		}
	}
}

func TestErrorWithoutPosition(t *testing.T) {
	op := &ir.Op{Kind: "matmul"}
	_, err := kernels["matmul"](&Ctx{}, op, []*Tensor{NewTensor(2), NewTensor(2)})
	if err == nil || !strings.HasPrefix(err.Error(), "runtime: matmul: got [2] and [2]") {
		t.Errorf("got %v", err)
	}
}
