package gemm

import (
	"time"

	"github.com/dlc-lang/dlc/runtime/parallel"
)

// FMAPeak measures the FMA units' throughput: a loop of independent AVX-512 FMAs on
// registers, no loads, run for about d on one goroutine (par false) or on every worker of
// the pool. It returns GFLOP/s, 0 on a CPU without AVX-512. It is the ceiling; Peak is what
// the GEMM's own inner loop reaches.
func FMAPeak(d time.Duration, par bool) float64 {
	if fmaLoop == nil {
		return 0
	}
	return measure(d, par, func() float64 { return fmaLoop(1 << 16) })
}

// measure runs one on each of 1 or all the pool's workers until d has passed, and returns
// the FLOPs it reports per second, in G.
func measure(d time.Duration, par bool, one func() float64) float64 {
	workers := 1
	if par {
		workers = parallel.Workers()
	}
	flops := make([]float64, workers)
	start := time.Now()
	parallel.For(workers, 1, func(lo, hi int) {
		for w := lo; w < hi; w++ {
			for t0 := time.Now(); time.Since(t0) < d; {
				flops[w] += one()
			}
		}
	})
	secs := time.Since(start).Seconds()
	total := 0.0
	for _, f := range flops {
		total += f
	}
	return total / secs / 1e9
}

// Peak measures the machine's multiply-add throughput the way the GEMM sees it: the active
// micro-kernel run again and again on one A tile and one packed B panel that sit in L1, so
// that nothing but its FMAs and the loads feeding them bound it. On an AVX-512 core that
// does two 16-lane FMAs a cycle this is close to 64 FLOPs per cycle. It runs for about d
// on one goroutine (par false) or on every worker of the pool, and returns GFLOP/s; 0 when
// there is no micro-kernel (gonum or OpenBLAS does the products).
func Peak(d time.Duration, par bool) float64 {
	kn := active
	if kn == nil || external != nil {
		return 0
	}
	const k = 256
	a := make([]float32, kn.mr*k)
	b := make([]float32, kn.nr*k)
	for i := range a {
		a[i] = 1e-3
	}
	for i := range b {
		b[i] = 1e-3
	}
	return measure(d, par, func() float64 {
		// Each goroutine writes a tile of its own; A and B are only read.
		var c [maxTile]float32
		for n := 0; n < 256; n++ {
			kn.cols(k, &a[0], kn.mr, &b[0], &c[0], kn.nr, false)
		}
		return 256 * 2 * float64(kn.mr*kn.nr*k)
	})
}
