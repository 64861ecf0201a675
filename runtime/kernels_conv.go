package runtime

import (
	"math/bits"
	"sync"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/parallel"
)

// Convolution in NCHW by im2col and one GEMM per group of images.
//
// Three loops do all the work of conv2d, conv_transpose2d and their gradients:
//
//	conv2dForward:     y_b  = W · im2col(x_b)              [O, CKK]·[CKK, HoWo]
//	conv2dAdjoint:     dx_b = col2im(Wᵀ · dy_b)            [CKK, O]·[O, HoWo]
//	conv2dWeightGrad:  dW   = Σ_b dy_b · im2col(x_b)ᵀ      [O, HoWo]·[HoWo, CKK]
//
// where CKK = C·kh·kw. conv_transpose2d is conv2dAdjoint under a relabelled geometry (its
// input plays the part of a convolution's output), which is also why the input gradient of
// conv2d is a transposed convolution and the other way round.
//
// A DCGAN layer's images are small (7×7 outputs give a GEMM 49 columns wide), so the loops
// put several images side by side in one im2col buffer, [CKK, nb·HoWo], and multiply once
// per group: a GEMM with a few hundred columns runs near the speed of a large one. Groups
// run on the parallel pool, each chunk with its own recycled buffers; the GEMMs go through
// sgemm, the runtime's single GEMM entry point, which runs serially inside a chunk (the
// pool is busy) and may split a lone group's product over the cores itself.

// convGeom is the geometry of one 2-D cross-correlation: a batch of b images of c channels,
// h×w, correlated with o filters of c×kh×kw at the given stride and zero padding (the same
// on both axes), giving o channels of ho×wo. ho and wo need not use every input row: a
// transposed convolution's output_pad adds rows that no output of the forward geometry
// reads.
type convGeom struct {
	b, c, h, w  int
	o, kh, kw   int
	stride, pad int
	ho, wo      int
}

// ckk is the length of one filter, the inner dimension of the forward GEMM.
func (g *convGeom) ckk() int { return g.c * g.kh * g.kw }

// pointwise reports whether im2col is the identity: a 1×1 kernel, stride 1, no padding.
func (g *convGeom) pointwise() bool {
	return g.kh == 1 && g.kw == 1 && g.stride == 1 && g.pad == 0
}

// flops is the number of floating-point operations of the forward pass, and of each
// gradient: one multiply and one add per filter tap per output element.
func (g *convGeom) flops() float64 {
	return 2 * float64(g.b) * float64(g.o) * float64(g.ho*g.wo) * float64(g.ckk())
}

// validOut returns the range [lo, hi) of output positions whose tap at kernel offset k
// lands inside an input axis of length n: 0 ≤ o·stride − pad + k < n.
func validOut(k, n, stride, pad, outLen int) (lo, hi int) {
	if d := pad - k; d > 0 {
		lo = min(outLen, (d+stride-1)/stride)
	}
	if e := n + pad - k - 1; e >= 0 {
		hi = min(outLen, e/stride+1)
	}
	return lo, max(lo, hi)
}

// minGemmCols is the GEMM width a group of images should reach, and maxGroupFloats bounds
// the im2col buffer of one group (4 MiB).
const (
	minGemmCols    = 256
	maxGroupFloats = 1 << 20
)

// group returns the number of images one GEMM takes.
func (g *convGeom) group() int {
	if g.pointwise() {
		return 1 // the images are their own im2col: multiply them in place
	}
	n := max(1, g.ho*g.wo)
	nb := (minGemmCols + n - 1) / n
	nb = min(nb, maxGroupFloats/max(1, n*g.ckk()))
	return max(1, min(nb, g.b))
}

// im2col writes the patches of one image x [c, h, w] into the columns of col that belong
// to it: row (ci·kh + i)·kw + j, which starts at col[row·ld], holds for every output
// position the input element under filter tap (i, j) of channel ci, or 0 where the tap
// falls in the padding.
func im2col(col []float32, ld int, x []float32, g *convGeom) {
	n := g.ho * g.wo
	s, p := g.stride, g.pad
	for ci := 0; ci < g.c; ci++ {
		plane := x[ci*g.h*g.w : (ci+1)*g.h*g.w]
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				row := col[((ci*g.kh+i)*g.kw+j)*ld:][:n]
				lo, hi := validOut(j, g.w, s, p, g.wo)
				for oh := 0; oh < g.ho; oh++ {
					dst := row[oh*g.wo : (oh+1)*g.wo]
					ih := oh*s - p + i
					if ih < 0 || ih >= g.h {
						clear(dst)
						continue
					}
					clear(dst[:lo])
					clear(dst[hi:])
					if lo == hi {
						continue // every tap of this column offset is in the padding
					}
					src := plane[ih*g.w : (ih+1)*g.w]
					iw := lo*s - p + j
					if s == 1 {
						copy(dst[lo:hi], src[iw:])
						continue
					}
					for ow := lo; ow < hi; ow++ {
						dst[ow] = src[iw]
						iw += s
					}
				}
			}
		}
	}
}

