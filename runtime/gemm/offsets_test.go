package gemm

import (
	"math/rand/v2"
	"testing"
)

// TestSgemmImplicit: a B given by overlapping row starts and column runs gives the same
// floats, bit for bit, as the same B copied out into a matrix, on every kernel and the
// gonum fallback, for both layouts of A, with beta 0 and 1, on shapes with ragged tiles
// and panels, runs that divide the panel width, runs panels straddle, and one run.
func TestSgemmImplicit(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, kn := range append(allKernels(), nil) {
		withKernel(kn, func() {
			for _, sh := range [][3]int{{1, 1, 1}, {8, 32, 5}, {13, 70, 37}, {128, 300, 290}, {9, 15, 3}} {
				m, n, k := sh[0], sh[1], sh[2]
				for _, ta := range []bool{false, true} {
					for ci, beta := range []float32{0, 1, 0} {
						w := []int{n, 64, 7}[ci]
						runs := (n + w - 1) / w
						size := 3*k + 8 + runs*w + 40*runs
						img := randMatrix(rng, 1, size, size)
						rows := make([]int, k)
						cols := make([]int, runs)
						for v := range cols {
							cols[v] = rng.IntN(40 * runs)
						}
						col := make([]float32, k*n)
						for p := range rows {
							rows[p] = rng.IntN(3*k + 8)
							for j := 0; j < n; j++ {
								col[p*n+j] = img[rows[p]+cols[j/w]+j%w]
							}
						}
						lda := k
						a := randMatrix(rng, m, k, lda)
						if ta {
							lda = m
							a = randMatrix(rng, k, m, lda)
						}
						c0 := randMatrix(rng, m, n, n)
						want := append([]float32(nil), c0...)
						got := append([]float32(nil), c0...)
						Sgemm(ta, false, m, n, k, a, lda, col, n, beta, want, n)
						SgemmImplicit(ta, m, n, k, a, lda, img, rows, cols, w, beta, got, n)
						for i := range want {
							if got[i] != want[i] {
								t.Fatalf("%s %v ta=%v beta=%v w=%d: c[%d] = %v, want %v", kernelName(kn), sh, ta, beta, w, i, got[i], want[i])
							}
						}
					}
				}
			}
		})
	}
}
