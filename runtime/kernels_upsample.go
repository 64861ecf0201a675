package runtime

import (
	"sync"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/parallel"
)

// upGeom is the geometry of a 2-D upsampling in NCHW by an integer factor: planes (batch ×
// channels) of h×w become planes of (h·scale)×(w·scale).
type upGeom struct {
	planes, h, w, scale int
	bilinear            bool
}

// lerpTaps are, for each output index along one axis, the two input indices it reads and
// their weights.
type lerpTaps struct {
	i0, i1 []int
	l0, l1 []float32
}

// bilinearTaps computes the taps of an axis of length n upsampled by scale with PyTorch's
// align_corners=False convention: output index o samples the input at (o + ½)/scale − ½,
// clamped below at 0; the upper neighbour is clamped to the last index.
func bilinearTaps(n, scale int) lerpTaps {
	m := n * scale
	t := lerpTaps{i0: make([]int, m), i1: make([]int, m), l0: make([]float32, m), l1: make([]float32, m)}
	for o := 0; o < m; o++ {
		src := float32((float64(o)+0.5)/float64(scale) - 0.5)
		if src < 0 {
			src = 0
		}
		i0 := int(src)
		i1 := i0
		if i0 < n-1 {
			i1++
		}
		t.i0[o], t.i1[o] = i0, i1
		t.l1[o] = src - float32(i0)
		t.l0[o] = 1 - t.l1[o]
	}
	return t
}

func upGrain(g *upGeom) int { return max(1, 4096/max(1, g.h*g.w*g.scale*g.scale)) }

// upsample2dForward sets y [planes, h·scale, w·scale] to x [planes, h, w] upsampled.
func upsample2dForward(y, x []float32, g upGeom) {
	if !g.bilinear {
		j := getNearestJob(g, y, x)
		parallel.For(g.planes, upGrain(&g), j.forward)
		putNearestJob(j)
		return
	}
	upsample2dForwardBilinear(y, x, g)
}

// upsample2dForwardBilinear is upsample2dForward in bilinear mode.
func upsample2dForwardBilinear(y, x []float32, g upGeom) {
	s := g.scale
	ho, wo := g.h*s, g.w*s
	is, os := g.h*g.w, ho*wo
	th, tw := bilinearTaps(g.h, s), bilinearTaps(g.w, s)
	parallel.For(g.planes, upGrain(&g), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			plane, out := x[p*is:(p+1)*is], y[p*os:(p+1)*os]
			for oh := 0; oh < ho; oh++ {
				r0, r1 := plane[th.i0[oh]*g.w:][:g.w], plane[th.i1[oh]*g.w:][:g.w]
				a0, a1 := th.l0[oh], th.l1[oh]
				dst := out[oh*wo:][:wo]
				for ow := range dst {
					j0, j1, b0, b1 := tw.i0[ow], tw.i1[ow], tw.l0[ow], tw.l1[ow]
					dst[ow] = a0*(b0*r0[j0]+b1*r0[j1]) + a1*(b0*r1[j0]+b1*r1[j1])
				}
			}
		}
	})
}

// upsample2dBackward sets dx [planes, h, w] to the gradient of upsampling given
// dy [planes, h·scale, w·scale]: each element of dy goes back to the inputs it was
// interpolated from, in proportion to their weights.
func upsample2dBackward(dx, dy []float32, g upGeom) {
	if !g.bilinear {
		j := getNearestJob(g, dx, dy)
		parallel.For(g.planes, upGrain(&g), j.backward)
		putNearestJob(j)
		return
	}
	upsample2dBackwardBilinear(dx, dy, g)
}

// upsample2dBackwardBilinear is upsample2dBackward in bilinear mode.
func upsample2dBackwardBilinear(dx, dy []float32, g upGeom) {
	s := g.scale
	ho, wo := g.h*s, g.w*s
	is, os := g.h*g.w, ho*wo
	th, tw := bilinearTaps(g.h, s), bilinearTaps(g.w, s)
	parallel.For(g.planes, upGrain(&g), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			d, grad := dx[p*is:(p+1)*is], dy[p*os:(p+1)*os]
			clear(d)
			for oh := 0; oh < ho; oh++ {
				src := grad[oh*wo:][:wo]
				r0, r1 := d[th.i0[oh]*g.w:][:g.w], d[th.i1[oh]*g.w:][:g.w]
				a0, a1 := th.l0[oh], th.l1[oh]
				for ow, v := range src {
					j0, j1, b0, b1 := tw.i0[ow], tw.i1[ow], tw.l0[ow], tw.l1[ow]
					r0[j0] += a0 * b0 * v
					r0[j1] += a0 * b1 * v
					r1[j0] += a1 * b0 * v
					r1[j1] += a1 * b1 * v
				}
			}
		}
	})
}

// nearestJob is one call of the nearest-neighbour loops, recycled with its loop functions
// bound once so that a call allocates nothing (a func literal handed to parallel.For
// escapes).
type nearestJob struct {
	g                 upGeom
	dst, src          []float32
	forward, backward func(lo, hi int)
}

