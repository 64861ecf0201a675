package runtime

import (
	"math"
	"sync"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/parallel"
)

// poolGeom is the geometry of a 2-D max pooling in NCHW: planes (batch × channels) of h×w,
// a k×k window moved by stride over the input padded by pad on every side, giving ho×wo.
// The padding never wins the maximum: it is −∞, and the shape rule keeps pad ≤ k/2 so that
// every window holds at least one input element.
type poolGeom struct {
	planes, h, w   int
	k, stride, pad int
	ho, wo         int
}

// poolRow finds the maxima of the windows of output row oh of one plane: best[ow] and, when
// arg is not nil, arg[ow], the offset in plane of the first maximum in row-major order. It
// sweeps the window's rows in order and, within a row, the kernel columns in order, each
// across every output of the row, so that the inner loop runs over contiguous outputs and
// a strict > keeps the first of equal values. A NaN wins, as in PyTorch, so that pooling
// never hides one from the runtime's checks. cols[j] is validOut for kernel column j.
func poolRow(best []float32, arg []int, plane []float32, oh int, cols [][2]int, g *poolGeom) {
	s, p := g.stride, g.pad
	h0 := oh*s - p
	h1 := min(h0+g.k, g.h)
	h0 = max(h0, 0)
	// Start from each window's first input element: the padding never wins, and a window
	// of −∞ or NaN still names an element of its own.
	for ow := range best {
		iw := max(ow*s-p, 0)
		best[ow] = plane[h0*g.w+iw]
		if arg != nil {
			arg[ow] = h0*g.w + iw
		}
	}
	for ih := h0; ih < h1; ih++ {
		row := plane[ih*g.w : (ih+1)*g.w]
		for j, c := range cols {
			iw := c[0]*s - p + j
			for ow := c[0]; ow < c[1]; ow++ {
				if v := row[iw]; v > best[ow] || v != v {
					best[ow] = v
					if arg != nil {
						arg[ow] = ih*g.w + iw
					}
				}
				iw += s
			}
		}
	}
}

// poolCols returns validOut for every kernel column.
func poolCols(g *poolGeom) [][2]int {
	cols := make([][2]int, g.k)
	for j := range cols {
		cols[j][0], cols[j][1] = validOut(j, g.w, g.stride, g.pad, g.wo)
	}
	return cols
}

// poolGrain is the number of planes a parallel chunk should hold so that it does some
// thousands of comparisons.
func poolGrain(g *poolGeom) int { return max(1, 4096/max(1, g.ho*g.wo*g.k*g.k)) }

// pairs reports whether the windows are 2×2 blocks that tile the input without padding,
// the pooling of every conv net here, which pool2Max and pool2Grad compute without the
// general loop's bookkeeping and without data-dependent branches: on activations the
// comparisons of poolRow go either way at random, and their mispredictions cost more than
// the rest of the loop.
func (g *poolGeom) pairs() bool { return g.k == 2 && g.stride == 2 && g.pad == 0 }

// pool2Max sets best to the maxima of the 2×2 windows over rows r0 and r1. The builtin max
// is NaN when any of its arguments is and is branch-free; it differs from poolRow only in
// the sign of a zero maximum when +0 and −0 meet in a window.
func pool2Max(best, r0, r1 []float32) {
	r0, r1 = r0[:2*len(best)], r1[:2*len(best)]
	for ow := range best {
		best[ow] = max(r0[2*ow], r0[2*ow+1], r1[2*ow], r1[2*ow+1])
	}
}

// pool2Grad writes the gradient grad of the 2×2 windows over input rows r0 and r1 into the
// matching rows d0 and d1 of dx: each window's element of grad goes to its first maximum,
// the element poolRow names (a NaN, if any, as there), and its other three elements get 0.
func pool2Grad(d0, d1, r0, r1, grad []float32) {
	n := 2 * len(grad)
	r0, r1, d0, d1 = r0[:n], r1[:n], d0[:n], d1[:n]
	for ow, gv := range grad {
		a, b, c, e := r0[2*ow], r0[2*ow+1], r1[2*ow], r1[2*ow+1]
		m := max(a, b, c, e)
		k := 3
		if m != m {
			k = nanArg(a, b, c, e)
		} else {
			// Which element is the maximum, by bits, so that the choice is a conditional
			// move: the first of equal values, as poolRow's strict > keeps.
			mb := math.Float32bits(m)
			if math.Float32bits(c) == mb {
				k = 2
			}
			if math.Float32bits(b) == mb {
				k = 1
			}
			if math.Float32bits(a) == mb {
				k = 0
			}
		}
		// 0 + g, not g, as poolRow's callers add into a cleared dx: −0 becomes +0 there too.
		gb := math.Float32bits(0 + gv)
		d0[2*ow] = math.Float32frombits(gb & onesIf(k == 0))
		d0[2*ow+1] = math.Float32frombits(gb & onesIf(k == 1))
		d1[2*ow] = math.Float32frombits(gb & onesIf(k == 2))
		d1[2*ow+1] = math.Float32frombits(gb & onesIf(k == 3))
	}
}

