package runtime

import "github.com/dlc-lang/dlc/runtime/parallel"

// Stride-1 convolution on a padded "wide" grid.
//
// The general loops in kernels_conv.go build im2col one output row at a time: for a 3×3
// convolution of 28×28 images that is 9·C·28 copies of 28 floats per image, and the call
// overhead of those short copies, not the GEMM, dominated a convolutional autoencoder's
// step. With stride 1 the patches have a simpler form. Copy a group of nb images into a
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

// wideGeom is the padded grid of a stride-1 convolution for groups of nb images.
type wideGeom struct {
	hp, wp int // the padded image
	span   int // hp·wp, one image on the grid
	n      int // the GEMM's width for nb images: up to the last image's last output row
	lc     int // one channel of P: nb images and the slack the last tap reads past them
}

func (g *convGeom) wide(nb int) wideGeom {
	hp, wp := g.h+2*g.pad, g.w+2*g.pad
	wg := wideGeom{hp: hp, wp: wp, span: hp * wp}
	wg.n = (nb-1)*wg.span + g.ho*wp
	// The last column of the last tap reads n−1 + (kh−1)·wp + kw−1 < nb·span + kw−1.
	wg.lc = nb*wg.span + g.kw
	return wg
}

// wideOK reports whether the wide loops apply: stride 1, and a kernel that is not 1×1
// without padding (those multiply the images in place).
func (g *convGeom) wideOK() bool {
	return g.stride == 1 && !g.pointwise() && g.ho == g.h+2*g.pad-g.kh+1 && g.wo == g.w+2*g.pad-g.kw+1
}

// wideGroup returns the number of images per GEMM: enough for a GEMM about 1024 columns
// wide, with the group's buffers under maxGroupFloats.
func (g *convGeom) wideGroup() int {
	span := (g.h + 2*g.pad) * (g.w + 2*g.pad)
	nb := max(1, 1024/span)
	nb = min(nb, maxGroupFloats/max(1, span*(g.ckk()+g.c+g.o)))
	return max(1, min(nb, g.b))
}

// widePad copies cnt images of x [_, c, h, w] from image first into P [c][lc], each image
// zero-padded to hp×wp, and clears the slack after them.
func widePad(p, x []float32, first, cnt int, g *convGeom, wg *wideGeom) {
	hw, pad := g.h*g.w, g.pad
	for c := 0; c < g.c; c++ {
		pc := p[c*wg.lc : (c+1)*wg.lc]
		for s := 0; s < cnt; s++ {
			img := pc[s*wg.span : (s+1)*wg.span]
			src := x[((first+s)*g.c+c)*hw:][:hw]
			clear(img[:pad*wg.wp+pad])
			for r := 0; r < g.h; r++ {
				at := (r+pad)*wg.wp + pad
				copy(img[at:at+g.w], src[r*g.w:])
				// The right padding of this row and the left padding of the next: a
				// loop, as a call to clear costs more than a few stores.
				for i := range img[at+g.w : min(at+g.w+2*pad, wg.span)] {
					img[at+g.w+i] = 0
				}
			}
			clear(img[(g.h+pad)*wg.wp:])
		}
		clear(pc[cnt*wg.span:])
	}
}

// wideCol writes the im2col rows of a padded group P into col [ckk, wg.n].
func wideCol(col, p []float32, g *convGeom, wg *wideGeom) {
	for c := 0; c < g.c; c++ {
		pc := p[c*wg.lc:]
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				row := (c*g.kh+i)*g.kw + j
				copy(col[row*wg.n:(row+1)*wg.n], pc[i*wg.wp+j:])
			}
		}
	}
}

