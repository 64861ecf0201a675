package runtime

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

// spread returns a generator of n values that are pairwise at least 0.8/n apart in
// magnitude, with random signs, in random order: the winner of every max and min is then
// unique and stays the winner under a finite difference's step. Past n draws it repeats.
func spread(n int) valueGen {
	var vals []float32
	next := 0
	return func(r *rand.Rand) float32 {
		if vals == nil {
			for i := range n {
				v := 0.2 + 0.8*float32(i)/float32(n)
				if r.IntN(2) == 0 {
					v = -v
				}
				vals = append(vals, v)
			}
			r.Shuffle(n, func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
		}
		v := vals[next%n]
		next++
		return v
	}
}

// graphIdx is the index of the gradient cases: 7 entries into 6 segments, with repeats
// (segment 2 four times) and empty segments (1, 3 and 5).
var graphIdx = []int32{2, 0, 2, 4, 0, 2, 2}

// graphGradCases check every differentiable graph op at ranks 1, 2 and 3 and with
// symbolic sizes; the gradients run segment_count and segment_argext_grad.
func graphGradCases() []gradCase {
	N, E := ir.Sym("N"), ir.Sym("E")
	nodes := ir.Attrs{"n": ir.Shape{N}}
	six := ir.Attrs{"n": S(6)}
	var cs []gradCase
	gather := func(name string, x ir.Shape, idx []int32, dims map[string]int) {
		cs = append(cs, gradCase{name: "gather/" + name, kind: "gather", in: []ir.Shape{x, {ir.Const(len(idx))}},
			ints: [][]int32{nil, idx}, dims: dims})
	}
	gather("rank2", S(5, 3), []int32{0, 4, 4, 2, 0, 1, 4}, nil)
	gather("rank1", S(5), []int32{3, 3, 0, 4}, nil)
	gather("rank3", S(4, 2, 3), []int32{1, 3, 1, 0, 0, 2}, nil)
	cs = append(cs, gradCase{name: "gather/symbolic", kind: "gather", in: []ir.Shape{{N, ir.Const(3)}, {E}},
		ints: [][]int32{nil, {0, 4, 4, 2, 0, 1, 4}}, dims: map[string]int{"N": 5, "E": 7}})
	for _, k := range []string{"segment_sum", "segment_mean", "segment_max", "segment_min"} {
		for _, in := range []ir.Shape{S(7, 3), S(7), S(7, 2, 2)} {
			cs = append(cs, gradCase{name: fmt.Sprintf("%s%v", k, in), kind: k, attrs: six,
				in: []ir.Shape{in, S(7)}, ints: [][]int32{nil, graphIdx},
				gen: []valueGen{spread(in.NumElements().Coef)}})
		}
		cs = append(cs, gradCase{name: k + "/symbolic", kind: k, attrs: nodes,
			in: []ir.Shape{{E, ir.Const(3)}, {E}}, ints: [][]int32{nil, graphIdx},
			gen: []valueGen{spread(21)}, dims: map[string]int{"N": 6, "E": 7}})
	}
	gidx := []int32{0, 4, 4, 2, 0, 1, 4}
	for _, k := range []string{"gather_segment_sum", "gather_segment_mean"} {
		for _, h := range []ir.Shape{S(5, 3), S(5), S(5, 2, 2)} {
			cs = append(cs, gradCase{name: fmt.Sprintf("%s%v", k, h), kind: k, attrs: six,
				in: []ir.Shape{h, S(7), S(7)}, ints: [][]int32{nil, gidx, graphIdx}})
		}
		cs = append(cs, gradCase{name: k + "/symbolic", kind: k, attrs: nodes,
			in: []ir.Shape{{N, ir.Const(3)}, {E}, {E}}, ints: [][]int32{nil, gidx, graphIdx},
			dims: map[string]int{"N": 6, "E": 7}})
	}
	return cs
}

// randomGraph returns e edges on n nodes: uniform endpoints, then self loops and repeated
// edges mixed in, and targets drawn from the first two thirds of the nodes only, so that
// the last third has no incoming edge (empty segments).
func randomGraph(r *rand.Rand, n, e int) (src, dst []int32) {
	for len(src) < e {
		s, d := int32(r.IntN(n)), int32(r.IntN(max(1, 2*n/3)))
		switch k := len(src); {
		case k > 0 && r.IntN(5) == 0: // a repeated edge
			j := r.IntN(k)
			s, d = src[j], dst[j]
		case r.IntN(7) == 0:
			s = d // a self loop
		}
		src, dst = append(src, s), append(dst, d)
	}
	return src, dst
}

func ints(t *testing.T, v []int32) *Tensor {
	t.Helper()
	x, err := FromInts([]int{len(v)}, v)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func randomF32(r *rand.Rand, shape ...int) *Tensor {
	x := NewTensor(shape...)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	return x
}

// naiveSegment is the reference of the segment reductions: for every segment, a scan of
// every entry in order.
func naiveSegment(kind string, x *Tensor, idx []int32, n int) *Tensor {
	f := NumElements(x.Shape[1:])
	out := NewTensor(append([]int{n}, x.Shape[1:]...)...)
	for s := 0; s < n; s++ {
		for j := 0; j < f; j++ {
			var acc float32
			cnt := 0
			for e, v := range idx {
				if int(v) != s {
					continue
				}
				xv := x.Data[e*f+j]
				switch {
				case cnt == 0 || kind == "segment_sum" || kind == "segment_mean":
					if cnt == 0 {
						acc = xv
					} else {
						acc += xv
					}
				case kind == "segment_max":
					acc = max(acc, xv)
				case kind == "segment_min":
					acc = min(acc, xv)
				}
				cnt++
			}
			if kind == "segment_mean" && cnt > 0 {
				acc /= float32(cnt)
			}
			if kind == "segment_count" {
				acc = float32(cnt)
			}
			out.Data[s*f+j] = acc
		}
	}
	return out
}

// naiveArgext is the reference of segment_argext_grad.
func naiveArgext(dy, x, y *Tensor, idx []int32) *Tensor {
	f := NumElements(x.Shape[1:])
	out := NewTensor(x.Shape...)
	for s := 0; s < y.Shape[0]; s++ {
		for j := 0; j < f; j++ {
			for e, v := range idx {
				if int(v) == s && x.Data[e*f+j] == y.Data[s*f+j] {
					out.Data[e*f+j] = dy.Data[s*f+j]
					break
				}
			}
		}
	}
	return out
}

func naiveGather(x *Tensor, idx []int32) *Tensor {
	f := NumElements(x.Shape[1:])
	out := NewTensor(append([]int{len(idx)}, x.Shape[1:]...)...)
	for e, v := range idx {
		copy(out.Data[e*f:(e+1)*f], x.Data[int(v)*f:int(v+1)*f])
	}
	return out
}

// TestGraphKernelsAgainstReference runs every graph kernel on random graphs, small (one
// core) and large enough to be split over the cores, at ranks 1 to 3, and compares with
// the naive references: bit for bit, except sums and means, whose order of addition is
// the reference's too, so they match exactly as well.
func TestGraphKernelsAgainstReference(t *testing.T) {
	for _, avx := range rowLoops() {
		t.Run(avx.name, func(t *testing.T) {
			defer avx.use()()
			checkGraphKernels(t)
		})
	}
}

// rowLoops are the ways the graph kernels can run here: the Go loops, and the AVX2 ones
// when the machine has them. use selects one and returns what restores the default.
func rowLoops() []struct {
	name string
	use  func() func()
} {
	with := func(on bool) func() func() {
		return func() func() {
			saved := graphAVX2
			graphAVX2 = on
			return func() { graphAVX2 = saved }
		}
	}
	loops := []struct {
		name string
		use  func() func()
	}{{"go", with(false)}}
	if graphAVX2 {
		loops = append(loops, struct {
			name string
			use  func() func()
		}{"avx2", with(true)})
	}
	return loops
}

func checkGraphKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for _, g := range []struct {
		n, e int
		tail []int
	}{
		{1, 1, nil}, {5, 12, []int{3}}, {9, 40, nil}, {9, 40, []int{2, 3}}, {7, 0, []int{2}}, {4, 0, []int{16}},
		{6, 30, []int{11}}, {20, 90, []int{75}}, {8, 50, []int{2, 4}},
		{300, 2500, []int{16}}, {200, 3000, nil}, {150, 1200, []int{4, 8}}, {120, 1000, []int{19}},
	} {
		src, dst := randomGraph(r, g.n, g.e)
		env := map[string]int{"N": g.n}
		nodes := ir.Attrs{"n": ir.Shape{ir.Sym("N")}}
		name := fmt.Sprintf("n=%d,e=%d,tail=%v", g.n, g.e, g.tail)
		xn := randomF32(r, append([]int{g.n}, g.tail...)...)
		got, err := runKernel("gather", nil, env, xn, ints(t, src))
		if err != nil {
			t.Fatalf("%s: gather: %v", name, err)
		}
		if want := naiveGather(xn, src); !sameShape(got.Shape, want.Shape) || !close32(got.Data, want.Data, 0) {
			t.Errorf("%s: gather differs from the reference", name)
		}
		for _, k := range []string{"segment_sum", "segment_mean"} {
			got, err := runKernel("gather_"+k, nodes, env, xn, ints(t, src), ints(t, dst))
			if err != nil {
				t.Fatalf("%s: gather_%s: %v", name, k, err)
			}
			if want := naiveSegment(k, naiveGather(xn, src), dst, g.n); !sameShape(got.Shape, want.Shape) || !close32(got.Data, want.Data, 0) {
				t.Errorf("%s: gather_%s differs from the reference", name, k)
			}
		}
		xe := randomF32(r, append([]int{g.e}, g.tail...)...)
		for _, k := range []string{"segment_sum", "segment_mean", "segment_max", "segment_min"} {
			got, err := runKernel(k, nodes, env, xe, ints(t, dst))
			if err != nil {
				t.Fatalf("%s: %s: %v", name, k, err)
			}
			want := naiveSegment(k, xe, dst, g.n)
			if !sameShape(got.Shape, want.Shape) || !close32(got.Data, want.Data, 0) {
				t.Errorf("%s: %s differs from the reference:\ngot  %v\nwant %v", name, k, got, want)
			}
			if k == "segment_max" || k == "segment_min" {
				dy := randomF32(r, want.Shape...)
				got, err := runKernel("segment_argext_grad", nil, env, dy, xe, want, ints(t, dst))
				if err != nil {
					t.Fatalf("%s: argext of %s: %v", name, k, err)
				}
				if w := naiveArgext(dy, xe, want, dst); !sameShape(got.Shape, w.Shape) || !close32(got.Data, w.Data, 0) {
					t.Errorf("%s: segment_argext_grad of %s differs from the reference", name, k)
				}
			}
		}
		got, err = runKernel("segment_count", nodes, env, ints(t, dst))
		if err != nil {
			t.Fatalf("%s: segment_count: %v", name, err)
		}
		if want := naiveSegment("segment_count", NewTensor(g.e), dst, g.n); !close32(got.Data, want.Data, 0) {
			t.Errorf("%s: segment_count got %v, want %v", name, got.Data, want.Data)
		}
	}
}

// TestSegmentTiesAndNaN: max and min send the gradient to the first of equal values, and
// a NaN wins its segment and takes the gradient.
func TestSegmentTiesAndNaN(t *testing.T) {
	nan := float32(math.NaN())
	idx := []int32{1, 0, 1, 1, 0}
	x := tensor([]int{5, 2}, 3, 1, 2, 2, 3, nan, 3, 5, 2, 2)
	two := ir.Attrs{"n": S(2)}
	y, err := runKernel("segment_max", two, nil, x, ints(t, idx))
	if err != nil {
		t.Fatal(err)
	}
	// segment 0: entries 1, 4 → (2, 2), (2, 2); segment 1: entries 0, 2, 3 → (3, 1), (3, NaN), (3, 5)
	if y.Data[0] != 2 || y.Data[1] != 2 || y.Data[2] != 3 || !math.IsNaN(float64(y.Data[3])) {
		t.Fatalf("segment_max got %v", y.Data)
	}
	dx, err := runKernel("segment_argext_grad", nil, nil, tensor([]int{2, 2}, 10, 20, 30, 40), x, y, ints(t, idx))
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{30, 0, 10, 20, 0, 40, 0, 0, 0, 0}
	if !close32(dx.Data, want, 0) {
		t.Errorf("gradient got %v, want %v", dx.Data, want)
	}
}

// TestSegmentNaNWide: the AVX2 loops and the Go loops agree bit for bit on max, min and
// their gradient when rows hold NaNs and ties, across the columns both of them cover; a
// NaN wins its segment's column and takes its gradient.
func TestSegmentNaNWide(t *testing.T) {
	if !graphAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(3, 4))
	const e, n, f = 60, 7, 21
	x := NewTensor(e, f)
	for i := range x.Data {
		switch r.IntN(10) {
		case 0:
			x.Data[i] = float32(math.NaN())
		case 1, 2:
			x.Data[i] = 1 // ties
		default:
			x.Data[i] = float32(r.IntN(5)) - 2
		}
	}
	idx := make([]int32, e)
	for i := range idx {
		idx[i] = int32(r.IntN(n - 1)) // segment n-1 stays empty
	}
	dy := randomF32(r, n, f)
	attrs := ir.Attrs{"n": S(n)}
	var runs [2][]*Tensor
	for i, avx := range []bool{false, true} {
		graphAVX2 = avx
		for _, k := range []string{"segment_max", "segment_min"} {
			y, err := runKernel(k, attrs, nil, x, ints(t, idx))
			if err != nil {
				t.Fatal(err)
			}
			dx, err := runKernel("segment_argext_grad", nil, nil, dy, x, y, ints(t, idx))
			if err != nil {
				t.Fatal(err)
			}
			runs[i] = append(runs[i], y, dx)
		}
	}
	graphAVX2 = true
	for i := range runs[0] {
		a, b := runs[0][i].Data, runs[1][i].Data
		for j := range a {
			if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
				t.Fatalf("result %d, element %d: Go %v, AVX2 %v", i, j, a[j], b[j])
			}
		}
	}
	for s := 0; s < n; s++ {
		for j := 0; j < f; j++ {
			hasNaN := false
			for i, v := range idx {
				hasNaN = hasNaN || int(v) == s && math.IsNaN(float64(x.Data[i*f+j]))
			}
			if y := runs[1][0].Data[s*f+j]; hasNaN != math.IsNaN(float64(y)) {
				t.Errorf("segment %d column %d: max %v, NaN among its rows: %v", s, j, y, hasNaN)
			}
		}
	}
	// Every output element's gradient lands exactly once, on an entry of its segment.
	for _, dx := range []*Tensor{runs[1][1], runs[1][3]} {
		for s := 0; s < n-1; s++ {
			for j := 0; j < f; j++ {
				var sum float32
				for i, v := range idx {
					if int(v) == s {
						sum += dx.Data[i*f+j]
					}
				}
				if sum != dy.Data[s*f+j] {
					t.Fatalf("segment %d column %d: gradient sums to %v, want %v", s, j, sum, dy.Data[s*f+j])
				}
			}
		}
	}
}

