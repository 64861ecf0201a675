package runtime

import (
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/parallel"
)

// Graph kernels: gather, the segment reductions and the gradient helper of max and min.
//
// Every kernel here splits its result into parts that the cores take in turn, each part a
// run of whole output rows, so no two cores write one element and nothing is atomic.
// gather's rows are its entries, split evenly. A segment op's rows are segments, which
// differ in size (a hub node has thousands of edges), so its parts are cut where the
// running count of entries plus segments crosses an even share, from the CSR offsets (see
// kernels_graph_index.go): a part costs about what it reads and writes. The
// gradient helper's result has the entries as rows, but it too walks segments, as the
// winner of a segment is found among its entries; each entry's row belongs to exactly one
// segment, so the parts stay disjoint.
//
// The operands of one call live in the Ctx's graphState, whose part function is made once,
// so that a call in steady state allocates nothing (the result comes from Ctx.alloc).
//
// A segment reads its rows in the order of the index, which for a graph whose edges are not
// sorted by target is a jump per row across an [E, F] array far larger than the caches.
// Plain Go loops then wait on one miss at a time (a 64-float row is ~250 instructions of
// scalar adds, the whole out-of-order window); the AVX2 loops of kernels_graph_amd64.s
// take ~30 and prefetch the row 16 entries ahead, which at a million edges and 64 features
// cut a segment_sum from ~480 to ~50 ms of CPU time here (edges sorted by target: ~11 ms).
// Where a gather feeds a sum or mean and nothing else, the fusion pass makes it
// gather_segment_sum|mean, which reads rows of the [N, F] operand through the index's
// columns and never writes the [E, F] value at all. The Go loops remain for the columns
// past the last multiple of 8 and for machines without AVX2, and the tests hold both to
// the same bits.
//
// Empty segments give 0 for every reduction. max and min keep the first of equal values
// and let a NaN win, as max pooling does, so the winner the gradient helper looks for is
// the first entry equal to the result, or the first NaN when the result is NaN.

func init() {
	register("gather", gatherKernel)
	for _, k := range []string{"segment_sum", "segment_mean", "segment_max", "segment_min"} {
		register(k, segmentKernel)
	}
	register("segment_count", segmentCountKernel)
	register("gather_segment_sum", gatherSegmentKernel)
	register("gather_segment_mean", gatherSegmentKernel)
	register("segment_argext_grad", argextGradKernel)
	// Each writes every element of its result, empty segments and losing entries included.
	for _, k := range []string{"gather", "segment_sum", "segment_mean", "segment_max", "segment_min", "segment_count", "segment_argext_grad",
		"gather_segment_sum", "gather_segment_mean"} {
		overwriteKinds[k] = true
	}
}

type graphMode int

const (
	modeGather graphMode = iota
	modeSum
	modeMean
	modeMax
	modeMin
	modeArgext
)

var segmentModes = map[string]graphMode{"segment_sum": modeSum, "segment_mean": modeMean, "segment_max": modeMax, "segment_min": modeMin,
	"gather_segment_sum": modeSum, "gather_segment_mean": modeMean}

// graphCall is one kernel call: its operands, its parts and the per-part results.
type graphCall struct {
	mode     graphMode
	x, dy, y []float32
	out      []float32
	idx      []int32
	rows     int // gather: rows of x
	f        int // elements per row
	// segment i reads rows perm[start[i]:start[i+1]] of x
	perm, start []int32
	parts       int
	bounds      []int   // parts+1 boundaries: entries (gather) or segments
	bad         []int   // gather: the first entry of each part out of range, or -1
	win         []int32 // argext: f pending flags per part
	body        func(lo, hi int)
}

// parallelWork is the number of elements below which a call runs on one core: handing
// parts to the other core costs a few microseconds.
const parallelWork = 1 << 15

func (c *Ctx) graphState() *graphState {
	if c.graph == nil {
		g := &graphState{}
		g.call.body = g.call.run
		c.graph = g
	}
	return c.graph
}

// indexArg returns the values of operand i of op, which must be an i32 tensor of rank 1.
func indexArg(op *ir.Op, t *Tensor, i int) ([]int32, error) {
	if !t.validAs(ir.DTypeI32) || len(t.Shape) != 1 {
		return nil, opErrorf(op, "operand %d is %s %s, want an index i32[E]", i, t.DType(), ShapeString(t.Shape))
	}
	return t.Ints, nil
}

// rowsArg returns the rows and the elements per row of x, which must have rank ≥ 1.
func rowsArg(op *ir.Op, x *Tensor, what string) (rows, f int, err error) {
	switch {
	case len(x.Shape) == 0:
		return 0, 0, opErrorf(op, "%s is a scalar, want rank ≥ 1", what)
	case !x.Valid():
		return 0, 0, opErrorf(op, "%s: %s", what, invalidTensor(x))
	}
	return x.Shape[0], NumElements(x.Shape[1:]), nil
}