// conv2dForwardWide is conv2dForward for geometries with wideOK.
func conv2dForwardWide(y, x, w []float32, g convGeom) {
	k, nb := g.ckk(), g.wideGroup()
	wg := g.wide(nb)
	pLen, colLen := g.c*wg.lc, k*wg.n
	forGroups(g.b, nb, pLen+colLen+g.o*wg.n, func(first, cnt int, buf []float32) {
		p, col, out := buf[:pLen], buf[pLen:pLen+colLen], buf[pLen+colLen:]
		gw := wg
		gw.n = (cnt-1)*wg.span + g.ho*wg.wp
		widePad(p, x, first, cnt, &g, &gw)
		wideCol(col, p, &g, &gw)
		sgemm(false, false, g.o, gw.n, k, w, k, col, gw.n, 0, out, gw.n)
		// Copy the outputs off the grid.
		ohw := g.ho * g.wo
		for s := 0; s < cnt; s++ {
			for o := 0; o < g.o; o++ {
				dst := y[((first+s)*g.o+o)*ohw:][:ohw]
				src := out[o*gw.n+s*gw.span:]
				for oh := 0; oh < g.ho; oh++ {
					copy(dst[oh*g.wo:(oh+1)*g.wo], src[oh*gw.wp:])
				}
			}
		}
	})
}

// flippedGeom is the stride-1 convolution that computes g's input gradient, with ok
// false when there is none of the wide kind (padding wider than the kernel's reach, or a
// non-square kernel, which would need different paddings on the two axes).
func (g *convGeom) flippedGeom() (f convGeom, ok bool) {
	if !g.wideOK() || g.kh != g.kw || g.pad > g.kh-1 {
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
	k, nb := g.ckk(), g.wideGroup()
	wg := g.wide(nb)
	parts := min(g.b, weightGradParts)
	// Each part sums dWᵀ [ckk, o] = col · dyᵀ: the GEMM reads the large col in place as
	// its A and packs only dy, where dW = dy · colᵀ would pack (and transpose) all of col.
	var partial [weightGradParts][]float32
	var accs [weightGradParts]*[]float32
	for p := 0; p < parts; p++ {
		accs[p] = getScratch(len(dw))
		partial[p] = *accs[p]
	}
	pLen, colLen := g.c*wg.lc, k*wg.n
	ohw := g.ho * g.wo
	parallel.For(parts, 1, func(lo, hi int) {
		pb := getScratch(pLen + colLen + g.o*wg.n)
		defer putScratch(pb)
		buf := *pb
		pad, col, dyw := buf[:pLen], buf[pLen:pLen+colLen], buf[pLen+colLen:]
		for part := lo; part < hi; part++ {
			var beta float32
			first, end := part*g.b/parts, (part+1)*g.b/parts
			for ; first < end; first += nb {
				cnt := min(nb, end-first)
				gw := wg
				gw.n = (cnt-1)*wg.span + g.ho*wg.wp
				widePad(pad, x, first, cnt, &g, &gw)
				wideCol(col, pad, &g, &gw)
				// dy on the grid, zero off the outputs.
				d := dyw[:g.o*gw.n]
				clear(d)
				for o := 0; o < g.o; o++ {
					for s := 0; s < cnt; s++ {
						src := dy[((first+s)*g.o+o)*ohw:][:ohw]
						dst := d[o*gw.n+s*gw.span:]
						for oh := 0; oh < g.ho; oh++ {
							copy(dst[oh*gw.wp:oh*gw.wp+g.wo], src[oh*g.wo:])
						}
					}
				}
				sgemm(false, true, k, g.o, gw.n, col, gw.n, d, gw.n, beta, partial[part], g.o)
				beta = 1
			}
		}
	})
	// dw = ((dW₀ + dW₁) + dW₂) + dW₃, transposed back.
	for o := 0; o < g.o; o++ {
		row := dw[o*k : (o+1)*k]
		for r := range row {
			v := partial[0][r*g.o+o]
			for p := 1; p < parts; p++ {
				v += partial[p][r*g.o+o]
			}
			row[r] = v
		}
	}
	for p := 0; p < parts; p++ {
		putScratch(accs[p])
	}
}
