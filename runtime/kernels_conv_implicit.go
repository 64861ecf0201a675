package runtime

import (
	"sync"

	"github.com/dlc-lang/dlc/runtime/gemm"
	"github.com/dlc-lang/dlc/runtime/parallel"
)

// Strided convolution by implicit GEMM, the batch innermost.
//
// im2col copies every input element kh·kw/s² times into a matrix the GEMM then packs
// again, and for a stride above 1 it does so one element at a time; col2im adds them back
// one at a time. Both were a quarter of a DCGAN's step. Here the images of a group are
// laid out channel, row, column, batch, zero-padded:
//
//	X[c][R][C][b] = x[b][c][R−pad][C−pad]        (R < h+2·pad, C < w+2·pad)
//
// Then the im2col matrix is B((c, i, j), (oh, ow, b)) = X[c][oh·s+i][ow·s+j][b], whose
// offset into X splits into a part that depends on the tap only and a part that depends
// on the output position only, and the batch is a contiguous run:
//
//	rows[(c, i, j)] = ((c·Hp + i)·Wp + j)·nb        cols[(oh, ow)] = (oh·s·Wp + ow·s)·nb
//
// gemm.SgemmImplicit packs its B panels straight from X by those offsets: no im2col
// buffer, no waste (every column is an output), any stride. The forward pass is that one
// product, W [O, C·kh·kw] · B; the result [O][oh, ow][b] goes back to [b][O][oh][ow] by a
// transpose. It adds the same products in the same order as the im2col loop, with the
// same GEMM blocking, so its floats are the same bit for bit.
//
// The weight gradient, dWᵀ = B · dyᵀ, reads B as the GEMM's A operand, which must be a
// plain matrix: it copies B a chunk of output positions at a time, each row a run of nb
// floats (a memmove, where im2col's strided loop stored one float at a time), and sums
// batch quarters into fixed partial sums, as the im2col loop does, so that the result does
// not depend on the number of cores. Its summation order differs from the im2col loop's
// (positions then images, instead of images then positions): the last bits may move.
//
// The input gradient (the transposed convolution's forward pass) is split by output phase
// (sub-pixel convolution): input element (R, C) of the padded grid, R = a + s·Rq and
// C = b + s·Cq, receives only the taps i ≡ a, j ≡ b (mod s), i = a + s·t reading dy at
// oh = Rq − t. So each of the s² phases is a stride-1 correlation of dy, laid out
// [O][Hd][Wd][nb] with ⌈kh/s⌉−1 rows and columns of zeros before, with a sub-kernel of
// ⌈kh/s⌉×⌈kw/s⌉ taps: again one implicit GEMM, with no col2im, and each element of dx is
// written once. It adds over (o, t, u) in one sum where col2im added the taps' sums one
// after the other: the last bits may move, within a few ulps of the sum of magnitudes
// (TestConvImplicitMatchesIm2col bounds it).

// implicitOK reports whether the implicit loops can run g: a kernel that is not 1×1
// without stride or padding (those multiply in place), whose output positions all read
// inside the padded image. The tests run them on every such geometry.
func (g *convGeom) implicitOK() bool {
	if g.pointwise() || g.stride < 1 || g.ho < 1 || g.wo < 1 || g.b < 1 {
		return false
	}
	hp, wp := g.h+2*g.pad, g.w+2*g.pad
	return (g.ho-1)*g.stride+g.kh <= hp && (g.wo-1)*g.stride+g.kw <= wp
}

// implicitPays reports whether the implicit loops are the faster way for g, with the
// transposes into and out of the batch-innermost layout paid once per element of x, y and
// dx while the product does 2·C·kh·kw (forward, weight gradient) or 2·O·kh·kw/s² (input
// gradient) FLOPs per output element. With few of those, as in a DCGAN's one-channel
// layers (16 taps), the transposes cost more than the product and im2col is faster; and a
// product with fewer rows (O forward, C for the input gradient) than the kernel's tile
// wastes most of it. The thresholds were measured on the DCGAN's layers (BenchmarkConv).
func (g *convGeom) implicitPays(adjoint bool) bool {
	if !g.implicitOK() {
		return false
	}
	if adjoint {
		s2 := g.stride * g.stride
		return g.c >= 8 && g.o*g.kh*g.kw >= 64*s2
	}
	return g.o >= 8 && g.ckk() >= 64
}

// maxImplicitGroup bounds the images of one group: a run of 64 is two panels of the
// AVX-512 kernel.
const maxImplicitGroup = 64

