package runtime

import (
	"sync"

	"github.com/dlc-lang/dlc/runtime/parallel"
)

// Convolution on a padded "wide" grid.
//
// The general loops in kernels_conv.go build im2col one output row at a time: for a 3×3
// convolution of 28×28 images that is 9·C·28 copies of 28 floats per image, and the call
// overhead of those short copies, not the GEMM, dominated a convolutional autoencoder's
// step. With stride 1 the patches have a simpler form (wideGeom extends it to strides by
// splitting the padded image into its phases). Copy a group of nb images into a
// zero-padded buffer P [C, nb, Hp, Wp] (Hp = H + 2·pad, Wp = W + 2·pad) and number the
// outputs on the same grid: output (s, oh, ow) sits at n = s·Hp·Wp + oh·Wp + ow. Then the
// im2col row of tap (c, i, j) is P[c] shifted by i·Wp + j,
//
//	col[(c, i, j), n] = P[c][n + i·Wp + j],
//
// one contiguous run per tap and group, whatever the image size. The grid positions with
// ow ≥ Wo or oh ≥ Ho are not outputs: the GEMM computes them anyway (13% more columns for
// a 28×28 image with pad 1, 23% for 14×14) and the forward pass drops them when it copies
// the result out. The weight gradient multiplies by a dy laid out on the same grid with
// zeros there, so they add exact zeros. The sums run over the same taps in the same order
// as the general loop's, so the forward pass and the weight gradient are the same floats.
//
// The input gradient of a stride-1 convolution is itself a stride-1 convolution: of dy,
// padded by kh−1−pad, with the filters flipped and their in and out channels swapped. It
// runs through the same wide forward loop, with no col2im. Its sums add the same products
// in another order (over o, then taps, instead of over taps, then o), so it differs from
// the general loop by rounding: a few ulps of the sum of the magnitudes.

// wideGeom is the padded grid of a convolution for groups of nb images. With stride s the
// padded image is split into its s² phases, the sub-images of the rows ≡ a and columns ≡ b
// (mod s): tap (i, j) reads phase (i mod s, j mod s) at offset (i/s, j/s) with stride 1, so
// its im2col row is again one shifted run of P, on a grid of rows wq = ⌈wp/s⌉ long.
type wideGeom struct {
	hq, wq int // one phase of the padded image, ⌈hp/s⌉×⌈wp/s⌉; the grid's rows are wq long
	span   int // hq·wq, one image on the grid
	n      int // the GEMM's width for nb images: up to the last image's last output row
	lc     int // one channel and phase of P: nb images and the slack the last tap reads past them
}

func (g *convGeom) wide(nb int) wideGeom {
	s := g.stride
	hq, wq := (g.h+2*g.pad+s-1)/s, (g.w+2*g.pad+s-1)/s
	wg := wideGeom{hq: hq, wq: wq, span: hq * wq}
	wg.n = (nb-1)*wg.span + g.ho*wq
	// The last column of the last tap reads n−1 + ((kh−1)/s)·wq + (kw−1)/s, and
	// (ho−1 + (kh−1)/s) < hq, so that is under nb·span + (kw−1)/s.
	wg.lc = nb*wg.span + (g.kw-1)/s + 1
	return wg
}

// wideOK reports whether the wide loops apply: not a 1×1 kernel without stride or padding
// (those multiply the images in place). With stride, two more conditions. The grid must
// waste at most a quarter of the product (a 7×7 output on the 8×8 grid of a 14×14 input
// does 31% more multiplications). And the filter must be at least as long as there are
// output channels: the wide loops copy the output off the grid in o·ho short rows per
// image where im2col copies ckk·ho, so with more outputs than taps they save nothing. The
// DCGAN's 28→14 layers (16 taps, 64 channels) measured no faster and take im2col.
func (g *convGeom) wideOK() bool {
	if g.pointwise() || g.stride < 1 || g.ho*g.wo == 0 {
		return false
	}
	s := g.stride
	hp, wp := g.h+2*g.pad, g.w+2*g.pad
	if g.ho > (hp-g.kh)/s+1 || g.wo > (wp-g.kw)/s+1 {
		return false
	}
	grid := ((hp + s - 1) / s) * ((wp + s - 1) / s)
	return s == 1 || 4*grid <= 5*g.ho*g.wo && g.ckk() >= g.o
}