// onesIf is all ones when c holds, else 0.
func onesIf(c bool) uint32 {
	var m uint32
	if c {
		m = ^uint32(0)
	}
	return m
}

// nanArg is the element poolRow picks in a window holding a NaN: the last NaN, since
// every NaN it meets replaces the maximum and nothing replaces a NaN.
func nanArg(a, b, c, e float32) int {
	switch {
	case e != e:
		return 3
	case c != c:
		return 2
	case b != b:
		return 1
	}
	return 0
}

// maxPool2dForward sets y [planes, ho, wo] to the window maxima of x [planes, h, w].
func maxPool2dForward(y, x []float32, g poolGeom) {
	if g.pairs() {
		j := getPairsJob(g, y, x, nil)
		parallel.For(g.planes, poolGrain(&g), j.forward)
		putPairsJob(j)
		return
	}
	maxPool2dForwardRows(y, x, g)
}

// maxPool2dForwardRows is maxPool2dForward for any geometry.
func maxPool2dForwardRows(y, x []float32, g poolGeom) {
	is, os := g.h*g.w, g.ho*g.wo
	cols := poolCols(&g)
	parallel.For(g.planes, poolGrain(&g), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			plane, out := x[p*is:(p+1)*is], y[p*os:(p+1)*os]
			for oh := 0; oh < g.ho; oh++ {
				poolRow(out[oh*g.wo:(oh+1)*g.wo], nil, plane, oh, cols, &g)
			}
		}
	})
}

// maxPool2dBackward sets dx [planes, h, w] to the gradient of max pooling: each element of
// dy goes to its window's arg-max in x (the first on ties), and overlapping windows add up.
func maxPool2dBackward(dx, dy, x []float32, g poolGeom) {
	if g.pairs() {
		j := getPairsJob(g, dx, x, dy)
		parallel.For(g.planes, poolGrain(&g), j.backward)
		putPairsJob(j)
		return
	}
	maxPool2dBackwardRows(dx, dy, x, g)
}

// maxPool2dBackwardRows is maxPool2dBackward for any geometry.
func maxPool2dBackwardRows(dx, dy, x []float32, g poolGeom) {
	is, os := g.h*g.w, g.ho*g.wo
	cols := poolCols(&g)
	parallel.For(g.planes, poolGrain(&g), func(lo, hi int) {
		pb, pa := getScratch(g.wo), getArgScratch(g.wo)
		defer putScratch(pb)
		defer putArgScratch(pa)
		best, arg := *pb, *pa
		for p := lo; p < hi; p++ {
			plane, d, grad := x[p*is:(p+1)*is], dx[p*is:(p+1)*is], dy[p*os:(p+1)*os]
			clear(d)
			for oh := 0; oh < g.ho; oh++ {
				poolRow(best, arg, plane, oh, cols, &g)
				for ow, a := range arg {
					d[a] += grad[oh*g.wo+ow]
				}
			}
		}
	})
}

// pairsJob is one call of the 2×2 loops, recycled with its loop functions bound once so
// that a call allocates nothing (a func literal handed to parallel.For escapes).
type pairsJob struct {
	g                 poolGeom
	out, x, dy        []float32
	forward, backward func(lo, hi int)
}

var pairsJobs sync.Pool // of *pairsJob

func getPairsJob(g poolGeom, out, x, dy []float32) *pairsJob {
	j, _ := pairsJobs.Get().(*pairsJob)
	if j == nil {
		j = new(pairsJob)
		j.forward, j.backward = j.forwardPlanes, j.backwardPlanes
	}
	j.g, j.out, j.x, j.dy = g, out, x, dy
	return j
}

