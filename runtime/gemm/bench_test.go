package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// gemmShape is one product C[m,n] = op(A)·op(B) with inner dimension k.
type gemmShape struct {
	name    string
	ta, tb  bool
	m, n, k int
}

// aeShapes are the products of one training step of examples/autoencoder/ae.dl
// (784-256-64-256-784, batch 128), forward x·W, backward dW = xᵀ·dy and dx = dy·Wᵀ.
var aeShapes = []gemmShape{
	{"ae fwd 128x784x256", false, false, 128, 256, 784},
	{"ae fwd 128x256x64", false, false, 128, 64, 256},
	{"ae fwd 128x64x256", false, false, 128, 256, 64},
	{"ae fwd 128x256x784", false, false, 128, 784, 256},
	{"ae dW AtB 784x128x256", true, false, 784, 256, 128},
	{"ae dW AtB 256x128x64", true, false, 256, 64, 128},
	{"ae dW AtB 64x128x256", true, false, 64, 256, 128},
	{"ae dW AtB 256x128x784", true, false, 256, 784, 128},
	{"ae dx ABt 128x784x256", false, true, 128, 256, 784},
	{"ae dx ABt 128x256x64", false, true, 128, 64, 256},
	{"ae dx ABt 128x64x256", false, true, 128, 256, 64},
	{"ae dx ABt 128x256x784", false, true, 128, 784, 256},
}

// classifierShapes are those of examples/classifier/mlp.dl (784-256-128-10, batch 128).
var classifierShapes = []gemmShape{
	{"mlp fwd 128x784x256", false, false, 128, 256, 784},
	{"mlp fwd 128x256x128", false, false, 128, 128, 256},
	{"mlp fwd 128x128x10", false, false, 128, 10, 128},
	{"mlp dW AtB 784x128x256", true, false, 784, 256, 128},
	{"mlp dW AtB 256x128x128", true, false, 256, 128, 128},
	{"mlp dW AtB 128x128x10", true, false, 128, 10, 128},
	{"mlp dx ABt 128x256x128", false, true, 128, 128, 256},
	{"mlp dx ABt 128x128x10", false, true, 128, 10, 128},
}

func benchShape(b *testing.B, s gemmShape, bl Blocking, par bool) {
	rng := rand.New(rand.NewPCG(7, 8))
	ar, ac := s.m, s.k
	if s.ta {
		ar, ac = s.k, s.m
	}
	br, bc := s.k, s.n
	if s.tb {
		br, bc = s.n, s.k
	}
	a := randMatrix(rng, ar, ac, ac)
	bm := randMatrix(rng, br, bc, bc)
	c := make([]float32, s.m*s.n)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		SgemmBlocked(bl, par, s.ta, s.tb, s.m, s.n, s.k, a, ac, bm, bc, 0, c, s.n)
	}
	b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm reports GFLOP/s per model shape with the kernel chosen for this CPU,
// on one thread (1t) and split over the pool (par); -kernel-style variants are in
// BenchmarkKernels.
func BenchmarkSgemm(b *testing.B) {
	for _, s := range append(append([]gemmShape(nil), aeShapes...), classifierShapes...) {
		for _, par := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/%s", s.name, threads(par)), func(b *testing.B) {
				// The assembly kernel even with -tags openblas (BenchmarkOpenBLAS has that).
				withKernel(active, func() { benchShape(b, s, DefaultBlocking, par) })
			})
		}
	}
}

func threads(par bool) string {
	if par {
		return "par"
	}
	return "1t"
}

// BenchmarkKernels compares every tile this CPU runs, and gonum, on the AE shapes, one
// thread.
func BenchmarkKernels(b *testing.B) {
	for _, kn := range append(allKernels(), nil) {
		for _, s := range aeShapes {
			b.Run(fmt.Sprintf("%s/%s", kernelName(kn), s.name), func(b *testing.B) {
				withKernel(kn, func() { benchShape(b, s, DefaultBlocking, false) })
			})
		}
	}
}

// BenchmarkOpenBLAS measures OpenBLAS on the AE shapes (with -tags openblas; set
// OPENBLAS_NUM_THREADS=1 for one thread).
func BenchmarkOpenBLAS(b *testing.B) {
	if external == nil {
		b.Skip("built without -tags openblas")
	}
	for _, s := range append(append([]gemmShape(nil), aeShapes...), classifierShapes...) {
		b.Run(s.name, func(b *testing.B) { benchShape(b, s, DefaultBlocking, false) })
	}
}

// BenchmarkBlocking measures block sizes on the AE shapes, one thread.
func BenchmarkBlocking(b *testing.B) {
	saved := external
	external = nil
	defer func() { external = saved }()
	for _, kc := range []int{128, 192, 256, 384} {
		for _, mc := range []int{128, 256, 512} {
			bl := Blocking{KC: kc, MC: mc, NC: DefaultBlocking.NC}
			for _, s := range aeShapes {
				b.Run(fmt.Sprintf("kc%d/mc%d/%s", kc, mc, s.name), func(b *testing.B) { benchShape(b, s, bl, false) })
			}
		}
	}
}

// BenchmarkPeak reports the micro-kernel's throughput in L1 (Peak), one core and all.
func BenchmarkPeak(b *testing.B) {
	for _, par := range []bool{false, true} {
		name := "1t"
		if par {
			name = "par"
		}
		b.Run(name, func(b *testing.B) {
			var g float64
			for i := 0; i < b.N; i++ {
				g = Peak(200*time.Millisecond, par)
			}
			b.ReportMetric(g, "GFLOP/s")
		})
	}
}

// BenchmarkFMAPeak reports the FMA units' throughput on registers (FMAPeak).
func BenchmarkFMAPeak(b *testing.B) {
	for _, par := range []bool{false, true} {
		name := "1t"
		if par {
			name = "par"
		}
		b.Run(name, func(b *testing.B) {
			var g float64
			for i := 0; i < b.N; i++ {
				g = FMAPeak(200*time.Millisecond, par)
			}
			b.ReportMetric(g, "GFLOP/s")
		})
	}
}
