package runtime

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/parallel"
)

// graphBench is a random graph with node and edge features and the ops over it, each
// called through its kernel with a planned result buffer, as the executor does.
type graphBench struct {
	n, e, f  int
	x, m     *Tensor // node features [n, f], edge messages [e, f]
	src, dst *Tensor
	y, dy    *Tensor // segment_max of m, and a gradient for it
}

func newGraphBench(n, e, f int, sorted bool) *graphBench {
	r := rand.New(rand.NewPCG(1, 2))
	src, dst := make([]int32, e), make([]int32, e)
	for i := range src {
		src[i], dst[i] = int32(r.IntN(n)), int32(r.IntN(n))
	}
	if sorted { // by target, as a loader that sorts its edge list gives them
		slices.Sort(dst)
	}
	g := &graphBench{n: n, e: e, f: f, x: randomF32(r, n, f), m: randomF32(r, e, f), dy: randomF32(r, n, f)}
	g.src, _ = FromInts([]int{e}, src)
	g.dst, _ = FromInts([]int{e}, dst)
	return g
}

// call returns the op of kind with its operands and a function that runs its kernel on a
// reused result buffer, in one Ctx, so that the segment index is cached as in training.
func (g *graphBench) call(tb testing.TB, kind string) func() {
	nodes := ir.Attrs{"n": S(g.n)}
	var args []*Tensor
	var shape []int
	attrs := nodes
	switch kind {
	case "gather":
		args, shape, attrs = []*Tensor{g.x, g.src}, []int{g.e, g.f}, nil
	case "gather_segment_sum", "gather_segment_mean":
		args, shape = []*Tensor{g.x, g.src, g.dst}, []int{g.n, g.f}
	case "segment_count":
		args, shape = []*Tensor{g.dst}, []int{g.n}
	case "segment_argext_grad":
		if g.y == nil {
			y, err := runKernel("segment_max", nodes, nil, g.m, g.dst)
			if err != nil {
				tb.Fatal(err)
			}
			g.y = y
		}
		args, shape, attrs = []*Tensor{g.dy, g.m, g.y, g.dst}, []int{g.e, g.f}, nil
	default:
		args, shape = []*Tensor{g.m, g.dst}, []int{g.n, g.f}
	}
	c := &Ctx{Env: map[string]int{}, Run: 1}
	op := &ir.Op{Kind: kind, Attrs: attrs}
	out := NewTensor(shape...)
	k := kernels[kind]
	return func() {
		c.next, c.zero = out, false
		if _, err := k(c, op, args); err != nil {
			tb.Fatal(err)
		}
	}
}

// bytes is the traffic an op cannot avoid: its operands read once and its result written
// once, a fused op's rows of h once per entry (the index and the CSR arrays not counted).
func (g *graphBench) bytes(kind string) int64 {
	e, n := int64(g.e*g.f*4), int64(g.n*g.f*4)
	switch kind {
	case "gather":
		return 2 * e
	case "gather_segment_sum", "gather_segment_mean":
		return e + n // a row of h read per entry, the result written once
	case "segment_count":
		return int64(g.n * 4)
	case "segment_argext_grad":
		return 2*e + 2*n
	}
	return e + n
}

var graphKinds = []string{"gather", "segment_sum", "segment_mean", "segment_max", "segment_min", "segment_count", "segment_argext_grad",
	"gather_segment_sum", "gather_segment_mean"}

// BenchmarkGraphKernels runs each graph op at a million edges, 100,000 nodes and 64
// features (the SBM example's size) in steady state: the index cached, the result reused.
// The segment ops read their rows in the index's order: "random" edges make every row a
// jump, edges "sorted" by target (the segment ops' index) make the reads a stream.
func BenchmarkGraphKernels(b *testing.B) {
	for _, order := range []string{"random", "sorted"} {
		g := newGraphBench(100_000, 1_000_000, 64, order == "sorted")
		for _, k := range graphKinds {
			b.Run(order+"/"+k, func(b *testing.B) {
				run := g.call(b, k)
				run()
				b.SetBytes(g.bytes(k))
				b.ResetTimer()
				for b.Loop() {
					run()
				}
			})
		}
	}
}

// BenchmarkSegmentIndexBuild measures building the index of a million edges, which a
// full-graph run does once and a run over batches of small graphs once per batch.
func BenchmarkSegmentIndexBuild(b *testing.B) {
	g := newGraphBench(100_000, 1_000_000, 1, false)
	var s segmentIndex
	b.SetBytes(int64(4 * g.e))
	for b.Loop() {
		if bad := s.build(g.dst.Ints, g.n); bad >= 0 {
			b.Fatal(bad)
		}
	}
}

// TestGraphKernelsAllocs: in steady state (the index cached, the result buffer planned) a
// graph kernel allocates nothing, with its work handed to the other cores.
func TestGraphKernelsAllocs(t *testing.T) {
	// Both on one core (AllocsPerRun) and with parts handed to the other workers as in a
	// real run (allocsAtFullWidth).
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector")
	}
	g := newGraphBench(2000, 20000, 8, false)
	for _, k := range graphKinds {
		run := g.call(t, k)
		run()
		if a := testing.AllocsPerRun(10, run); a != 0 {
			t.Errorf("%s: %.1f allocations per call on one core, want 0", k, a)
		}
		// Counted across every goroutine, the window may catch a stray allocation of the
		// runtime's or the test framework's; one per call would read 1.
		if a := allocsAtFullWidth(50, run); a > 0.04 {
			t.Errorf("%s: %.2f allocations per call on %d cores, want 0", k, a, parallel.Workers())
		}
	}
}