// col2im is the adjoint of im2col: it adds every entry of one image's columns of col into
// the element of x [c, h, w] that im2col reads it from, and drops those in the padding.
func col2im(x, col []float32, ld int, g *convGeom) {
	n := g.ho * g.wo
	s, p := g.stride, g.pad
	for ci := 0; ci < g.c; ci++ {
		plane := x[ci*g.h*g.w : (ci+1)*g.h*g.w]
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				row := col[((ci*g.kh+i)*g.kw+j)*ld:][:n]
				lo, hi := validOut(j, g.w, s, p, g.wo)
				for oh := 0; oh < g.ho; oh++ {
					ih := oh*s - p + i
					if ih < 0 || ih >= g.h || lo == hi {
						continue
					}
					src := row[oh*g.wo : (oh+1)*g.wo]
					dst := plane[ih*g.w : (ih+1)*g.w]
					iw := lo*s - p + j
					if s == 1 {
						d := dst[iw : iw+hi-lo]
						for k, v := range src[lo:hi] {
							d[k] += v
						}
						continue
					}
					for ow := lo; ow < hi; ow++ {
						dst[iw] += src[ow]
						iw += s
					}
				}
			}
		}
	}
}

// interleave copies nb images' [rows, n] blocks from src (image-major, stride
// rows·n) side by side into dst [rows, nb·n]; deinterleave is its inverse.
func interleave(dst, src []float32, nb, rows, n int) {
	for s := 0; s < nb; s++ {
		img := src[s*rows*n:]
		for r := 0; r < rows; r++ {
			copy(dst[r*nb*n+s*n:][:n], img[r*n:][:n])
		}
	}
}

func deinterleave(dst, src []float32, nb, rows, n int) {
	for s := 0; s < nb; s++ {
		img := dst[s*rows*n:]
		for r := 0; r < rows; r++ {
			copy(img[r*n:][:n], src[r*nb*n+s*n:][:n])
		}
	}
}

// scratch recycles the loops' im2col and staging buffers across calls: a DCGAN layer needs
// megabytes of them, which would otherwise be allocated and zeroed at every call. The loops
// write every element of a buffer before they read it, so a recycled one needs no clearing.
// There is one pool per power-of-two capacity: with a single pool, a call that asks for a
// small and a large buffer (the filters and the image, or the partial sums) could be handed
// the large one first and then allocate a second large one, megabytes faulted in afresh
// at every call.
var scratch [48]sync.Pool // of *[]float32, class c holding capacity 1<<c

// scratchClass is the pool of buffers with room for n floats.
func scratchClass(n int) int { return bits.Len(uint(max(n, 1) - 1)) }

// getScratch returns a buffer of n floats, of undefined contents, for putScratch.
func getScratch(n int) *[]float32 {
	c := scratchClass(n)
	if p, _ := scratch[c].Get().(*[]float32); p != nil {
		*p = (*p)[:n]
		return p
	}
	s := make([]float32, n, 1<<c)
	return &s
}

func putScratch(p *[]float32) { scratch[scratchClass(cap(*p))].Put(p) }

// im2colJob is one call of the general loops, shared by the goroutines of the pool and
// recycled with its loop functions bound once, so that a call allocates nothing (a func
// literal handed to parallel.For escapes and would be allocated at every call).
type im2colJob struct {
	g                      convGeom
	n, k, xs, ys, nb       int
	out, in, w             []float32 // forward: y, x, w; adjoint: dx, dy, w; weight gradient: -, x, dy
	parts                  int
	partial                [weightGradParts][]float32
	forward, adjoint, grad func(lo, hi int)
}

var im2colJobs sync.Pool // of *im2colJob

func getIm2colJob(g convGeom, out, in, w []float32) *im2colJob {
	j, _ := im2colJobs.Get().(*im2colJob)
	if j == nil {
		j = new(im2colJob)
		j.forward, j.adjoint, j.grad = j.forwardGroups, j.adjointGroups, j.gradParts
	}
	j.g, j.out, j.in, j.w = g, out, in, w
	j.n, j.k = g.ho*g.wo, g.ckk()
	j.xs, j.ys = g.c*g.h*g.w, g.o*j.n
	j.nb = g.group()
	return j
}