// TestGraphKernelErrors: an index out of range, a wrong dtype or mismatched sizes are
// OpErrors naming the op's position, never a panic or a write out of bounds.
func TestGraphKernelErrors(t *testing.T) {
	x := NewTensor(4, 2)
	three := ir.Attrs{"n": S(3)}
	for _, c := range []struct {
		kind  string
		attrs ir.Attrs
		args  []*Tensor
		err   string
	}{
		{"gather", nil, []*Tensor{x, ints(t, []int32{0, 4})}, "index value 4 at entry 1 is outside [0, 4)"},
		{"gather", nil, []*Tensor{x, ints(t, []int32{-1, 2})}, "index value -1 at entry 0 is outside [0, 4)"},
		{"gather", nil, []*Tensor{x, NewTensor(2)}, "operand 1 is f32 [2], want an index i32[E]"},
		{"gather", nil, []*Tensor{Scalar(1), ints(t, []int32{0})}, "x is a scalar, want rank ≥ 1"},
		{"segment_sum", three, []*Tensor{x, ints(t, []int32{0, 1, 3, 2})}, "index value 3 at entry 2 is outside [0, 3)"},
		{"segment_max", three, []*Tensor{x, ints(t, []int32{0, 1, 2, -7})}, "index value -7 at entry 3 is outside [0, 3)"},
		{"segment_mean", three, []*Tensor{x, ints(t, []int32{0, 1})}, "x [4, 2] has 4 rows, index has 2 entries"},
		{"segment_min", ir.Attrs{"n": ir.Shape{ir.Sym("N")}}, []*Tensor{x, ints(t, []int32{0, 1, 2, 0})}, "unbound dimension N"},
		{"segment_count", three, []*Tensor{ints(t, []int32{5})}, "index value 5 at entry 0 is outside [0, 3)"},
		{"gather_segment_sum", three, []*Tensor{x, ints(t, []int32{0, 4}), ints(t, []int32{0, 1})}, "gather index value 4 at entry 1 is outside [0, 4)"},
		{"gather_segment_mean", three, []*Tensor{x, ints(t, []int32{0, 3}), ints(t, []int32{0, 3})}, "index value 3 at entry 1 is outside [0, 3)"},
		{"gather_segment_sum", three, []*Tensor{x, ints(t, []int32{0, 3}), ints(t, []int32{0})}, "gather index has 2 entries, segment index 1"},
		{"segment_argext_grad", nil, []*Tensor{NewTensor(3, 2), x, NewTensor(3, 2), ints(t, []int32{0, 1, 2, 3})},
			"index value 3 at entry 3 is outside [0, 3)"},
		{"segment_argext_grad", nil, []*Tensor{NewTensor(3, 1), x, NewTensor(3, 2), ints(t, []int32{0, 1, 2, 0})},
			"gradient [3, 1] and result [3, 2] do not reduce x [4, 2]"},
	} {
		_, err := runKernel(c.kind, c.attrs, nil, c.args...)
		var oe *OpError
		if !errors.As(err, &oe) || oe.Msg != c.err || oe.Pos.Line != 1 {
			t.Errorf("%s: got %v, want OpError %q", c.kind, err, c.err)
		}
	}
}

