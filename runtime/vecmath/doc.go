// Package vecmath is float32 math over slices: the transcendentals the elementwise kernels
// need (exp, log, log1p, sigmoid, tanh), the two binary cross-entropy losses, the
// piecewise-linear activations and their gradients, and the optimiser updates (Adam, AdamW,
// SGD), all computed in float32 rather than through float64 math per element.
//
// Each function follows one algorithm (for the transcendentals, a range reduction and a short
// polynomial fitted by fit_coeffs.go) written twice: in AVX2+FMA assembly, eight lanes at a
// time, chosen at start-up from golang.org/x/sys/cpu when the CPU has both, and as scalar Go
// everywhere else. Both meet the same error bounds. There is no AVX-512 kernel: at 128×784
// elements these loops take under 2 ns per element and run from L1/L2, and on the Zen 4
// machine this was written on 512-bit operations issue as two 256-bit halves, so a wider
// kernel was not expected to pay for a third code path (not measured).
//
// # Accuracy
//
// Maximum error in ulps of the exact result (float64 math on the float32 input), measured on
// the AVX2 path by TestULPBounds with -vecmath.full over every float32 of the range (for the
// losses, every z or p with a random t ∈ [0, 1] each). The default test run checks a sample
// of 10^7 inputs per function against the bounds in the last column, and the scalar path
// against the same bounds on 2·10^6 (where its worst errors were within 0.1 ulp of the
// vector path's). Results beyond the float32 range count as the infinity they round to.
//
//	function    range                        max error   bound tested
//	exp         [−104, 89]                   0.771 ulp   1
//	log         (0, MaxFloat32]              0.871 ulp   1
//	log1p       (−1, MaxFloat32]             1.437 ulp   2
//	sigmoid     every finite float32         2.402 ulp   2.5
//	tanh        every finite float32         1.480 ulp   2
//	bce_logits  z ∈ [−100, 100], t ∈ [0, 1]  2.302 ulp   2.5
//	bce         p ∈ [0, 1], t ∈ [0, 1]       2.185 ulp   2.5
//
// (1 ulp is the spacing of float32 values at the result; correctly rounded is 0.5.)
//
// The edges are those of package math: exp overflows to +Inf above 88.72283 and underflows
// through the subnormals to 0 below −103.97; log is −Inf at ±0 and NaN below 0; log1p is −Inf
// at −1 and NaN below; NaN gives NaN and ±Inf the limits. For bce_logits and bce, t outside
// [0, 1] lets the terms cancel, and then no ulp bound holds.
package vecmath