func putIm2colJob(j *im2colJob) {
	j.out, j.in, j.w = nil, nil, nil
	j.partial = [weightGradParts][]float32{}
	im2colJobs.Put(j)
}

// groups is the number of groups of nb images in the batch.
func (j *im2colJob) groups() int { return (j.g.b + j.nb - 1) / j.nb }

// conv2dForward sets y [b, o, ho, wo] to the cross-correlation of x [b, c, h, w] with
// w [o, c, kh, kw].
func conv2dForward(y, x, w []float32, g convGeom) {
	if g.wideOK() {
		conv2dForwardWide(y, x, w, g)
		return
	}
	if g.implicitPays(false) {
		conv2dForwardImplicit(y, x, w, g)
		return
	}
	conv2dForwardIm2col(y, x, w, g)
}

// conv2dForwardIm2col is conv2dForward for any geometry.
func conv2dForwardIm2col(y, x, w []float32, g convGeom) {
	j := getIm2colJob(g, y, x, w)
	parallel.For(j.groups(), 1, j.forward)
	putIm2colJob(j)
}

// forwardGroups runs the forward pass of the groups [lo, hi).
func (j *im2colJob) forwardGroups(lo, hi int) {
	g, n, k, xs, ys, nb := &j.g, j.n, j.k, j.xs, j.ys, j.nb
	y, x, w := j.out, j.in, j.w
	if nb == 1 && g.pointwise() {
		for bi := lo; bi < hi; bi++ {
			sgemm(false, false, g.o, n, k, w, k, x[bi*xs:], n, 0, y[bi*ys:], n)
		}
		return
	}
	pb := getScratch((k + g.o) * nb * n)
	defer putScratch(pb)
	col, out := (*pb)[:k*nb*n], (*pb)[k*nb*n:]
	for gi := lo; gi < hi; gi++ {
		first := gi * nb
		cnt := min(nb, g.b-first)
		ld := cnt * n
		for s := 0; s < cnt; s++ {
			im2col(col[s*n:], ld, x[(first+s)*xs:], g)
		}
		if cnt == 1 {
			sgemm(false, false, g.o, n, k, w, k, col, n, 0, y[first*ys:], n)
			continue
		}
		sgemm(false, false, g.o, ld, k, w, k, col, ld, 0, out, ld)
		deinterleave(y[first*ys:], out, cnt, g.o, n)
	}
}

// conv2dAdjoint sets dx [b, c, h, w] to the adjoint of the cross-correlation applied to
// dy [b, o, ho, wo]: the input gradient of conv2d, and the forward pass of a transposed
// convolution whose input is dy.
func conv2dAdjoint(dx, dy, w []float32, g convGeom) {
	if f, ok := g.flippedGeom(); ok {
		conv2dAdjointWide(dx, dy, w, g, f)
		return
	}
	if g.implicitPays(true) {
		conv2dAdjointImplicit(dx, dy, w, g)
		return
	}
	conv2dAdjointCol2im(dx, dy, w, g)
}

// conv2dAdjointCol2im is conv2dAdjoint for any geometry.
func conv2dAdjointCol2im(dx, dy, w []float32, g convGeom) {
	j := getIm2colJob(g, dx, dy, w)
	parallel.For(j.groups(), 1, j.adjoint)
	putIm2colJob(j)
}

// adjointGroups runs the adjoint of the groups [lo, hi). Wᵀ is read in place: the GEMM's
// packing handles a transposed A.
func (j *im2colJob) adjointGroups(lo, hi int) {
	g, n, k, xs, ys, nb := &j.g, j.n, j.k, j.xs, j.ys, j.nb
	dx, dy, w := j.out, j.in, j.w
	if nb == 1 && g.pointwise() {
		for bi := lo; bi < hi; bi++ {
			sgemm(true, false, k, n, g.o, w, k, dy[bi*ys:], n, 0, dx[bi*xs:], n)
		}
		return
	}
	pb := getScratch((k + g.o) * nb * n)
	defer putScratch(pb)
	col, stage := (*pb)[:k*nb*n], (*pb)[k*nb*n:]
	for gi := lo; gi < hi; gi++ {
		first := gi * nb
		cnt := min(nb, g.b-first)
		ld := cnt * n
		in := dy[first*ys:]
		if cnt > 1 {
			in = stage
			interleave(in, dy[first*ys:], cnt, g.o, n)
		}
		sgemm(true, false, k, ld, g.o, w, k, in, ld, 0, col, ld)
		for s := 0; s < cnt; s++ {
			xb := dx[(first+s)*xs : (first+s+1)*xs]
			clear(xb)
			col2im(xb, col[s*n:], ld, g)
		}
	}
}

