package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

// unplanned turns the buffer plan of p off: every kernel allocates afresh, as before the
// plan existed. It is the reference the planned runs must match bit for bit.
func unplanned(p *Program) *Program {
	for i := range p.steps {
		p.steps[i].buf = -1
	}
	p.bufs = nil
	return p
}

// poison fills every planned buffer, to its capacity, with NaN: a kernel that reads its
// result before writing it, or leaves an element unwritten, then shows it.
func poison(p *Program) {
	nan := float32(math.NaN())
	for _, t := range p.bufs {
		d := t.Data[:cap(t.Data)]
		for i := range d {
			d[i] = nan
		}
	}
}

func cloneResults(res map[string]*Tensor) map[string]*Tensor {
	out := make(map[string]*Tensor, len(res))
	for k, v := range res {
		out[k] = v.Clone()
	}
	return out
}

// sameBits reports the first output whose shape or bits differ between got and want.
func sameBits(got, want map[string]*Tensor) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d outputs, want %d", len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		if g == nil || !sameShape(g.Shape, w.Shape) {
			return fmt.Errorf("%s: got %v, want shape %s", k, g, ShapeString(w.Shape))
		}
		for i := range w.Data {
			if math.Float32bits(g.Data[i]) != math.Float32bits(w.Data[i]) {
				return fmt.Errorf("%s[%d]: got %v, want %v", k, i, g.Data[i], w.Data[i])
			}
		}
	}
	return nil
}

// planCase builds the graph of checkGrad for c (the op, a weighted sum as loss and the
// gradient of every operand), or only the op when it has no gradient.
func planCase(t *testing.T, c gradCase) (*ir.Func, map[string]*Tensor) {
	t.Helper()
	r := rand.New(rand.NewPCG(5, 5))
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
	f.Outputs = []ir.Output{{Name: "y", Value: y}}
	if d, _ := ir.Lookup(c.kind); !d.NoGrad && len(xs) > 0 {
		w := b.Input("w", y.Type)
		loss := b.Op("sum", nil, b.Op("mul", nil, y, w))
		var wrt []*ir.Op
		for i, x := range xs {
			if !c.isIndex(i) {
				wrt = append(wrt, x)
			}
		}
		grads, err := ir.Grad(f, loss, wrt)
		if err != nil {
			t.Fatal(err)
		}
		f.Outputs = append(f.Outputs, ir.Output{Name: "loss", Value: loss})
		for j, g := range grads {
			f.Outputs = append(f.Outputs, ir.Output{Name: fmt.Sprintf("grad:%d", j), Value: g})
		}
	}
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	in := map[string]*Tensor{}
	for i, x := range f.Inputs {
		in[x.Name] = c.value(t, r, i, x.Type.Shape)
	}
	return f, in
}

// planOnlyCases cover the kernels no gradient case runs: ops without a gradient, and
// the fused backward op.
func planOnlyCases() []gradCase {
	draw := func(extra ir.Attrs) ir.Attrs {
		a := ir.Attrs{"shape": S(3, 5), "stream": 1}
		for k, v := range extra {
			a[k] = v
		}
		return a
	}
	return []gradCase{
		{kind: "argmax", attrs: ir.Attrs{"axis": -1}, in: []ir.Shape{S(3, 4)}},
		{kind: "argmax", attrs: ir.Attrs{"axis": 0}, in: []ir.Shape{S(3, 4)}},
		{kind: "eq", in: []ir.Shape{S(2, 3), S(3)}},
		{kind: "count", attrs: ir.Attrs{"axes": []int{1}}, in: []ir.Shape{S(2, 3)}},
		{kind: "sign", in: []ir.Shape{S(2, 3)}},
		{kind: "stop_gradient", in: []ir.Shape{S(2, 3)}},
		{kind: "random_normal", attrs: draw(ir.Attrs{"mean": 0.0, "std": 1.0})},
		{kind: "random_uniform", attrs: draw(ir.Attrs{"low": 0.0, "high": 1.0})},
		{kind: "random_bernoulli", attrs: draw(ir.Attrs{"p": 0.5})},
		{kind: "matmul_act_grad", attrs: ir.Attrs{"act": "relu", "tb": true}, in: []ir.Shape{S(4, 3), S(5, 3), S(4, 5)}},
		{kind: "matmul_act_grad", attrs: ir.Attrs{"act": "sigmoid"}, in: []ir.Shape{S(4, 3), S(3, 5), S(4, 5)}},
		{kind: "max_pool2d_grad", attrs: ir.Attrs{"kernel": 3, "stride": 2, "pad": 1}, in: []ir.Shape{S(1, 2, 3, 4), S(1, 2, 5, 7)}},
	}
}