// TestSegmentIndexCache: an index is built once and reused while its values are the same,
// rebuilt when they change (in place or in a new slice), kept per segment count, and the
// cache does not grow when every run brings a new index.
func TestSegmentIndexCache(t *testing.T) {
	c := &Ctx{Env: map[string]int{}, Run: 1}
	op := &ir.Op{Kind: "segment_sum", Attrs: ir.Attrs{"n": S(4)}}
	x := tensor([]int{5}, 1, 2, 3, 4, 5)
	idx := ints(t, []int32{3, 0, 3, 1, 0})
	sum := func(want ...float32) {
		t.Helper()
		got, err := segmentKernel(c, op, []*Tensor{x, idx})
		if err != nil {
			t.Fatal(err)
		}
		if !close32(got.Data, want, 0) {
			t.Errorf("got %v, want %v", got.Data, want)
		}
	}
	check := func(builds, entries int) {
		t.Helper()
		if g := c.graph; g.builds != builds || len(g.indexes) != entries {
			t.Errorf("%d builds and %d entries, want %d and %d", g.builds, len(g.indexes), builds, entries)
		}
	}
	sum(7, 4, 0, 4)
	sum(7, 4, 0, 4)
	check(1, 1)
	c.Run++
	idx.Ints[2] = 2 // rewritten in place for the next run: rebuilt into the same entry
	sum(7, 4, 3, 1)
	check(2, 1)
	idx = ints(t, []int32{3, 0, 2, 1, 0}) // equal values in a new slice: a hit
	sum(7, 4, 3, 1)
	check(2, 1)
	op.Attrs = ir.Attrs{"n": S(5)} // another segment count in the same run: another entry
	sum(7, 4, 3, 1, 0)
	check(3, 2)
	c.Run++
	idx.Ints[0] = 5 // out of range: an error, and nothing stale is kept
	if _, err := segmentKernel(c, op, []*Tensor{x, idx}); err == nil {
		t.Fatal("no error for index 5 of 5 segments")
	}
	idx.Ints[0] = 4
	sum(7, 4, 3, 0, 1)
	check(5, 2)
	// A new index in a new slice at every run takes the buffers of one no op used in it.
	for first, run := c.Run+1, c.Run+1; run < first+8; run++ {
		c.Run = run
		idx = ints(t, []int32{int32(run % 4), 0, 0, 0, 0})
		want := []float32{14, 0, 0, 0, 0}
		want[run%4]++
		sum(want...)
	}
	if len(c.graph.indexes) != 2 {
		t.Errorf("the cache grew to %d entries", len(c.graph.indexes))
	}
	// The columns of a fused gather are composed once per gather index, and again when it
	// changes.
	fused := &ir.Op{Kind: "gather_segment_sum", Attrs: ir.Attrs{"n": S(4)}}
	h := tensor([]int{3}, 10, 20, 30)
	gidx, sidx := ints(t, []int32{2, 2, 1, 0, 0}), ints(t, []int32{3, 0, 3, 1, 0})
	for range 2 {
		got, err := gatherSegmentKernel(c, fused, []*Tensor{h, gidx, sidx})
		if err != nil {
			t.Fatal(err)
		}
		if want := []float32{40, 10, 0, 50}; !close32(got.Data, want, 0) {
			t.Errorf("fused: got %v, want %v", got.Data, want)
		}
	}
	gidx.Ints[0] = 0
	got, err := gatherSegmentKernel(c, fused, []*Tensor{h, gidx, sidx})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{40, 10, 0, 30}; !close32(got.Data, want, 0) {
		t.Errorf("fused after a change of the gather index: got %v, want %v", got.Data, want)
	}
}

