//go:build openblas

package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestOpenBLAS checks the -tags openblas path (every product handed to OpenBLAS) with the
// same reference and tolerance as the assembly kernels.
func TestOpenBLAS(t *testing.T) {
	if Kernel() != "openblas" {
		t.Fatalf("Kernel() = %q with -tags openblas, want openblas", Kernel())
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for _, s := range append([]gemmShape{{"edge", true, true, 17, 33, 15}}, aeShapes...) {
		ar, ac, br, bc := s.m, s.k, s.k, s.n
		if s.ta {
			ar, ac = ac, ar
		}
		if s.tb {
			br, bc = bc, br
		}
		for _, beta := range []float32{0, 1} {
			a, b := randMatrix(rng, ar, ac, ac), randMatrix(rng, br, bc, bc)
			c0 := randMatrix(rng, s.m, s.n, s.n)
			got := append([]float32(nil), c0...)
			Sgemm(s.ta, s.tb, s.m, s.n, s.k, a, ac, b, bc, beta, got, s.n)
			checkProduct(t, fmt.Sprintf("openblas %s beta=%g", s.name, beta), s.ta, s.tb, s.m, s.n, s.k, a, ac, b, bc, beta, c0, got, s.n)
		}
	}
}