// implicitGroup returns the images per group for buffers of perImage floats per image:
// as many as fit maxGroupFloats, at most maxImplicitGroup, a multiple of 32 when that many
// fit (so that the runs of the batch fill whole panels).
func (g *convGeom) implicitGroup(perImage int) int {
	nb := min(g.b, maxImplicitGroup, max(1, maxGroupFloats/max(1, perImage)))
	if nb >= 32 {
		nb &^= 31
	}
	return max(1, nb)
}

// ints recycles the offset tables.
var offsetTables sync.Pool // of *[]int

func getInts(n int) *[]int {
	if p, _ := offsetTables.Get().(*[]int); p != nil {
		if cap(*p) >= n {
			*p = (*p)[:n]
			return p
		}
		offsetTables.Put(p) // a smaller table for a smaller call
	}
	s := make([]int, n)
	return &s
}

// padBatchInner writes cnt images of x [_, c, h, w] (image stride xs) into X [c][hp][wp][cnt],
// zero in the padding.
func padBatchInner(xp, x []float32, cnt int, g *convGeom) {
	hp, wp, p := g.h+2*g.pad, g.w+2*g.pad, g.pad
	xs := g.c * g.h * g.w
	rowLen := wp * cnt
	for c := 0; c < g.c; c++ {
		plane := xp[c*hp*rowLen : (c+1)*hp*rowLen]
		clear(plane[:p*rowLen])
		clear(plane[(p+g.h)*rowLen:])
		for r := 0; r < g.h; r++ {
			row := plane[(r+p)*rowLen : (r+p+1)*rowLen]
			clear(row[:p*cnt])
			clear(row[(p+g.w)*cnt:])
			gemm.Transpose(row[p*cnt:], cnt, x[c*g.h*g.w+r*g.w:], xs, cnt, g.w)
		}
	}
}

// implicitOffsets fills the forward product's offset tables for a group of cnt images:
// rows [ckk], cols [ho·wo].
func implicitOffsets(rows, cols []int, cnt int, g *convGeom) {
	hp, wp, s := g.h+2*g.pad, g.w+2*g.pad, g.stride
	for c := 0; c < g.c; c++ {
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				rows[(c*g.kh+i)*g.kw+j] = ((c*hp+i)*wp + j) * cnt
			}
		}
	}
	for oh := 0; oh < g.ho; oh++ {
		for ow := 0; ow < g.wo; ow++ {
			cols[oh*g.wo+ow] = (oh*s*wp + ow*s) * cnt
		}
	}
}

// conv2dForwardImplicit is conv2dForward for geometries with implicitOK.
func conv2dForwardImplicit(y, x, w []float32, g convGeom) {
	hp, wp := g.h+2*g.pad, g.w+2*g.pad
	k, v := g.ckk(), g.ho*g.wo
	xs, ys := g.c*g.h*g.w, g.o*v
	nb := g.implicitGroup(g.c*hp*wp + g.o*v)
	pb := getScratch((g.c*hp*wp + g.o*v) * nb)
	defer putScratch(pb)
	ti := getInts(k + v)
	defer offsetTables.Put(ti)
	rows, cols := (*ti)[:k], (*ti)[k:]
	for first := 0; first < g.b; first += nb {
		cnt := min(nb, g.b-first)
		xp, out := (*pb)[:g.c*hp*wp*cnt], (*pb)[g.c*hp*wp*cnt:][:g.o*v*cnt]
		padBatchInner(xp, x[first*xs:], cnt, &g)
		implicitOffsets(rows, cols, cnt, &g)
		gemm.SgemmImplicit(false, g.o, v*cnt, k, w, k, xp, rows, cols, cnt, 0, out, v*cnt)
		gemm.Transpose(y[first*ys:], ys, out, cnt, g.o*v, cnt)
	}
}

// implicitGradJob is one call of the implicit weight gradient, recycled with its loop
// function bound once, so that a call allocates nothing.
type implicitGradJob struct {
	g       convGeom
	x, dy   []float32
	parts   int
	partial [weightGradParts][]float32
	grad    func(lo, hi int)
}

var implicitGradJobs sync.Pool // of *implicitGradJob

// implicitChunkFloats bounds the copied im2col chunk of the weight gradient (1 MiB).
const implicitChunkFloats = 1 << 18

// conv2dWeightGradImplicit is conv2dWeightGrad for geometries with implicitOK.
func conv2dWeightGradImplicit(dw, x, dy []float32, g convGeom) {
	j, _ := implicitGradJobs.Get().(*implicitGradJob)
	if j == nil {
		j = new(implicitGradJob)
		j.grad = j.gradParts
	}
	j.g, j.x, j.dy = g, x, dy
	j.parts = min(g.b, weightGradParts)
	var accs [weightGradParts]*[]float32
	for p := 0; p < j.parts; p++ {
		accs[p] = getScratch(len(dw))
		j.partial[p] = *accs[p]
	}
	parallel.For(j.parts, 1, j.grad)
	sumPartialsTransposed(dw, j.partial[:j.parts], g.o, g.ckk())
	for p := 0; p < j.parts; p++ {
		putScratch(accs[p])
	}
	j.x, j.dy = nil, nil
	j.partial = [weightGradParts][]float32{}
	implicitGradJobs.Put(j)
}