// TestRunGraphInputs: i32 inputs bind their symbolic sizes (E, N, G) like any input, and
// a tensor of the wrong dtype or size is refused before any kernel runs.
func TestRunGraphInputs(t *testing.T) {
	N, E, G := ir.Sym("N"), ir.Sym("E"), ir.Sym("G")
	f := ir.NewFunc("mp")
	b := ir.NewBuilder(f)
	x := b.Input("x", ir.F32(ir.Shape{N, ir.Const(2)}))
	src := b.Input("src", ir.I32(ir.Shape{E}))
	dst := b.Input("dst", ir.I32(ir.Shape{E}))
	gid := b.Input("graph", ir.I32(ir.Shape{N}))
	b.Input("label", ir.I32(ir.Shape{G})) // one label per graph: binds G
	h := b.Op("segment_sum", ir.Attrs{"n": ir.Shape{N}}, b.Op("gather", nil, x, src), dst)
	r := b.Op("segment_max", ir.Attrs{"n": ir.Shape{G}}, h, gid)
	deg := b.Op("segment_count", ir.Attrs{"n": ir.Shape{N}}, dst)
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	f.Outputs = []ir.Output{{Name: "h", Value: h}, {Name: "r", Value: r}, {Name: "deg", Value: deg}}
	p, err := Compile(f)
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]*Tensor{
		"x":     tensor([]int{3, 2}, 1, 2, 3, 4, 5, 6),
		"src":   ints(t, []int32{0, 1, 2, 2}),
		"dst":   ints(t, []int32{1, 1, 0, 1}),
		"graph": ints(t, []int32{0, 0, 1}),
		"label": ints(t, []int32{7, 8}),
	}
	res, err := p.Run(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	// h: node 0 gets x2 = (5, 6); node 1 gets x0 + x1 + x2 = (9, 12); node 2 nothing.
	// r: graph 0 = max(h0, h1) = (9, 12), graph 1 = h2 = (0, 0).
	for name, want := range map[string][]float32{"h": {5, 6, 9, 12, 0, 0}, "r": {9, 12, 0, 0}, "deg": {1, 3, 0}} {
		if got := res[name]; !close32(got.Data, want, 0) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	for _, c := range []struct {
		name, input string
		value       *Tensor
		err         string
	}{
		{"f32 for i32", "src", NewTensor(4), "runtime: input src: got an f32 tensor, want i32"},
		{"i32 for f32", "x", &Tensor{Shape: []int{3, 2}, Ints: make([]int32, 6)}, "runtime: input x: got an i32 tensor, want f32"},
		{"short", "dst", &Tensor{Shape: []int{4}, Ints: []int32{1}}, "runtime: input dst: shape [4] does not hold 1 elements"},
		{"both payloads", "dst", &Tensor{Shape: []int{1}, Ints: []int32{1}, Data: []float32{1}}, "runtime: input dst: shape [1] does not hold 1 elements"},
		{"E differs", "dst", ints(t, []int32{1, 1, 0}), "runtime: input dst: got [3], want [E] with E = 4"},
		{"out of range", "dst", ints(t, []int32{1, 1, 3, 0}), "runtime: segment_sum: index value 3 at entry 2 is outside [0, 3)"},
	} {
		bad := map[string]*Tensor{}
		for k, v := range in {
			bad[k] = v
		}
		bad[c.input] = c.value
		if _, err := p.Run(bad, nil); err == nil || err.Error() != c.err {
			t.Errorf("%s: got %v, want %s", c.name, err, c.err)
		}
	}
	if _, err := p.Run(in, map[string]*Tensor{}); err != nil {
		t.Errorf("after the errors: %v", err)
	}
	// No edges at all, given as an empty tensor of either kind: every node gets zeros.
	in["src"], in["dst"] = &Tensor{Shape: []int{0}}, ints(t, nil)
	res, err = p.Run(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := res["h"].Data; !close32(got, make([]float32, 6), 0) {
		t.Errorf("no edges: h = %v", got)
	}
}
