package gemm

import (
	"fmt"

	"github.com/dlc-lang/dlc/runtime/parallel"
)

// SgemmImplicit computes C = op(A)·B + beta·C where B is not stored as a matrix but read
// from one slice by separable offsets: B(p, j) = b[rows[p] + cols[j/w] + j%w] for p < k,
// j < n, n ≤ len(cols)·w. The rows and the runs of w columns may overlap; that is the
// point. A convolution's im2col matrix over an image laid out channel, row, column, batch
// (the batch innermost) is such a B: tap (c, i, j) is a row start, output position
// (oh, ow) the start of a run of w = batch columns, one per image. Packing B's panels
// straight from the image (implicit GEMM) saves writing that matrix and reading it back.
// A is m×k row-major (lda), op(A) = Aᵀ when ta is set; C is m×n (ldc). It panics like
// Sgemm on bad arguments, and when an offset leaves b.
func SgemmImplicit(ta bool, m, n, k int, a []float32, lda int, b []float32, rows, cols []int, w int, beta float32, c []float32, ldc int) {
	if k < 0 || len(rows) < k {
		panic(fmt.Sprintf("gemm: %d row starts for k=%d", len(rows), k))
	}
	if w < 1 || n < 0 || len(cols)*w < n {
		panic(fmt.Sprintf("gemm: %d column runs of %d for n=%d", len(cols), w, n))
	}
	if k > 0 && n > 0 {
		lo, hi := rows[0], rows[0]
		for _, r := range rows[:k] {
			lo, hi = min(lo, r), max(hi, r)
		}
		nc := (n + w - 1) / w
		clo, chi := cols[0], cols[0]
		for _, o := range cols[:nc] {
			clo, chi = min(clo, o), max(chi, o)
		}
		// The last run may be short; bound it by a whole run (callers size b for that).
		if lo+clo < 0 || hi+chi+min(w, n) > len(b) {
			panic(fmt.Sprintf("gemm: B's offsets reach [%d, %d), len(b)=%d", lo+clo, hi+chi+min(w, n), len(b)))
		}
	}
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	if ta {
		need("a", a, k, m, lda)
	} else {
		need("a", a, m, k, lda)
	}
	need("c", c, m, n, ldc)
	if m == 0 || n == 0 {
		return
	}
	if external != nil || active == nil || (beta != 0 && beta != 1) || k == 0 {
		// Materialise B and take the general path.
		col := make([]float32, k*n)
		for p := 0; p < k; p++ {
			for j := 0; j < n; j += w {
				copy(col[p*n+j:p*n+min(j+w, n)], b[rows[p]+cols[j/w]:])
			}
		}
		Sgemm(ta, false, m, n, k, a, lda, col, n, beta, c, ldc)
		return
	}
	kn := active
	if kn.narrow != nil && n <= kn.narrow.nr {
		kn = kn.narrow
	}
	g := getCall()
	*g = gemmCall{kern: kn, bl: DefaultBlocking.fit(kn), ta: ta, m: m, n: n, k: k,
		a: a, lda: lda, b: b, brows: rows, bcols: cols, bw: w, c: c, ldc: ldc, accumulate: beta == 1, items: g.items}
	g.run(parallel.Workers() > 1)
	*g = gemmCall{items: g.items}
	callPool.Put(g)
}