// gradParts sums the weight gradient's parts [lo, hi), each over its share of the batch,
// in groups of images and chunks of output positions.
func (j *implicitGradJob) gradParts(lo, hi int) {
	g := &j.g
	hp, wp := g.h+2*g.pad, g.w+2*g.pad
	k, v := g.ckk(), g.ho*g.wo
	xs, ys := g.c*g.h*g.w, g.o*v
	nb := g.implicitGroup(g.c*hp*wp + g.o*v)
	nb = min(nb, (g.b+j.parts-1)/j.parts)
	// Positions per chunk: the copied B is k × (chunk·cnt) floats.
	chunk := max(1, min(v, implicitChunkFloats/max(1, k*nb)))
	pb := getScratch((g.c*hp*wp+g.o*v)*nb + k*chunk*nb)
	defer putScratch(pb)
	ti := getInts(k + v)
	defer offsetTables.Put(ti)
	rows, cols := (*ti)[:k], (*ti)[k:]
	for part := lo; part < hi; part++ {
		var beta float32
		acc := j.partial[part]
		first, end := part*g.b/j.parts, (part+1)*g.b/j.parts
		for ; first < end; first += nb {
			cnt := min(nb, end-first)
			buf := *pb
			xp, dyg := buf[:g.c*hp*wp*cnt], buf[g.c*hp*wp*cnt:][:g.o*v*cnt]
			col := buf[(g.c*hp*wp+g.o*v)*nb:]
			padBatchInner(xp, j.x[first*xs:], cnt, g)
			implicitOffsets(rows, cols, cnt, g)
			// dy as [o][v][cnt].
			gemm.Transpose(dyg, cnt, j.dy[first*ys:], ys, cnt, ys)
			for v0 := 0; v0 < v; v0 += chunk {
				v1 := min(v0+chunk, v)
				n := (v1 - v0) * cnt
				for r, ro := range rows {
					dst := col[r*n : (r+1)*n]
					for q, co := range cols[v0:v1] {
						copy(dst[q*cnt:(q+1)*cnt], xp[ro+co:])
					}
				}
				sgemm(false, true, k, g.o, n, col, n, dyg[v0*cnt:], v*cnt, beta, acc, g.o)
				beta = 1
			}
		}
	}
}

// subPixel is one output phase (a, b) of the implicit input gradient: the rows Rq in
// [rlo, rhi) and columns Cq in [clo, chi) of the phase's grid that are elements of dx, and
// its taps i = a + s·t (t < nt), j = b + s·u (u < nu).
type subPixel struct {
	a, b               int
	rlo, rhi, clo, chi int
	nt, nu             int
	woff               int // where its filters [c][(o, t, u)] start in the filters of all phases
}

// phaseRange returns the quotients q of the padded positions a + s·q that lie on the
// image: pad ≤ a + s·q < pad + n.
func phaseRange(a, s, pad, n int) (lo, hi int) {
	lo = (pad - a + s - 1) / s // pad − a > −s: the numerator is not negative
	hi = (pad+n-1-a)/s + 1
	if pad+n-1 < a {
		hi = 0
	}
	return lo, max(lo, hi)
}