// weightGradParts is the number of partial sums conv2dWeightGrad splits the batch into. It
// is fixed, not the number of cores, so that the result is the same float32 sum on every
// machine.
const weightGradParts = 4

// conv2dWeightGrad sets dw [o, c, kh, kw] to the gradient of the cross-correlation with
// respect to its filters: the sum over the batch of dy_b · im2col(x_b)ᵀ.
func conv2dWeightGrad(dw, x, dy []float32, g convGeom) {
	if g.wideOK() && g.b > 0 {
		conv2dWeightGradWide(dw, x, dy, g)
		return
	}
	if g.implicitPays(false) {
		conv2dWeightGradImplicit(dw, x, dy, g)
		return
	}
	conv2dWeightGradIm2col(dw, x, dy, g)
}

// conv2dWeightGradIm2col is conv2dWeightGrad for any geometry.
func conv2dWeightGradIm2col(dw, x, dy []float32, g convGeom) {
	parts := min(g.b, weightGradParts)
	if parts == 0 || g.ho*g.wo == 0 {
		clear(dw)
		return
	}
	j := getIm2colJob(g, nil, x, dy)
	j.parts = parts
	j.partial[0] = dw
	// Part p > 0 sums into its own buffer; every part has an image, so the first GEMM of
	// each (beta 0) writes all of it.
	var accs [weightGradParts]*[]float32
	for p := 1; p < parts; p++ {
		accs[p] = getScratch(len(dw))
		j.partial[p] = *accs[p]
	}
	parallel.For(parts, 1, j.grad)
	for p := 1; p < parts; p++ {
		for i, v := range j.partial[p] {
			dw[i] += v
		}
		putScratch(accs[p])
	}
	putIm2colJob(j)
}

// gradParts sums the weight gradient's parts [lo, hi), each over its share of the batch.
func (j *im2colJob) gradParts(lo, hi int) {
	g, n, k, xs, ys, nb := &j.g, j.n, j.k, j.xs, j.ys, j.nb
	x, dy := j.in, j.w
	var col, buf []float32
	if !g.pointwise() {
		pc := getScratch(k * nb * n)
		defer putScratch(pc)
		col = *pc
	}
	if nb > 1 {
		pb := getScratch(g.o * nb * n)
		defer putScratch(pb)
		buf = *pb
	}
	for p := lo; p < hi; p++ {
		acc := j.partial[p]
		var beta float32
		first, end := p*g.b/j.parts, (p+1)*g.b/j.parts
		for ; first < end; first += nb {
			cnt := min(nb, end-first)
			ld := cnt * n
			in, patches := dy[first*ys:], x[first*xs:]
			if cnt > 1 {
				in = buf
				interleave(in, dy[first*ys:], cnt, g.o, n)
			}
			if col != nil {
				patches = col
				for s := 0; s < cnt; s++ {
					im2col(col[s*n:], ld, x[(first+s)*xs:], g)
				}
			}
			sgemm(false, true, g.o, k, ld, in, ld, patches, ld, beta, acc, k)
			beta = 1
		}
	}
}

func init() {
	register("conv2d", conv2dKernel)
	register("conv_transpose2d", convTranspose2dKernel)
	register("conv2d_weight_grad", conv2dWeightGradKernel)
}

// rank4 checks that each tensor is rank 4.
func rank4(op *ir.Op, what []string, ts ...*Tensor) error {
	for i, t := range ts {
		if len(t.Shape) != 4 {
			return opErrorf(op, "got %s %s, want rank 4", what[i], ShapeString(t.Shape))
		}
	}
	return nil
}

// outSize applies the shape rule's ir.OutSize, with op's slack attribute, to g and sets
// g.ho and g.wo.
func outSize(op *ir.Op, g *convGeom) error {
	s, err := ir.Slack(op.Attrs, g.stride)
	if err != nil {
		return opErrorf(op, "%v", err)
	}
	if g.ho, g.wo, err = ir.OutSize(g.h, g.w, g.kh, g.kw, g.stride, g.pad, s); err != nil {
		return opErrorf(op, "%v", err)
	}
	return nil
}