var nearestJobs sync.Pool // of *nearestJob

func getNearestJob(g upGeom, dst, src []float32) *nearestJob {
	j, _ := nearestJobs.Get().(*nearestJob)
	if j == nil {
		j = new(nearestJob)
		j.forward, j.backward = j.forwardPlanes, j.backwardPlanes
	}
	j.g, j.dst, j.src = g, dst, src
	return j
}

func putNearestJob(j *nearestJob) {
	j.dst, j.src = nil, nil
	nearestJobs.Put(j)
}

// forwardPlanes upsamples planes [lo, hi) of src into dst. Each input row is widened once
// into its first output row, which the other s−1 rows copy.
func (j *nearestJob) forwardPlanes(lo, hi int) {
	g, s := &j.g, j.g.scale
	wo := g.w * s
	is, os := g.h*g.w, g.h*s*wo
	for p := lo; p < hi; p++ {
		plane, out := j.src[p*is:(p+1)*is], j.dst[p*os:(p+1)*os]
		for r := 0; r < g.h; r++ {
			src, dst := plane[r*g.w:][:g.w], out[r*s*wo:][:s*wo]
			widen(dst[:wo], src, s)
			for k := 1; k < s; k++ {
				copy(dst[k*wo:(k+1)*wo], dst[:wo])
			}
		}
	}
}

// backwardPlanes sums the gradient src of planes [lo, hi) back into dst, row by row in
// the order of the output.
func (j *nearestJob) backwardPlanes(lo, hi int) {
	g, s := &j.g, j.g.scale
	wo := g.w * s
	is, os := g.h*g.w, g.h*s*wo
	for p := lo; p < hi; p++ {
		d, grad := j.dst[p*is:(p+1)*is], j.src[p*os:(p+1)*os]
		clear(d)
		for oh := 0; oh < g.h*s; oh++ {
			narrowAdd(d[(oh/s)*g.w:][:g.w], grad[oh*wo:][:wo], s)
		}
	}
}

// widen sets dst [len(src)·s] to src with every element repeated s times.
func widen(dst, src []float32, s int) {
	if s == 2 {
		dst = dst[:2*len(src)]
		for i, v := range src {
			dst[2*i], dst[2*i+1] = v, v
		}
		return
	}
	for i, v := range src {
		for k := range dst[i*s : (i+1)*s] {
			dst[i*s+k] = v
		}
	}
}

// narrowAdd adds each run of s elements of src [len(row)·s] to its element of row, in
// order, the adjoint of widen.
func narrowAdd(row, src []float32, s int) {
	if s == 2 {
		src = src[:2*len(row)]
		for i := range row {
			a := row[i] + src[2*i]
			row[i] = a + src[2*i+1]
		}
		return
	}
	for i := range row {
		a := row[i]
		for _, v := range src[i*s : (i+1)*s] {
			a += v
		}
		row[i] = a
	}
}

func init() {
	register("upsample2d", upsample2dKernel)
	register("upsample2d_grad", upsample2dGradKernel)
}

// upGeomOf reads upsampling's attributes; small is the [B, C, H, W] side.
func upGeomOf(op *ir.Op, small []int) (upGeom, error) {
	s, ok := op.Attrs["scale"].(int)
	if !ok || s < 1 {
		return upGeom{}, opErrorf(op, "attribute scale is %v, want an int ≥ 1", op.Attrs["scale"])
	}
	mode := op.Attrs.String("mode")
	if mode != "nearest" && mode != "bilinear" {
		return upGeom{}, opErrorf(op, "attribute mode is %v, want \"nearest\" or \"bilinear\"", op.Attrs["mode"])
	}
	return upGeom{planes: small[0] * small[1], h: small[2], w: small[3], scale: s, bilinear: mode == "bilinear"}, nil
}

func upsample2dKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	x := args[0]
	if len(x.Shape) != 4 {
		return nil, opErrorf(op, "got input %s, want rank 4", ShapeString(x.Shape))
	}
	g, err := upGeomOf(op, x.Shape)
	if err != nil {
		return nil, err
	}
	y := c.alloc([]int{x.Shape[0], x.Shape[1], g.h * g.scale, g.w * g.scale})
	upsample2dForward(y.Data, x.Data, g)
	return y, nil
}

func upsample2dGradKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	dy := args[0]
	if len(dy.Shape) != 4 {
		return nil, opErrorf(op, "got gradient %s, want rank 4", ShapeString(dy.Shape))
	}
	s, _ := op.Attrs["scale"].(int)
	if s < 1 || dy.Shape[2]%s != 0 || dy.Shape[3]%s != 0 {
		return nil, opErrorf(op, "got gradient %s, want its height and width multiples of scale %v", ShapeString(dy.Shape), op.Attrs["scale"])
	}
	small := []int{dy.Shape[0], dy.Shape[1], dy.Shape[2] / s, dy.Shape[3] / s}
	g, err := upGeomOf(op, small)
	if err != nil {
		return nil, err
	}
	dx := c.alloc(small)
	upsample2dBackward(dx.Data, dy.Data, g)
	return dx, nil
}