// conv2dAdjointImplicit is conv2dAdjoint for geometries with implicitOK.
func conv2dAdjointImplicit(dx, dy, w []float32, g convGeom) {
	s := g.stride
	T, U := (g.kh+s-1)/s-1, (g.kw+s-1)/s-1
	var phases [16]subPixel
	ph := phases[:0]
	if s*s > len(phases) {
		ph = make([]subPixel, 0, s*s)
	}
	maxR, maxC, maxV, maxK, woff := 0, 0, 0, 0, 0
	for a := 0; a < s; a++ {
		for b := 0; b < s; b++ {
			p := subPixel{a: a, b: b, nt: max(0, (g.kh-a+s-1)/s), nu: max(0, (g.kw-b+s-1)/s), woff: woff}
			woff += g.c * g.o * p.nt * p.nu
			p.rlo, p.rhi = phaseRange(a, s, g.pad, g.h)
			p.clo, p.chi = phaseRange(b, s, g.pad, g.w)
			maxR, maxC = max(maxR, p.rhi), max(maxC, p.chi)
			maxV = max(maxV, (p.rhi-p.rlo)*(p.chi-p.clo))
			maxK = max(maxK, g.o*p.nt*p.nu)
			ph = append(ph, p)
		}
	}
	hd, wd := max(maxR, g.ho)+T, max(maxC, g.wo)+U
	xs, ys := g.c*g.h*g.w, g.o*g.ho*g.wo
	perImage := g.o*hd*wd + 2*g.c*maxV
	nb := g.implicitGroup(perImage)
	// The phases' filters, [c][(o, t, u)], one after the other.
	pw := getScratch(g.c * g.o * g.kh * g.kw)
	defer putScratch(pw)
	wph := *pw
	for _, p := range ph {
		kp := g.o * p.nt * p.nu
		for c := 0; c < g.c; c++ {
			dst := wph[p.woff+c*kp : p.woff+(c+1)*kp]
			r := 0
			for o := 0; o < g.o; o++ {
				for t := 0; t < p.nt; t++ {
					for u := 0; u < p.nu; u++ {
						dst[r] = w[((o*g.c+c)*g.kh+p.a+s*t)*g.kw+p.b+s*u]
						r++
					}
				}
			}
		}
	}
	pb := getScratch(perImage * nb)
	defer putScratch(pb)
	ti := getInts(maxK + maxV)
	defer offsetTables.Put(ti)
	for first := 0; first < g.b; first += nb {
		cnt := min(nb, g.b-first)
		buf := *pb
		dyp := buf[:g.o*hd*wd*cnt]
		out := buf[g.o*hd*wd*cnt:][:g.c*maxV*cnt]
		stage := buf[(g.o*hd*wd+g.c*maxV)*cnt:][:g.c*maxV*cnt]
		// dy as [o][hd][wd][cnt], its rows and columns shifted by T and U.
		clear(dyp)
		for o := 0; o < g.o; o++ {
			for oh := 0; oh < g.ho; oh++ {
				d := dyp[((o*hd+oh+T)*wd+U)*cnt:]
				gemm.Transpose(d, cnt, dy[first*ys+(o*g.ho+oh)*g.wo:], ys, cnt, g.wo)
			}
		}
		for _, p := range ph {
			kp := g.o * p.nt * p.nu
			nr, nc := p.rhi-p.rlo, p.chi-p.clo
			v := nr * nc
			if v == 0 {
				continue
			}
			if kp == 0 { // a phase no tap reaches: its elements of dx are 0
				for s0 := 0; s0 < cnt; s0++ {
					for c := 0; c < g.c; c++ {
						img := dx[(first+s0)*xs+c*g.h*g.w:]
						for rq := p.rlo; rq < p.rhi; rq++ {
							for cq := p.clo; cq < p.chi; cq++ {
								img[(p.a+s*rq-g.pad)*g.w+p.b+s*cq-g.pad] = 0
							}
						}
					}
				}
				continue
			}
			rows, cols := (*ti)[:kp], (*ti)[kp:kp+v]
			r := 0
			for o := 0; o < g.o; o++ {
				for t := 0; t < p.nt; t++ {
					for u := 0; u < p.nu; u++ {
						rows[r] = ((o*hd+T-t)*wd + U - u) * cnt
						r++
					}
				}
			}
			for rq := p.rlo; rq < p.rhi; rq++ {
				for cq := p.clo; cq < p.chi; cq++ {
					cols[(rq-p.rlo)*nc+cq-p.clo] = (rq*wd + cq) * cnt
				}
			}
			o := out[:g.c*v*cnt]
			gemm.SgemmImplicit(false, g.c, v*cnt, kp, wph[p.woff:], kp, dyp, rows, cols, cnt, 0, o, v*cnt)
			// [c][v][cnt] → [cnt][c][v], then each row of the phase into dx with stride s.
			st := stage[:cnt*g.c*v]
			gemm.Transpose(st, g.c*v, o, cnt, g.c*v, cnt)
			for s0 := 0; s0 < cnt; s0++ {
				for c := 0; c < g.c; c++ {
					img := dx[(first+s0)*xs+c*g.h*g.w:][:g.h*g.w]
					src := st[(s0*g.c+c)*v:][:v]
					for rq := 0; rq < nr; rq++ {
						ih := p.a + s*(rq+p.rlo) - g.pad
						iw := p.b + s*p.clo - g.pad
						row := src[rq*nc : (rq+1)*nc]
						dst := img[ih*g.w:]
						_ = dst[iw+s*(nc-1)]
						for q, val := range row {
							dst[iw+s*q] = val
						}
					}
				}
			}
		}
	}
}