// segmentCount returns the op's number of segments, attribute n with the run's symbols.
func segmentCount(c *Ctx, op *ir.Op) (int, error) {
	d, err := ir.SegmentCount(op.Attrs)
	if err != nil {
		return 0, opErrorf(op, "%v", err)
	}
	n, err := d.Eval(c.Env)
	if err != nil {
		return 0, opErrorf(op, "%v", err)
	}
	return n, nil
}

// index returns the segment index of idx for n segments, or the OpError naming the first
// value out of range.
func (g *graphState) index(c *Ctx, op *ir.Op, idx []int32, n int) (*segmentIndex, error) {
	if len(idx) > maxEntries {
		return nil, opErrorf(op, "index has %d entries, more than %d", len(idx), maxEntries)
	}
	s, bad := g.segments(idx, n, c.Run)
	if s == nil {
		return nil, opErrorf(op, "index value %d at entry %d is outside [0, %d)", idx[bad], bad, n)
	}
	return s, nil
}

// result allocates [rows, tail...] through c without allocating the shape.
func (g *graphState) result(c *Ctx, rows int, tail []int) *Tensor {
	g.shape = append(append(g.shape[:0], rows), tail...)
	return c.alloc(g.shape)
}

func gatherKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	x := args[0]
	idx, err := indexArg(op, args[1], 1)
	if err != nil {
		return nil, err
	}
	rows, f, err := rowsArg(op, x, "x")
	if err != nil {
		return nil, err
	}
	g := c.graphState()
	out := g.result(c, len(idx), x.Shape[1:])
	k := &g.call
	k.mode, k.x, k.out, k.idx, k.rows, k.f = modeGather, x.Data, out.Data, idx, rows, f
	k.split(len(idx), len(out.Data))
	for p := 0; p <= k.parts; p++ {
		k.bounds[p] = int(int64(p) * int64(len(idx)) / int64(k.parts))
	}
	k.launch()
	for _, e := range k.bad[:k.parts] {
		if e >= 0 {
			k.clear()
			return nil, opErrorf(op, "index value %d at entry %d is outside [0, %d)", idx[e], e, rows)
		}
	}
	k.clear()
	return out, nil
}

func segmentKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	x := args[0]
	idx, err := indexArg(op, args[1], 1)
	if err != nil {
		return nil, err
	}
	rows, f, err := rowsArg(op, x, "x")
	if err != nil {
		return nil, err
	}
	if rows != len(idx) {
		return nil, opErrorf(op, "x %s has %d rows, index has %d entries", ShapeString(x.Shape), rows, len(idx))
	}
	n, err := segmentCount(c, op)
	if err != nil {
		return nil, err
	}
	g := c.graphState()
	s, err := g.index(c, op, idx, n)
	if err != nil {
		return nil, err
	}
	out := g.result(c, n, x.Shape[1:])
	k := &g.call
	k.mode, k.x, k.out, k.f, k.perm, k.start = segmentModes[op.Kind], x.Data, out.Data, f, s.perm, s.start
	k.run2(len(x.Data) + len(out.Data))
	return out, nil
}

// gatherSegmentKernel computes gather_segment_sum|mean(h, gidx, sidx){n}: the segment
// reduction of gather(h, gidx) by sidx, reading the rows of h through the index's
// columns, gidx in segment order, which the segment index keeps beside its permutation.
func gatherSegmentKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	h := args[0]
	gidx, err := indexArg(op, args[1], 1)
	if err != nil {
		return nil, err
	}
	sidx, err := indexArg(op, args[2], 2)
	if err != nil {
		return nil, err
	}
	rows, f, err := rowsArg(op, h, "h")
	if err != nil {
		return nil, err
	}
	if len(gidx) != len(sidx) {
		return nil, opErrorf(op, "gather index has %d entries, segment index %d", len(gidx), len(sidx))
	}
	n, err := segmentCount(c, op)
	if err != nil {
		return nil, err
	}
	g := c.graphState()
	s, err := g.index(c, op, sidx, n)
	if err != nil {
		return nil, err
	}
	cols, bad := s.columns(gidx, rows)
	if bad >= 0 {
		return nil, opErrorf(op, "gather index value %d at entry %d is outside [0, %d)", gidx[bad], bad, rows)
	}
	out := g.result(c, n, h.Shape[1:])
	k := &g.call
	k.mode, k.x, k.out, k.f, k.perm, k.start = segmentModes[op.Kind], h.Data, out.Data, f, cols, s.start
	k.run2(len(sidx)*f + len(out.Data))
	return out, nil
}

func segmentCountKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	idx, err := indexArg(op, args[0], 0)
	if err != nil {
		return nil, err
	}
	n, err := segmentCount(c, op)
	if err != nil {
		return nil, err
	}
	g := c.graphState()
	s, err := g.index(c, op, idx, n)
	if err != nil {
		return nil, err
	}
	out := g.result(c, n, nil)
	for i := range out.Data {
		out.Data[i] = float32(s.start[i+1] - s.start[i])
	}
	return out, nil
}

// argextGradKernel computes segment_argext_grad(dy, x, y, idx): dy[i] goes to the first
// entry of segment i whose x equals y[i], elementwise.
func argextGradKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	dy, x, y := args[0], args[1], args[2]
	idx, err := indexArg(op, args[3], 3)
	if err != nil {
		return nil, err
	}
	rows, f, err := rowsArg(op, x, "x")
	if err != nil {
		return nil, err
	}
	n, fy, err := rowsArg(op, y, "y")
	if err != nil {
		return nil, err
	}
	switch {
	case rows != len(idx):
		return nil, opErrorf(op, "x %s has %d rows, index has %d entries", ShapeString(x.Shape), rows, len(idx))
	case !sameShape(dy.Shape, y.Shape) || f != fy:
		return nil, opErrorf(op, "gradient %s and result %s do not reduce x %s", ShapeString(dy.Shape), ShapeString(y.Shape), ShapeString(x.Shape))
	}
	g := c.graphState()
	s, err := g.index(c, op, idx, n)
	if err != nil {
		return nil, err
	}
	out := c.alloc(x.Shape)
	k := &g.call
	k.mode, k.x, k.dy, k.y, k.out, k.f, k.perm, k.start = modeArgext, x.Data, dy.Data, y.Data, out.Data, f, s.perm, s.start
	if cap(k.win) < f*4*parallel.Workers() {
		k.win = make([]int32, f*4*parallel.Workers())
	}
	k.run2(2*len(x.Data) + len(y.Data))
	return out, nil
}

// split chooses the number of parts for a call of the given length and work (elements
// read and written) and sizes the per-part slices.
func (k *graphCall) split(items, work int) {
	k.parts = 1
	if work >= parallelWork {
		k.parts = max(1, min(items, 4*parallel.Workers()))
	}
	if cap(k.bounds) < k.parts+1 {
		k.bounds = make([]int, k.parts+1)
		k.bad = make([]int, k.parts+1)
	}
	k.bounds, k.bad = k.bounds[:k.parts+1], k.bad[:k.parts+1]
}

