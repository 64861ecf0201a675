package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

// withKernel runs f with kn as the active kernel (nil: the gonum fallback).
func withKernel(kn *kernel, f func()) {
	saved, savedExt := active, external
	active, external = kn, nil
	defer func() { active, external = saved, savedExt }()
	f()
}

func kernelName(kn *kernel) string {
	if kn == nil {
		return "gonum"
	}
	return kn.name
}

// randMatrix returns r rows of cols values in [-1, 1) with stride ld ≥ cols; the padding
// holds a sentinel that a product must neither read into C nor overwrite.
func randMatrix(rng *rand.Rand, r, cols, ld int) []float32 {
	s := make([]float32, r*ld)
	for i := range s {
		if i%ld < cols {
			s[i] = 2*rng.Float32() - 1
		} else {
			s[i] = 1e30
		}
	}
	return s
}

// checkProduct compares got with gonum's blas32 on the same inputs. Both sum k products
// in float32, in different orders and with or without fused multiply-adds, so each is
// within k·ε·Σ|a||b| of the exact value (ε = 2⁻²⁴); the test allows twice that plus a
// rounding of β·C: |got - want| ≤ 2(k+2)·ε·(Σₚ|a_ip·b_pj| + |β·c_ij|).
func checkProduct(t *testing.T, name string, ta, tb bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c0, got []float32, ldc int) {
	t.Helper()
	want := append([]float32(nil), c0...)
	if m > 0 && n > 0 {
		blas32.Implementation().Sgemm(trans(ta), trans(tb), m, n, k, 1, a, lda, b, ldb, beta, want, ldc)
	}
	at := func(i, p int) float32 {
		if ta {
			return a[p*lda+i]
		}
		return a[i*lda+p]
	}
	bt := func(p, j int) float32 {
		if tb {
			return b[j*ldb+p]
		}
		return b[p*ldb+j]
	}
	const eps = 1.0 / (1 << 24)
	for i := 0; i < m; i++ {
		for j := 0; j < ldc; j++ {
			idx := i*ldc + j
			if j >= n {
				if got[idx] != c0[idx] {
					t.Fatalf("%s: wrote C[%d][%d] past column %d", name, i, j, n)
				}
				continue
			}
			var mag float64
			for p := 0; p < k; p++ {
				mag += math.Abs(float64(at(i, p)) * float64(bt(p, j)))
			}
			if beta != 0 {
				mag += math.Abs(float64(beta * c0[idx]))
			}
			tol := 2 * float64(k+2) * eps * mag
			if d := math.Abs(float64(got[idx] - want[idx])); !(d <= tol) {
				t.Fatalf("%s: C[%d][%d] = %g, gonum %g (|Δ| %g > tol %g)", name, i, j, got[idx], want[idx], d, tol)
			}
		}
	}
}

var edgeSizes = []int{1, 2, 15, 16, 17, 33, 47}

func TestSgemmAgainstGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	small := Blocking{KC: 7, MC: 24, NC: 64} // many blocks on small shapes
	for _, kn := range append(allKernels(), nil) {
		// The tiles kept only for measuring get the edge sizes; the ones in use (and
		// gonum) bigger shapes too.
		trials, inUse := 8, kn == nil || kn == avx512Kernel || kn == avx2Kernel
		if inUse {
			trials = 24
		}
		for _, bl := range []Blocking{DefaultBlocking, small} {
			for trial := 0; trial < trials; trial++ {
				m := edgeSizes[rng.IntN(len(edgeSizes))]
				n := edgeSizes[rng.IntN(len(edgeSizes))]
				k := edgeSizes[rng.IntN(len(edgeSizes))]
				if inUse && trial%6 == 5 {
					m, n, k = 33+rng.IntN(100), 17+rng.IntN(150), 1+rng.IntN(300) // odd and larger
				}
				for _, tt := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
					for _, beta := range []float32{0, 1, 0.5} {
						runCase(t, rng, kn, bl, trial%2 == 0, tt[0], tt[1], m, n, k, beta)
					}
				}
			}
		}
	}
}

// runCase multiplies random matrices with padded strides and checks the result.
func runCase(t *testing.T, rng *rand.Rand, kn *kernel, bl Blocking, par, ta, tb bool, m, n, k int, beta float32) {
	t.Helper()
	ar, ac := m, k
	if ta {
		ar, ac = k, m
	}
	br, bc := k, n
	if tb {
		br, bc = n, k
	}
	lda, ldb, ldc := ac+rng.IntN(3), bc+rng.IntN(3), n+rng.IntN(3)
	a := randMatrix(rng, ar, ac, max(lda, 1))
	b := randMatrix(rng, br, bc, max(ldb, 1))
	c0 := randMatrix(rng, m, n, max(ldc, 1))
	if beta == 0 && m > 0 && n > 0 {
		c0[0] = float32(math.NaN()) // β = 0 must not read C
	}
	got := append([]float32(nil), c0...)
	name := fmt.Sprintf("%s %+v par=%v ta=%v tb=%v m=%d n=%d k=%d beta=%g", kernelName(kn), bl, par, ta, tb, m, n, k, beta)
	withKernel(kn, func() {
		SgemmBlocked(bl, par, ta, tb, m, n, k, a, max(lda, 1), b, max(ldb, 1), beta, got, max(ldc, 1))
	})
	checkProduct(t, name, ta, tb, m, n, k, a, max(lda, 1), b, max(ldb, 1), beta, c0, got, max(ldc, 1))
}

func TestSgemmZeroSizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, kn := range append(allKernels(), nil) {
		for _, s := range [][3]int{{0, 5, 3}, {5, 0, 3}, {4, 5, 0}, {0, 0, 0}, {1, 1, 1}} {
			for _, beta := range []float32{0, 1, 0.5} {
				runCase(t, rng, kn, DefaultBlocking, true, false, false, s[0], s[1], s[2], beta)
				runCase(t, rng, kn, DefaultBlocking, true, true, true, s[0], s[1], s[2], beta)
			}
		}
	}
}

// TestSgemmAutoencoderShapes runs the products of one autoencoder training step, in
// parallel, so that the split over workers is checked on the sizes that use it.
func TestSgemmAutoencoderShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	// Beyond the model's shapes: a tall thin product is split by rows, not panels.
	shapes := append([]gemmShape{{"tall", false, false, 600, 20, 150}, {"tall tt", true, true, 601, 9, 151}}, aeShapes...)
	for _, s := range shapes {
		for _, beta := range []float32{0, 1} {
			runCase(t, rng, active, DefaultBlocking, true, s.ta, s.tb, s.m, s.n, s.k, beta)
		}
	}
}

func TestSgemmPanicsOnBadArguments(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"negative m", func() { Sgemm(false, false, -1, 1, 1, nil, 1, nil, 1, 0, nil, 1) }},
		{"short a", func() {
			Sgemm(false, false, 2, 2, 2, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		}},
		{"small ldc", func() {
			Sgemm(false, false, 2, 2, 2, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 4), 1)
		}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			tc.f()
		}()
	}
}