// wideGroup returns the number of images per GEMM: enough for a GEMM about 1024 columns
// wide, with the group's buffers under maxGroupFloats.
func (g *convGeom) wideGroup() int {
	s := g.stride
	span := ((g.h + 2*g.pad + s - 1) / s) * ((g.w + 2*g.pad + s - 1) / s)
	nb := max(1, 1024/span)
	nb = min(nb, maxGroupFloats/max(1, span*(g.ckk()+g.c*s*s+g.o)))
	return max(1, min(nb, g.b))
}

// padLen is the length of P: c channels of s² phases.
func (wg *wideGeom) padLen(g *convGeom) int { return g.c * g.stride * g.stride * wg.lc }

// widePad copies cnt images of x [_, c, h, w] from image first into P [c][s²][lc], each
// image zero-padded and split into its phases, and clears the slack after them.
func widePad(p, x []float32, first, cnt int, g *convGeom, wg *wideGeom) {
	if g.stride > 1 {
		widePadPhases(p, x, first, cnt, g, wg)
		return
	}
	hw, pad, wp := g.h*g.w, g.pad, wg.wq
	for c := 0; c < g.c; c++ {
		pc := p[c*wg.lc : (c+1)*wg.lc]
		for s := 0; s < cnt; s++ {
			img := pc[s*wg.span : (s+1)*wg.span]
			src := x[((first+s)*g.c+c)*hw:][:hw]
			clear(img[:pad*wp+pad])
			for r := 0; r < g.h; r++ {
				at := (r+pad)*wp + pad
				copy(img[at:at+g.w], src[r*g.w:])
				// The right padding of this row and the left padding of the next: a
				// loop, as a call to clear costs more than a few stores.
				for i := range img[at+g.w : min(at+g.w+2*pad, wg.span)] {
					img[at+g.w+i] = 0
				}
			}
			clear(img[(g.h+pad)*wp:])
		}
		clear(pc[cnt*wg.span:])
	}
}

// widePadPhases is widePad for stride s > 1: padded element (R, C) goes to phase
// (R mod s, C mod s) at (R/s, C/s).
func widePadPhases(p, x []float32, first, cnt int, g *convGeom, wg *wideGeom) {
	s, hw, pad := g.stride, g.h*g.w, g.pad
	clear(p[:wg.padLen(g)])
	for c := 0; c < g.c; c++ {
		for im := 0; im < cnt; im++ {
			src := x[((first+im)*g.c+c)*hw:][:hw]
			for r := 0; r < g.h; r++ {
				pr := r + pad
				rowBase := (c*s+pr%s)*s*wg.lc + im*wg.span + (pr/s)*wg.wq
				row := src[r*g.w : (r+1)*g.w]
				for b := 0; b < s; b++ {
					// Input columns cc with (cc + pad) mod s = b, from the first.
					c0 := ((b-pad)%s + s) % s
					if c0 >= g.w {
						continue
					}
					dst := p[rowBase+b*wg.lc+(c0+pad)/s:]
					k := 0
					for cc := c0; cc < g.w; cc += s {
						dst[k] = row[cc]
						k++
					}
				}
			}
		}
	}
}

// wideCol writes the im2col rows of a padded group P into col [ckk, wg.n].
func wideCol(col, p []float32, g *convGeom, wg *wideGeom) {
	s := g.stride
	for c := 0; c < g.c; c++ {
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				row := (c*g.kh+i)*g.kw + j
				phase := p[((c*s+i%s)*s+j%s)*wg.lc:]
				copy(col[row*wg.n:(row+1)*wg.n], phase[(i/s)*wg.wq+j/s:])
			}
		}
	}
}