// TestPlanDirtyBuffers runs every kernel, through the gradient graphs of the
// finite-difference cases, with its planned buffers and then again on the same buffers
// filled with NaN, and compares both runs bit for bit with a run where every kernel
// allocates afresh: the overwriteKinds table is right when a kernel listed there writes
// every element, and the liveness is right when no value is overwritten while it is read.
func TestPlanDirtyBuffers(t *testing.T) {
	cases := append(append(append(gradCases(), fusedGradCases()...), convGradCases()...), planOnlyCases()...)
	covered := map[string]bool{}
	for i, c := range cases {
		name := c.name
		if name == "" {
			name = fmt.Sprintf("%s/%d", c.kind, i)
		}
		t.Run(name, func(t *testing.T) {
			f, in := planCase(t, c)
			ref, err := Compile(f)
			if err != nil {
				t.Fatal(err)
			}
			want, err := unplanned(ref).Run(in, nil)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Compile(f)
			if err != nil {
				t.Fatal(err)
			}
			for run := 0; run < 3; run++ {
				if run > 0 {
					poison(p)
				}
				p.Runs = 0 // the same draws
				got, err := p.Run(in, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := sameBits(got, want); err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
			}
			for _, s := range p.steps {
				if s.kernel != nil {
					covered[s.op.Kind] = true
				}
			}
		})
	}
	for k := range kernels {
		if !covered[k] {
			t.Errorf("kernel %s is not run by any case on reused buffers", k)
		}
	}
	for k := range overwriteKinds {
		if kernels[k] == nil {
			t.Errorf("overwriteKinds lists %s, which has no kernel", k)
		}
	}
	for k := range viewKinds {
		if kernels[k] == nil {
			t.Errorf("viewKinds lists %s, which has no kernel", k)
		}
	}
}

// TestPlanBatchSizes runs an autoencoder's training step at batch sizes that grow and
// shrink, as the last partial batch of an epoch does, and compares every run bit for bit
// with fresh allocation; the buffers must not grow once the largest batch has run.
func TestPlanBatchSizes(t *testing.T) {
	f := buildStep(t, []int{30, 16, 8, 30}, []string{"relu", "sigmoid", "none"}, "bce_logits")
	if err := ir.Optimize(&ir.Module{Funcs: []*ir.Func{f}}); err != nil {
		t.Fatal(err)
	}
	ref, err := Compile(f)
	if err != nil {
		t.Fatal(err)
	}
	unplanned(ref)
	p, err := Compile(f)
	if err != nil {
		t.Fatal(err)
	}
	var peak, peakBatch int
	for i, batch := range []int{8, 3, 16, 5, 16, 1} {
		in, params := stepData(t, f, batch, uint64(i))
		want, err := ref.Run(in, params)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.Run(in, params)
		if err != nil {
			t.Fatal(err)
		}
		if err := sameBits(got, want); err != nil {
			t.Fatalf("batch %d: %v", batch, err)
		}
		if plan, err := p.PlanBytes(map[string]int{"B": max(batch, peakBatch)}); err != nil || plan != p.PlannedBytes() {
			t.Errorf("batch %d: PlanBytes %d (%v), want the %d bytes held", batch, plan, err, p.PlannedBytes())
		}
		peakBatch = max(batch, peakBatch)
		if batch == 16 {
			if peak != 0 && p.PlannedBytes() != peak {
				t.Errorf("batch 16 again: buffers grew from %d to %d bytes", peak, p.PlannedBytes())
			}
			peak = p.PlannedBytes()
		}
	}
	if p.PlannedBytes() != peak {
		t.Errorf("smaller batches changed the buffers from %d to %d bytes", peak, p.PlannedBytes())
	}
}

// TestPlanReusesBuffers checks that a training step holds fewer buffers than it has
// results, and that a run in steady state allocates no tensor storage.
func TestPlanReusesBuffers(t *testing.T) {
	f := buildStep(t, []int{30, 16, 8, 30}, []string{"relu", "sigmoid", "none"}, "bce_logits")
	// The dense fusions only: elementwise fusion leaves no chain of elementwise ops to run
	// in place, which is what this test looks for.
	dense := []ir.Pass{ir.RewritePass("simplify", ir.SimplifyRules), ir.RewritePass("fuse", ir.FuseRules()), {Name: "dce", Run: ir.DeadCode}}
	if err := ir.Optimize(&ir.Module{Funcs: []*ir.Func{f}}, dense...); err != nil {
		t.Fatal(err)
	}
	p, err := Compile(f)
	if err != nil {
		t.Fatal(err)
	}
	planned := 0
	for _, s := range p.steps {
		if s.buf >= 0 {
			planned++
		}
	}
	if len(p.bufs) >= planned {
		t.Errorf("%d buffers for %d results, want fewer", len(p.bufs), planned)
	}
	inPlace := 0
	for _, s := range p.steps {
		if s.inPlace {
			inPlace++
		}
	}
	if inPlace == 0 {
		t.Error("no elementwise op writes over its operand")
	}
	in, params := stepData(t, f, 16, 1)
	if _, err := p.Run(in, params); err != nil {
		t.Fatal(err)
	}
	before := p.PlannedBytes()
	allocs := testing.AllocsPerRun(10, func() {
		if _, err := p.Run(in, params); err != nil {
			t.Fatal(err)
		}
	})
	if p.PlannedBytes() != before {
		t.Errorf("buffers grew from %d to %d bytes in steady state", before, p.PlannedBytes())
	}
	// What remains is small: kernels' shape slices, views' headers, attribute lookups.
	if limit := float64(4 * len(p.steps)); allocs > limit {
		t.Errorf("%.0f allocations per run, want at most %.0f", allocs, limit)
	}
}

// TestStorageCheck: a kernel that returns its operand without being declared a view is
// refused, since the plan would free the operand's buffer under it.
func TestStorageCheck(t *testing.T) {
	x := NewTensor(2, 3)
	s := &step{op: &ir.Op{Kind: "relu"}}
	if err := checkStorage(s, &Tensor{Shape: []int{3, 2}, Data: x.Data}, []*Tensor{x}); err == nil {
		t.Error("an undeclared view passed")
	}
	s.view = true
	if err := checkStorage(s, NewTensor(2, 3), []*Tensor{x}); err == nil {
		t.Error("a declared view returning new storage passed")
	}
	if err := checkStorage(s, &Tensor{Shape: []int{6}, Data: x.Data}, []*Tensor{x}); err != nil {
		t.Error(err)
	}
}

func TestPlanBytesUnbound(t *testing.T) {
	f := buildStep(t, []int{6, 4, 6}, []string{"relu", "none"}, "mse")
	p, err := Compile(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PlanBytes(nil); err == nil || !strings.Contains(err.Error(), "symbol B is not bound") {
		t.Errorf("got %v, want an unbound symbol named", err)
	}
}

// TestInPlaceKernels runs every kernel of inPlaceKinds with its result buffer its first
// operand, at lengths that leave every vector tail, and compares the result bit for bit with
// a run into fresh storage.
func TestInPlaceKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for kind := range inPlaceKinds {
		d, _ := ir.Lookup(kind)
		op := &ir.Op{Kind: kind, Attrs: ir.Attrs{}}
		arity, sizes := d.Arity, 70
		if kind == "fused_elementwise" { // a program over blocks: sizes past two blocks
			op.Attrs["code"], arity, sizes = "sigmoid(x0); sub(t0, x1); mul(t1, x2); relu_grad(t2, x0)", 3, 2*elemBlock+9
		}
		for n := 1; n <= sizes; n++ {
			var args []*Tensor
			for range arity {
				x := NewTensor(n)
				for i := range x.Data {
					x.Data[i] = probability(r)
				}
				args = append(args, x)
			}
			want, err := kernels[kind](&Ctx{Env: map[string]int{}}, op, args)
			if err != nil {
				t.Fatal(err)
			}
			over := append([]*Tensor{args[0].Clone()}, args[1:]...)
			got, err := kernels[kind](&Ctx{Env: map[string]int{}, next: over[0]}, op, over)
			if err != nil {
				t.Fatal(err)
			}
			if got != over[0] {
				t.Fatalf("%s: the kernel did not write into the planned buffer", kind)
			}
			if err := sameBits(map[string]*Tensor{"out": got}, map[string]*Tensor{"out": want}); err != nil {
				t.Errorf("%s over %d elements in place: %v", kind, n, err)
			}
		}
	}
}
