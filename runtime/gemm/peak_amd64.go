package gemm

import "golang.org/x/sys/cpu"

// fmaLoop512 runs n iterations of 12 independent 16-lane FMAs on registers (384 FLOPs).
//
//go:noescape
func fmaLoop512(n int)

// fmaLoop is the register-only FMA loop of this CPU, nil when it has no AVX-512.
var fmaLoop = func() func(n int) (flops float64) {
	if !cpu.X86.HasAVX512F {
		return nil
	}
	return func(n int) float64 { fmaLoop512(n); return 384 * float64(n) }
}()