func putPairsJob(j *pairsJob) {
	j.out, j.x, j.dy = nil, nil, nil
	pairsJobs.Put(j)
}

// forwardPlanes sets the maxima of planes [lo, hi) into out.
func (j *pairsJob) forwardPlanes(lo, hi int) {
	g := &j.g
	is, os := g.h*g.w, g.ho*g.wo
	for p := lo; p < hi; p++ {
		plane, out := j.x[p*is:(p+1)*is], j.out[p*os:(p+1)*os]
		for oh := 0; oh < g.ho; oh++ {
			r := plane[2*oh*g.w:]
			pool2Max(out[oh*g.wo:(oh+1)*g.wo], r, r[g.w:])
		}
	}
}

// backwardPlanes sets the gradient of planes [lo, hi) into out.
func (j *pairsJob) backwardPlanes(lo, hi int) {
	g := &j.g
	is, os := g.h*g.w, g.ho*g.wo
	for p := lo; p < hi; p++ {
		plane, d, grad := j.x[p*is:(p+1)*is], j.out[p*is:(p+1)*is], j.dy[p*os:(p+1)*os]
		// An odd last row or column is in no window.
		if g.h%2 != 0 || g.w%2 != 0 {
			clear(d)
		}
		for oh := 0; oh < g.ho; oh++ {
			r, dr := plane[2*oh*g.w:], d[2*oh*g.w:]
			pool2Grad(dr, dr[g.w:], r, r[g.w:], grad[oh*g.wo:(oh+1)*g.wo])
		}
	}
}

// argScratch recycles maxPool2dBackward's arg-max rows, as scratch does its float rows.
var argScratch sync.Pool // of *[]int

func getArgScratch(n int) *[]int {
	if p, _ := argScratch.Get().(*[]int); p != nil && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	s := make([]int, n)
	return &s
}

func putArgScratch(p *[]int) { argScratch.Put(p) }

func init() {
	register("max_pool2d", maxPool2dKernel)
	register("max_pool2d_grad", maxPool2dGradKernel)
}

// poolGeomOf reads max pooling's attributes and checks x [B, C, H, W] against them.
func poolGeomOf(op *ir.Op, x *Tensor) (poolGeom, error) {
	if len(x.Shape) != 4 {
		return poolGeom{}, opErrorf(op, "got input %s, want rank 4", ShapeString(x.Shape))
	}
	k, ok := op.Attrs["kernel"].(int)
	if !ok {
		return poolGeom{}, opErrorf(op, "attribute kernel is %v, want an int", op.Attrs["kernel"])
	}
	stride, pad, err := convAttrs(op)
	if err != nil {
		return poolGeom{}, err
	}
	if 2*pad > k {
		return poolGeom{}, opErrorf(op, "pad %d, want at most half the kernel %d", pad, k)
	}
	g := poolGeom{planes: x.Shape[0] * x.Shape[1], h: x.Shape[2], w: x.Shape[3], k: k, stride: stride, pad: pad}
	if g.ho, g.wo, err = ir.OutSize(g.h, g.w, k, k, stride, pad, 0); err != nil {
		return poolGeom{}, opErrorf(op, "%v", err)
	}
	return g, nil
}

func maxPool2dKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	x := args[0]
	g, err := poolGeomOf(op, x)
	if err != nil {
		return nil, err
	}
	y := c.alloc([]int{x.Shape[0], x.Shape[1], g.ho, g.wo})
	maxPool2dForward(y.Data, x.Data, g)
	return y, nil
}

// maxPool2dGradKernel: (dy, x) → dx shaped like x.
func maxPool2dGradKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	dy, x := args[0], args[1]
	g, err := poolGeomOf(op, x)
	if err != nil {
		return nil, err
	}
	if want := []int{x.Shape[0], x.Shape[1], g.ho, g.wo}; !sameShape(dy.Shape, want) {
		return nil, opErrorf(op, "got gradient %s, want %s for input %s", ShapeString(dy.Shape), ShapeString(want), ShapeString(x.Shape))
	}
	dx := c.alloc(x.Shape)
	maxPool2dBackward(dx.Data, dy.Data, x.Data, g)
	return dx, nil
}