// wideJob is one call of the wide loops, shared by the goroutines of the pool. Jobs are
// recycled with their loop functions bound once, so that a call allocates nothing: a func
// literal handed to parallel.For escapes, and would be allocated at every call.
type wideJob struct {
	g             convGeom
	wg            wideGeom
	k, nb, parts  int
	pLen, colLen  int
	y, x, w, dy   []float32
	partial       [weightGradParts][]float32
	forward, grad func(lo, hi int)
}

var wideJobs sync.Pool // of *wideJob

func getWideJob(g convGeom) *wideJob {
	j, _ := wideJobs.Get().(*wideJob)
	if j == nil {
		j = new(wideJob)
		j.forward, j.grad = j.forwardGroups, j.gradParts
	}
	j.g, j.k, j.nb = g, g.ckk(), g.wideGroup()
	j.wg = g.wide(j.nb)
	j.pLen, j.colLen = j.wg.padLen(&g), j.k*j.wg.n
	return j
}

// putWideJob drops the job's references to the caller's tensors and recycles it.
func putWideJob(j *wideJob) {
	j.y, j.x, j.w, j.dy = nil, nil, nil, nil
	j.partial = [weightGradParts][]float32{}
	wideJobs.Put(j)
}

// scratchLen is the length of one goroutine's buffers: P, col and a [o, n] block.
func (j *wideJob) scratchLen() int { return j.pLen + j.colLen + j.g.o*j.wg.n }

// groupGrid is the job's grid for a group of cnt ≤ nb images.
func (j *wideJob) groupGrid(cnt int) wideGeom {
	gw := j.wg
	gw.n = (cnt-1)*gw.span + j.g.ho*gw.wq
	return gw
}

// conv2dForwardWide is conv2dForward for geometries with wideOK.
func conv2dForwardWide(y, x, w []float32, g convGeom) {
	j := getWideJob(g)
	j.y, j.x, j.w = y, x, w
	parallel.For((g.b+j.nb-1)/j.nb, 1, j.forward)
	putWideJob(j)
}

// forwardGroups runs the forward pass of the groups [lo, hi).
func (j *wideJob) forwardGroups(lo, hi int) {
	g := &j.g
	pb := getScratch(j.scratchLen())
	defer putScratch(pb)
	buf := *pb
	p, col, out := buf[:j.pLen], buf[j.pLen:j.pLen+j.colLen], buf[j.pLen+j.colLen:]
	ohw := g.ho * g.wo
	for gi := lo; gi < hi; gi++ {
		first := gi * j.nb
		cnt := min(j.nb, g.b-first)
		gw := j.groupGrid(cnt)
		widePad(p, j.x, first, cnt, g, &gw)
		wideCol(col, p, g, &gw)
		sgemm(false, false, g.o, gw.n, j.k, j.w, j.k, col, gw.n, 0, out, gw.n)
		// Copy the outputs off the grid.
		for s := 0; s < cnt; s++ {
			for o := 0; o < g.o; o++ {
				dst := j.y[((first+s)*g.o+o)*ohw:][:ohw]
				src := out[o*gw.n+s*gw.span:]
				for oh := 0; oh < g.ho; oh++ {
					copy(dst[oh*g.wo:(oh+1)*g.wo], src[oh*gw.wq:])
				}
			}
		}
	}
}

// flippedGeom is the stride-1 convolution that computes g's input gradient, with ok
// false when there is none of the wide kind (padding wider than the kernel's reach, or a
// non-square kernel, which would need different paddings on the two axes).
func (g *convGeom) flippedGeom() (f convGeom, ok bool) {
	if g.stride != 1 || !g.wideOK() || g.kh != g.kw || g.pad > g.kh-1 {
		return f, false
	}
	f = convGeom{b: g.b, c: g.o, h: g.ho, w: g.wo, o: g.c, kh: g.kh, kw: g.kw, stride: 1, pad: g.kh - 1 - g.pad, ho: g.h, wo: g.w}
	return f, f.wideOK()
}