// run2 runs a call over segments, its parts cut so that each reads and writes about as
// much: by the running count start[i] + i of entries and segments before segment i.
func (k *graphCall) run2(work int) {
	start := k.start
	n := len(start) - 1
	k.split(n, work)
	total := int64(start[n]) + int64(n)
	k.bounds[0] = 0
	for p := 1; p < k.parts; p++ {
		want := int64(p) * total / int64(k.parts)
		lo, hi := k.bounds[p-1], n // the first i with start[i] + i ≥ want
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			if int64(start[mid])+int64(mid) < want {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		k.bounds[p] = lo
	}
	k.bounds[k.parts] = n
	k.launch()
	k.clear()
}

// launch runs the parts, on every core when there are several.
func (k *graphCall) launch() {
	if k.parts == 1 {
		k.run(0, 1)
		return
	}
	parallel.For(k.parts, 1, k.body)
}

// clear drops the call's references to tensors, so that the cache keeps none alive.
func (k *graphCall) clear() {
	k.x, k.dy, k.y, k.out, k.idx, k.perm, k.start = nil, nil, nil, nil, nil, nil, nil
}

// run computes parts [lo, hi).
func (k *graphCall) run(lo, hi int) {
	for p := lo; p < hi; p++ {
		a, b := k.bounds[p], k.bounds[p+1]
		switch k.mode {
		case modeGather:
			k.bad[p] = gatherRows(k.out, k.x, k.idx, k.rows, k.f, a, b)
		case modeArgext:
			argextRows(k, k.win[p*k.f:(p+1)*k.f], a, b)
		default:
			reduceSegments(k, a, b)
		}
	}
}

// gatherRows copies row idx[e] of x to row e of out for entries [a, b). It returns the
// first entry whose index is outside [0, rows), having copied nothing, or -1.
func gatherRows(out, x []float32, idx []int32, rows, f, a, b int) int {
	for e, i := range idx[a:b] {
		if uint(i) >= uint(rows) {
			return a + e
		}
	}
	if f == 1 {
		for e, i := range idx[a:b] {
			out[a+e] = x[i]
		}
		return -1
	}
	f8 := 0
	if graphAVX2 && f >= 8 && b > a {
		f8 = f &^ 7
		gatherRowsAVX2(&out[a*f], &x[0], &idx[a], b-a, len(idx)-a, f8, f)
		if f8 == f {
			return -1
		}
	}
	for e := a; e < b; e++ {
		i := int(idx[e])
		copy(out[e*f+f8:e*f+f], x[i*f+f8:i*f+f])
	}
	return -1
}

// rowOps are the assembly loop's codes of the reductions.
var rowOps = map[graphMode]int{modeSum: 0, modeMean: 3, modeMax: 1, modeMin: 2}

// reduceSegments writes segments [a, b) of a sum, mean, max or min: the assembly loop the
// columns it covers, whole segments at a time, and the Go loop the rest.
func reduceSegments(k *graphCall, a, b int) {
	f8 := 0
	if graphAVX2 && k.f >= 8 && b > a {
		f8 = k.f &^ 7
		// x is empty only when every segment is, and then the loop never reads it.
		var x *float32
		if len(k.x) > 0 {
			x = &k.x[0]
		}
		segmentsAVX2(rowOps[k.mode], &k.out[0], x, firstPtr(k.perm), &k.start[0], a, b, len(k.perm), f8, k.f)
	}
	if f8 < k.f {
		reduceColumns(k, a, b, f8)
	}
}

// reduceColumns writes columns [from, f) of segments [a, b): each segment's first row
// copied, the others folded in, and a mean divided by the segment's size.
func reduceColumns(k *graphCall, a, b, from int) {
	f, x, out, perm, start := k.f, k.x, k.out, k.perm, k.start
	for s := a; s < b; s++ {
		row := out[s*f+from : s*f+f]
		lo, hi := int(start[s]), int(start[s+1])
		if lo == hi {
			clear(row)
			continue
		}
		e := int(perm[lo])
		copy(row, x[e*f+from:e*f+f])
		for _, e := range perm[lo+1 : hi] {
			src := x[int(e)*f+from : int(e)*f+f]
			switch k.mode {
			case modeSum, modeMean:
				addRow(row, src)
			case modeMax:
				maxRow(row, src)
			case modeMin:
				minRow(row, src)
			}
		}
		if k.mode == modeMean {
			d := float32(hi - lo)
			for j := range row {
				row[j] /= d
			}
		}
	}
}

func addRow(dst, src []float32) {
	src = src[:len(dst)]
	for j, v := range src {
		dst[j] += v
	}
}

// maxRow keeps the larger value, the first of equal ones, and a NaN.
func maxRow(dst, src []float32) {
	src = src[:len(dst)]
	for j, v := range src {
		if v > dst[j] || v != v && dst[j] == dst[j] {
			dst[j] = v
		}
	}
}

func minRow(dst, src []float32) {
	src = src[:len(dst)]
	for j, v := range src {
		if v < dst[j] || v != v && dst[j] == dst[j] {
			dst[j] = v
		}
	}
}

// argextRows writes the rows of the entries of segments [a, b): dy[s] at the first entry
// whose x equals y[s] (or is NaN when y[s] is), elementwise, and 0 elsewhere. It walks each
// segment's entries in order, writing each entry's row whole as it goes, with pending
// marking the columns whose winner is still to come.
func argextRows(k *graphCall, pending []int32, a, b int) {
	f, x, y, dy, out, perm, start := k.f, k.x, k.y, k.dy, k.out, k.perm, k.start
	f8 := 0
	if graphAVX2 && f >= 8 {
		f8 = f &^ 7
	}
	for s := a; s < b; s++ {
		lo, hi := int(start[s]), int(start[s+1])
		if lo == hi {
			continue
		}
		for j := range pending {
			pending[j] = -1
		}
		yr, dr := y[s*f:s*f+f], dy[s*f:s*f+f]
		if f8 > 0 {
			argextRowsAVX2(&out[0], &x[0], &yr[0], &dr[0], &pending[0], &perm[lo], hi-lo, len(perm)-lo, f8, f)
		}
		if f8 == f {
			continue
		}
		yt, dt, pt := yr[f8:], dr[f8:], pending[f8:]
		for _, e := range perm[lo:hi] {
			xr, or := x[int(e)*f+f8:int(e)*f+f], out[int(e)*f+f8:int(e)*f+f]
			xr, or = xr[:len(yt)], or[:len(yt)]
			for j, v := range xr {
				or[j] = 0
				if pt[j] != 0 && (v == yt[j] || v != v && yt[j] != yt[j]) {
					pt[j], or[j] = 0, dt[j]
				}
			}
		}
	}
}
