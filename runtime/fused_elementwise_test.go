package runtime

import (
	"fmt"
	"math"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

// elementwiseFusionULP is the documented bound on how far fused_elementwise's elementwise
// results may be from the unfused ops', in units in the last place of float32: 0, the same
// bits. The kernel runs the unfused kernels' own loops over blocks aligned to the vector
// width.
const elementwiseFusionULP = 0

// reductionFusionULP bounds a fused sum or mean against the unfused one: 1 ulp. Both sum in
// float64, the fused kernel block by block and then the blocks' sums, the sum kernel
// element by element; the two float64 sums differ by far less than a float32 ulp, so they
// round to the same float32 or, at a rounding boundary, to neighbours.
const reductionFusionULP = 1

// ulpDiff is the distance between two float32s in units in the last place: the number of
// representable floats between them (0 for equal values, +0 and -0 included; NaN against
// anything but a NaN is infinitely far).
func ulpDiff(a, b float32) float64 {
	if a == b || math.IsNaN(float64(a)) && math.IsNaN(float64(b)) {
		return 0
	}
	if math.IsNaN(float64(a)) || math.IsNaN(float64(b)) {
		return math.Inf(1)
	}
	key := func(f float32) int64 { // monotone in f
		u := int64(math.Float32bits(f))
		if u&(1<<31) != 0 {
			return -(u &^ (1 << 31))
		}
		return u
	}
	return math.Abs(float64(key(a) - key(b)))
}

// maxULPs is the largest ulpDiff over two tensors of one shape.
func maxULPs(got, want *Tensor) float64 {
	if got == nil || want == nil || !sameShape(got.Shape, want.Shape) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range want.Data {
		d = max(d, ulpDiff(got.Data[i], want.Data[i]))
	}
	return d
}

// TestElementwiseFusionULP runs training steps with the dense fusions only and with
// elementwise fusion after them, on batches whose sizes leave ragged blocks and vector tails
// and, at batch 50 of 784 columns, split the blocks over the pool, and checks every
// gradient within elementwiseFusionULP and the loss within reductionFusionULP.
func TestElementwiseFusionULP(t *testing.T) {
	tests := []struct {
		dims []int
		acts []string
		loss string
	}{
		{[]int{784, 32, 784}, []string{"relu", "none"}, "bce_logits"},
		{[]int{30, 16, 8, 30}, []string{"tanh", "leaky_relu", "sigmoid"}, "mse"},
		{[]int{30, 16, 8, 30}, []string{"sigmoid", "none", "sigmoid"}, "bce"},
	}
	dense := []ir.Pass{ir.RewritePass("simplify", ir.SimplifyRules), ir.RewritePass("fuse", ir.FuseRules()), {Name: "dce", Run: ir.DeadCode}}
	for _, tt := range tests {
		for _, batch := range []int{3, 16, 50} {
			t.Run(fmt.Sprint(tt.dims, tt.acts, tt.loss, batch), func(t *testing.T) {
				ref := buildStep(t, tt.dims, tt.acts, tt.loss)
				opt := buildStep(t, tt.dims, tt.acts, tt.loss)
				if err := ir.OptimizeVerified(&ir.Module{Funcs: []*ir.Func{ref}}, dense, ir.Verify); err != nil {
					t.Fatal(err)
				}
				if err := ir.OptimizeVerified(&ir.Module{Funcs: []*ir.Func{opt}}, ir.DefaultPasses(), ir.Verify); err != nil {
					t.Fatal(err)
				}
				if kindCount(opt, "fused_elementwise") == 0 {
					t.Fatalf("nothing fused:\n%s", opt)
				}
				in, params := stepData(t, ref, batch, 7)
				want := run(t, ref, in, params)
				got := run(t, opt, in, params)
				for name, w := range want {
					bound := elementwiseFusionULP
					if len(w.Shape) == 0 { // the loss: a fused reduction
						bound = reductionFusionULP
					}
					if d := maxULPs(got[name], w); d > float64(bound) {
						t.Errorf("%s: fused differs by %g ulp, want at most %d", name, d, bound)
					}
				}
			})
		}
	}
}

func kindCount(f *ir.Func, kind string) int {
	n := 0
	for _, o := range f.Ops {
		if o.Kind == kind {
			n++
		}
	}
	return n
}

// TestFusibleKindsHaveLoops: every op kind the fusion pass may put in a program has a
// loop the fused kernel can run.
func TestFusibleKindsHaveLoops(t *testing.T) {
	for _, k := range ir.Kinds() {
		code := k + "(x0)"
		d, _ := ir.Lookup(k)
		if d.Arity < 1 {
			continue
		}
		if d.Arity == 2 {
			code = k + "(x0, x1)"
		}
		for _, a := range d.Attrs {
			code = k + "{" + a.Name + "=1}" + code[len(k):]
		}
		if _, err := ir.ParseElemCode(code, d.Arity); err != nil {
			continue // not fusible
		}
		op := &ir.Op{Kind: "fused_elementwise", Attrs: ir.Attrs{"code": code}}
		if _, err := elemProgramOf(op, d.Arity); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
}

// TestFusedElementwiseErrors: operands of two shapes and a bad reduction are errors.
func TestFusedElementwiseErrors(t *testing.T) {
	c := &Ctx{Env: map[string]int{}}
	op := &ir.Op{Kind: "fused_elementwise", Attrs: ir.Attrs{"code": "add(x0, x1)"}}
	if _, err := fusedElementwiseKernel(c, op, []*Tensor{NewTensor(2, 3), NewTensor(3, 2)}); err == nil {
		t.Error("operands [2, 3] and [3, 2]: no error")
	}
	op.Attrs["reduce"] = "max"
	if _, err := fusedElementwiseKernel(c, op, []*Tensor{NewTensor(2), NewTensor(2)}); err == nil {
		t.Error("reduce max: no error")
	}
	op = &ir.Op{Kind: "fused_elementwise", Attrs: ir.Attrs{"code": "matmul(x0, x1)"}}
	if _, err := fusedElementwiseKernel(c, op, []*Tensor{NewTensor(2), NewTensor(2)}); err == nil {
		t.Error("matmul in a program: no error")
	}
}