func convAttrs(op *ir.Op) (stride, pad int, err error) {
	stride, pad, err = ir.ConvAttrs(op.Attrs)
	if err != nil {
		return 0, 0, opErrorf(op, "%v", err)
	}
	return stride, pad, nil
}

// conv2dKernel: x [B, C, H, W], w [O, C, kh, kw] → [B, O, Ho, Wo].
func conv2dKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	x, w := args[0], args[1]
	if err := rank4(op, []string{"input", "weight"}, x, w); err != nil {
		return nil, err
	}
	stride, pad, err := convAttrs(op)
	if err != nil {
		return nil, err
	}
	if x.Shape[1] != w.Shape[1] {
		return nil, opErrorf(op, "input %s has %d channels, weight %s wants %d", ShapeString(x.Shape), x.Shape[1], ShapeString(w.Shape), w.Shape[1])
	}
	g := convGeom{b: x.Shape[0], c: x.Shape[1], h: x.Shape[2], w: x.Shape[3], o: w.Shape[0], kh: w.Shape[2], kw: w.Shape[3], stride: stride, pad: pad}
	if err := outSize(op, &g); err != nil {
		return nil, err
	}
	y := c.alloc([]int{g.b, g.o, g.ho, g.wo})
	conv2dForward(y.Data, x.Data, w.Data, g)
	return y, nil
}

// convTranspose2dKernel: x [B, C, H, W], w [C, O, kh, kw] → [B, O, Hy, Wy], computed as the
// adjoint of the convolution from [B, O, Hy, Wy] to x's shape.
func convTranspose2dKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	x, w := args[0], args[1]
	if err := rank4(op, []string{"input", "weight"}, x, w); err != nil {
		return nil, err
	}
	stride, pad, err := convAttrs(op)
	if err != nil {
		return nil, err
	}
	opad, ok := op.Attrs["output_pad"].(int)
	if !ok {
		return nil, opErrorf(op, "attribute output_pad is %v, want an int", op.Attrs["output_pad"])
	}
	if x.Shape[1] != w.Shape[0] {
		return nil, opErrorf(op, "input %s has %d channels, weight %s [in, out, kh, kw] wants %d", ShapeString(x.Shape), x.Shape[1], ShapeString(w.Shape), w.Shape[0])
	}
	g := convGeom{b: x.Shape[0], c: w.Shape[1], o: x.Shape[1], kh: w.Shape[2], kw: w.Shape[3], stride: stride, pad: pad, ho: x.Shape[2], wo: x.Shape[3]}
	if g.h, err = ir.ConvTransposeOut(g.ho, g.kh, stride, pad, opad); err != nil {
		return nil, opErrorf(op, "height: %v", err)
	}
	if g.w, err = ir.ConvTransposeOut(g.wo, g.kw, stride, pad, opad); err != nil {
		return nil, opErrorf(op, "width: %v", err)
	}
	y := c.alloc([]int{g.b, g.c, g.h, g.w})
	conv2dAdjoint(y.Data, x.Data, w.Data, g)
	return y, nil
}

// conv2dWeightGradKernel: x [B, C, H, W], dy [B, O, Ho, Wo] → [O, C, kh, kw].
func conv2dWeightGradKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	x, dy := args[0], args[1]
	if err := rank4(op, []string{"input", "gradient"}, x, dy); err != nil {
		return nil, err
	}
	stride, pad, err := convAttrs(op)
	if err != nil {
		return nil, err
	}
	k, ok := op.Attrs["kernel"].([]int)
	if !ok || len(k) != 2 {
		return nil, opErrorf(op, "attribute kernel is %v, want [kh, kw]", op.Attrs["kernel"])
	}
	g := convGeom{b: x.Shape[0], c: x.Shape[1], h: x.Shape[2], w: x.Shape[3], o: dy.Shape[1], kh: k[0], kw: k[1], stride: stride, pad: pad}
	if err := outSize(op, &g); err != nil {
		return nil, err
	}
	if dy.Shape[0] != g.b || dy.Shape[2] != g.ho || dy.Shape[3] != g.wo {
		return nil, opErrorf(op, "input %s gives [%d, O, %d, %d], got gradient %s", ShapeString(x.Shape), g.b, g.ho, g.wo, ShapeString(dy.Shape))
	}
	dw := c.alloc([]int{g.o, g.c, g.kh, g.kw})
	conv2dWeightGrad(dw.Data, x.Data, dy.Data, g)
	return dw, nil
}