// conv2dAdjointWide is conv2dAdjoint as the forward convolution of dy with the flipped
// filters, for geometries whose flippedGeom is ok.
func conv2dAdjointWide(dx, dy, w []float32, g, f convGeom) {
	pf := getScratch(len(w))
	defer putScratch(pf)
	wf := *pf
	kk := g.kh * g.kw
	for o := 0; o < g.o; o++ {
		for c := 0; c < g.c; c++ {
			src, dst := w[(o*g.c+c)*kk:][:kk], wf[(c*g.o+o)*kk:][:kk]
			for t, v := range src {
				dst[kk-1-t] = v
			}
		}
	}
	conv2dForwardWide(dx, dy, wf, f)
}

// conv2dWeightGradWide is conv2dWeightGrad for geometries with wideOK.
func conv2dWeightGradWide(dw, x, dy []float32, g convGeom) {
	j := getWideJob(g)
	j.x, j.dy = x, dy
	j.parts = min(g.b, weightGradParts)
	// Each part sums dWᵀ [ckk, o] = col · dyᵀ: the GEMM reads the large col in place as
	// its A and packs only dy, where dW = dy · colᵀ would pack (and transpose) all of col.
	var accs [weightGradParts]*[]float32
	for p := 0; p < j.parts; p++ {
		accs[p] = getScratch(len(dw))
		j.partial[p] = *accs[p]
	}
	parallel.For(j.parts, 1, j.grad)
	sumPartialsTransposed(dw, j.partial[:j.parts], g.o, j.k)
	for p := 0; p < j.parts; p++ {
		putScratch(accs[p])
	}
	putWideJob(j)
}

// gradParts sums the weight gradient's parts [lo, hi), each over its share of the batch.
func (j *wideJob) gradParts(lo, hi int) {
	g := &j.g
	pb := getScratch(j.scratchLen())
	defer putScratch(pb)
	buf := *pb
	pad, col, dyw := buf[:j.pLen], buf[j.pLen:j.pLen+j.colLen], buf[j.pLen+j.colLen:]
	ohw := g.ho * g.wo
	for part := lo; part < hi; part++ {
		var beta float32
		first, end := part*g.b/j.parts, (part+1)*g.b/j.parts
		for ; first < end; first += j.nb {
			cnt := min(j.nb, end-first)
			gw := j.groupGrid(cnt)
			widePad(pad, j.x, first, cnt, g, &gw)
			wideCol(col, pad, g, &gw)
			// dy on the grid, zero off the outputs.
			d := dyw[:g.o*gw.n]
			clear(d)
			for o := 0; o < g.o; o++ {
				for s := 0; s < cnt; s++ {
					src := j.dy[((first+s)*g.o+o)*ohw:][:ohw]
					dst := d[o*gw.n+s*gw.span:]
					for oh := 0; oh < g.ho; oh++ {
						copy(dst[oh*gw.wq:oh*gw.wq+g.wo], src[oh*g.wo:])
					}
				}
			}
			sgemm(false, true, j.k, g.o, gw.n, col, gw.n, d, gw.n, beta, j.partial[part], g.o)
			beta = 1
		}
	}
}

// sumPartialsTransposed sets dw [o, k] to the sum of the partial weight gradients, each
// [k, o], in a fixed order: dw = ((dW₀ + dW₁) + dW₂) + dW₃, transposed back.
func sumPartialsTransposed(dw []float32, partial [][]float32, o, k int) {
	for oc := 0; oc < o; oc++ {
		row := dw[oc*k : (oc+1)*k]
		for r := range row {
			v := partial[0][r*o+oc]
			for _, part := range partial[1:] {
				v += part[r*o+oc]
			}
			row[r] = v
		}
	}
}
