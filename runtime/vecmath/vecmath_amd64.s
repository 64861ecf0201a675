#include "textflag.h"

// AVX2+FMA kernels, eight float32 lanes per step. The algorithms and constants are those of
// scalar.go; read that file first. Go assembly writes operands in the reverse of Intel's
// order: "VFMADD213PS c, b, a" is a = b·a + c, and "VBLENDVPS mask, y, x, dst" is
// dst = mask ? y : x. MAXPS and MINPS return their Intel second operand (Go's first) when
// either input is NaN, so the clamps below put x there to let NaN through.

#define CONST8(name, bits) \
	DATA name<>+0(SB)/4, bits; DATA name<>+4(SB)/4, bits; DATA name<>+8(SB)/4, bits; DATA name<>+12(SB)/4, bits; \
	DATA name<>+16(SB)/4, bits; DATA name<>+20(SB)/4, bits; DATA name<>+24(SB)/4, bits; DATA name<>+28(SB)/4, bits; \
	GLOBL name<>(SB), RODATA|NOPTR, $32

CONST8(one, $0x3f800000)
CONST8(half, $0x3f000000)
CONST8(two, $0x40000000)
CONST8(log2e, $0x3fb8aa3b)
CONST8(ln2hi, $0x3f318000)
CONST8(ln2lo, $0xb95e8083)
CONST8(expLo, $0xc2d00000)   // -104
CONST8(expHi, $0x42b20000)   // 89
CONST8(expP0, $0x3efffffc)
CONST8(expP1, $0x3e2aaa47)
CONST8(expP2, $0x3d2aadac)
CONST8(expP3, $0x3c091dc7)
CONST8(expP4, $0x3ab43e11)
CONST8(sqrt2, $0x3fb504f3)
CONST8(minNorm, $0x00800000) // 2^-126
CONST8(two23, $0x4b000000)   // 2^23
CONST8(logQ0, $0x3eaaaab2)
CONST8(logQ1, $0xbe80011e)
CONST8(logQ2, $0x3e4ccc58)
CONST8(logQ3, $0xbe2a33ed)
CONST8(logQ4, $0x3e11af87)
CONST8(logQ5, $0xbe073086)
CONST8(logQ6, $0x3e013b6e)
CONST8(logQ7, $0xbd96caa2)
CONST8(tanhSmall, $0x3f0c9f54)
CONST8(tanhT0, $0xbeaaaaa5)
CONST8(tanhT1, $0x3e088694)
CONST8(tanhT2, $0xbd5c9499)
CONST8(tanhT3, $0x3caca2cf)
CONST8(tanhT4, $0xbbcdb64a)
CONST8(posInf, $0x7f800000)
CONST8(negInf, $0xff800000)
CONST8(nan, $0x7fc00000)
CONST8(minus100, $0xc2c80000)
CONST8(bias127, $0x0000007f)
CONST8(int23, $0x00000017)
CONST8(mantMask, $0x007fffff)
CONST8(absMask, $0x7fffffff)
CONST8(signMask, $0x80000000)
CONST8(zero, $0x00000000)

// EXP8 sets X = e^X, using N, R, P, T. As exp1: x1 = x − n·ln2Hi (exact), r = x1 − n·ln2Lo
// rounded, rl = (x1 − r) − n·ln2Lo its error, s = r²·P(r) + rl, h + e = 1 + r exactly, and
// p = h + (e + s).
#define EXP8(X, N, R, P, T) \
	VMOVUPS expLo<>(SB), T; \
	VMAXPS X, T, X; \
	VMOVUPS expHi<>(SB), T; \
	VMINPS X, T, X; \
	VMULPS log2e<>(SB), X, N; \
	VROUNDPS $0, N, N; \
	VFNMADD231PS ln2hi<>(SB), N, X; \
	VMOVAPS X, R; \
	VFNMADD231PS ln2lo<>(SB), N, R; \
	VSUBPS R, X, X; \
	VFNMADD231PS ln2lo<>(SB), N, X; \
	VMOVUPS expP4<>(SB), P; \
	VFMADD213PS expP3<>(SB), R, P; \
	VFMADD213PS expP2<>(SB), R, P; \
	VFMADD213PS expP1<>(SB), R, P; \
	VFMADD213PS expP0<>(SB), R, P; \
	VMULPS R, R, T; \
	VFMADD213PS X, T, P; \
	VADDPS one<>(SB), R, T; \
	VMOVUPS one<>(SB), X; \
	VSUBPS T, X, X; \
	VADDPS R, X, X; \
	VADDPS X, P, P; \
	VADDPS T, P, P; \
	VCVTPS2DQ N, N; \
	VPSRAD $1, N, T; \
	VPSUBD T, N, N; \
	VPADDD bias127<>(SB), T, T; \
	VPSLLD $23, T, T; \
	VPADDD bias127<>(SB), N, N; \
	VPSLLD $23, N, N; \
	VMULPS T, P, P; \
	VMULPS N, P, X

// LOGCORE8 sets U = log X for finite X > 0 (subnormals included), leaving X alone and
// using S, M, E, F.
#define LOGCORE8(X, U, S, M, E, F) \
	VCMPPS $1, minNorm<>(SB), X, S; \
	VMULPS two23<>(SB), X, M; \
	VBLENDVPS S, M, X, M; \
	VPSRLD $23, M, E; \
	VPSUBD bias127<>(SB), E, E; \
	VPAND int23<>(SB), S, S; \
	VPSUBD S, E, E; \
	VPAND mantMask<>(SB), M, M; \
	VPOR one<>(SB), M, M; \
	VCMPPS $0x1e, sqrt2<>(SB), M, S; \
	VMULPS half<>(SB), M, F; \
	VBLENDVPS S, F, M, M; \
	VPSUBD S, E, E; \
	VCVTDQ2PS E, E; \
	VSUBPS one<>(SB), M, F; \
	VMOVUPS logQ7<>(SB), U; \
	VFMADD213PS logQ6<>(SB), F, U; \
	VFMADD213PS logQ5<>(SB), F, U; \
	VFMADD213PS logQ4<>(SB), F, U; \
	VFMADD213PS logQ3<>(SB), F, U; \
	VFMADD213PS logQ2<>(SB), F, U; \
	VFMADD213PS logQ1<>(SB), F, U; \
	VFMADD213PS logQ0<>(SB), F, U; \
	VMULPS F, F, S; \
	VMULPS F, S, M; \
	VMULPS M, U, U; \
	VFNMADD231PS half<>(SB), S, U; \
	VFMADD231PS ln2lo<>(SB), E, U; \
	VADDPS F, U, U; \
	VFMADD231PS ln2hi<>(SB), E, U

// LOGFIX8 patches U = log X for the inputs LOGCORE8 does not take: +Inf and NaN give X,
// ±0 gives −Inf, negatives give NaN. Uses S.
#define LOGFIX8(X, U, S) \
	VCMPPS $5, posInf<>(SB), X, S; \
	VBLENDVPS S, X, U, U; \
	VCMPPS $0, zero<>(SB), X, S; \
	VBLENDVPS S, negInf<>(SB), U, U; \
	VCMPPS $1, zero<>(SB), X, S; \
	VBLENDVPS S, nan<>(SB), U, U

// LOG1PCORE8 sets U = log1p X for 1 + X finite and > 0, using W (which ends holding 1 + X),
// C, S, M, E, F.
#define LOG1PCORE8(X, U, W, C, S, M, E, F) \
	VADDPS one<>(SB), X, W; \
	VSUBPS one<>(SB), W, C; \
	VSUBPS C, X, C; \
	VDIVPS W, C, C; \
	LOGCORE8(W, U, S, M, E, F); \
	VADDPS C, U, U

// The loop around a unary kernel: load Y0 from x, BODY leaves the result in RES, store.
// The four arithmetic operations, dst = a op b: one IEEE operation per lane, so each result
// is the scalar Go operation's to the bit.

#define ARITH_LOOP(OP, name) \
	MOVQ dst+0(FP), DI; \
	MOVQ a+8(FP), SI; \
	MOVQ b+16(FP), DX; \
	MOVQ n+24(FP), CX; \
name:; \
	VMOVUPS (SI), Y0; \
	OP (DX), Y0, Y0; \
	VMOVUPS Y0, (DI); \
	ADDQ $32, SI; \
	ADDQ $32, DX; \
	ADDQ $32, DI; \
	SUBQ $8, CX; \
	JNZ name; \
	VZEROUPPER; \
	RET

#define UNARY_LOOP(BODY, RES) \
	MOVQ dst+0(FP), DI; \
	MOVQ x+8(FP), SI; \
	MOVQ n+16(FP), CX; \
loop:; \
	VMOVUPS (SI), Y0; \
	BODY; \
	VMOVUPS RES, (DI); \
	ADDQ $32, SI; \
	ADDQ $32, DI; \
	SUBQ $8, CX; \
	JNZ loop; \
	VZEROUPPER; \
	RET

#define EXP_BODY EXP8(Y0, Y1, Y2, Y3, Y4)

// func expAVX2(dst, x *float32, n int)
TEXT ·expAVX2(SB), NOSPLIT, $0-24
	UNARY_LOOP(EXP_BODY, Y0)

#define LOG_BODY LOGCORE8(Y0, Y1, Y2, Y3, Y4, Y5); \
	LOGFIX8(Y0, Y1, Y2)

// func logAVX2(dst, x *float32, n int)
TEXT ·logAVX2(SB), NOSPLIT, $0-24
	UNARY_LOOP(LOG_BODY, Y1)

// log1p: besides LOGFIX8's cases (on 1 + x), 1 + x == 1 gives x (±0 included), x == −1 gives
// −Inf, and +Inf stays +Inf though the correction term is NaN there.
#define LOG1P_BODY LOG1PCORE8(Y0, Y1, Y6, Y7, Y2, Y3, Y4, Y5); \
	LOGFIX8(Y6, Y1, Y2); \
	VCMPPS $0, one<>(SB), Y6, Y2; \
	VBLENDVPS Y2, Y0, Y1, Y1; \
	VCMPPS $5, posInf<>(SB), Y0, Y2; \
	VBLENDVPS Y2, Y0, Y1, Y1

// func log1pAVX2(dst, x *float32, n int)
TEXT ·log1pAVX2(SB), NOSPLIT, $0-24
	UNARY_LOOP(LOG1P_BODY, Y1)

// sigmoid: e = exp(−|x|), then (x < 0 ? e : 1) / (1 + e).
#define SIGMOID_BODY VPOR signMask<>(SB), Y0, Y5; \
	EXP8(Y5, Y1, Y2, Y3, Y4); \
	VADDPS one<>(SB), Y5, Y6; \
	VCMPPS $1, zero<>(SB), Y0, Y7; \
	VMOVUPS one<>(SB), Y1; \
	VBLENDVPS Y7, Y5, Y1, Y1; \
	VDIVPS Y6, Y1, Y1

// func sigmoidAVX2(dst, x *float32, n int)
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-24
	UNARY_LOOP(SIGMOID_BODY, Y1)

// tanh: a = |x|; a < atanh ½ ? a + a·s·T(s) with s = a² : 1 − 2/(e^{2a} + 1); then x's sign.
#define TANH_BODY VPAND absMask<>(SB), Y0, Y5; \
	VMULPS Y5, Y5, Y6; \
	VMOVUPS tanhT4<>(SB), Y7; \
	VFMADD213PS tanhT3<>(SB), Y6, Y7; \
	VFMADD213PS tanhT2<>(SB), Y6, Y7; \
	VFMADD213PS tanhT1<>(SB), Y6, Y7; \
	VFMADD213PS tanhT0<>(SB), Y6, Y7; \
	VMULPS Y5, Y6, Y6; \
	VFMADD213PS Y5, Y6, Y7; \
	VADDPS Y5, Y5, Y8; \
	EXP8(Y8, Y1, Y2, Y3, Y4); \
	VADDPS one<>(SB), Y8, Y8; \
	VMOVUPS two<>(SB), Y1; \
	VDIVPS Y8, Y1, Y1; \
	VMOVUPS one<>(SB), Y2; \
	VSUBPS Y1, Y2, Y1; \
	VCMPPS $1, tanhSmall<>(SB), Y5, Y2; \
	VBLENDVPS Y2, Y7, Y1, Y1; \
	VPAND signMask<>(SB), Y0, Y2; \
	VPOR Y2, Y1, Y1

// func tanhAVX2(dst, x *float32, n int)
TEXT ·tanhAVX2(SB), NOSPLIT, $0-24
	UNARY_LOOP(TANH_BODY, Y1)

// func bceLogitsAVX2(dst, z, t *float32, n int)
//
// max(z, 0) − z·t in one fused multiply-add (so rounded once), plus log1p(e^−|z|), whose
// argument lies in [0, 1] and needs none of log1p's special cases.
TEXT ·bceLogitsAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ z+8(FP), SI
	MOVQ t+16(FP), DX
	MOVQ n+24(FP), CX
	VXORPS Y15, Y15, Y15

bceLogitsLoop:
	VMOVUPS (SI), Y0
	VPOR signMask<>(SB), Y0, Y8
	EXP8(Y8, Y1, Y2, Y3, Y4)
	LOG1PCORE8(Y8, Y9, Y6, Y7, Y1, Y2, Y3, Y4)
	VMAXPS Y0, Y15, Y10
	VFNMADD231PS (DX), Y0, Y10
	VADDPS Y9, Y10, Y10
	VMOVUPS Y10, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ bceLogitsLoop
	VZEROUPPER
	RET

// func bceAVX2(dst, p, t *float32, n int)
//
// −(t·lp + (1−t)·lq) with lp = max(log p, −100) and lq = max(log1p(−p), −100); the clamps
// keep NaN.
TEXT ·bceAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ p+8(FP), SI
	MOVQ t+16(FP), DX
	MOVQ n+24(FP), CX
	VMOVUPS minus100<>(SB), Y15

bceLoop:
	VMOVUPS (SI), Y0
	LOGCORE8(Y0, Y10, Y2, Y3, Y4, Y5)
	LOGFIX8(Y0, Y10, Y2)
	VMAXPS Y10, Y15, Y10
	VXORPS signMask<>(SB), Y0, Y11
	LOG1PCORE8(Y11, Y1, Y6, Y7, Y2, Y3, Y4, Y5)
	LOGFIX8(Y6, Y1, Y2)
	VCMPPS $0, one<>(SB), Y6, Y2
	VBLENDVPS Y2, Y11, Y1, Y1
	VMAXPS Y1, Y15, Y1
	VMOVUPS (DX), Y12
	VMOVUPS one<>(SB), Y13
	VSUBPS Y12, Y13, Y13
	VMULPS Y13, Y1, Y1
	VFMADD231PS Y12, Y10, Y1
	VXORPS signMask<>(SB), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ bceLoop
	VZEROUPPER
	RET

// func adamAVX2(param, grad, m, v *float32, n int, s *AdamScalars)
//
// AdamUpdate's loop, with the eight scalars held in Y8–Y15 throughout.
TEXT ·adamAVX2(SB), NOSPLIT, $0-48
	MOVQ param+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ v+24(FP), BX
	MOVQ n+32(FP), CX
	MOVQ s+40(FP), AX
	VBROADCASTSS 0(AX), Y8   // Decay
	VBROADCASTSS 4(AX), Y9   // WeightDecay
	VBROADCASTSS 8(AX), Y10  // 1 − β1
	VBROADCASTSS 12(AX), Y11 // β2
	VBROADCASTSS 16(AX), Y12 // 1 − β2
	VBROADCASTSS 20(AX), Y13 // √(1 − β2^t)
	VBROADCASTSS 24(AX), Y14 // eps
	VBROADCASTSS 28(AX), Y15 // step size

adamLoop:
	VMULPS (DI), Y8, Y0
	VMOVUPS (SI), Y1
	VFMADD231PS Y9, Y0, Y1
	VMOVUPS (DX), Y2
	VSUBPS Y2, Y1, Y3
	VFMADD231PS Y10, Y3, Y2
	VMOVUPS Y2, (DX)
	VMULPS Y1, Y12, Y4
	VMULPS Y1, Y4, Y4
	VFMADD231PS (BX), Y11, Y4
	VMOVUPS Y4, (BX)
	VSQRTPS Y4, Y5
	VDIVPS Y13, Y5, Y5
	VADDPS Y14, Y5, Y5
	VDIVPS Y5, Y2, Y6
	VFNMADD231PS Y15, Y6, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, BX
	SUBQ $8, CX
	JNZ adamLoop
	VZEROUPPER
	RET

// func sgdAVX2(param, grad *float32, n int, s *SGDScalars)
//
// p = p − lr·(g + wd·p).
TEXT ·sgdAVX2(SB), NOSPLIT, $0-32
	MOVQ param+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ s+24(FP), AX
	VBROADCASTSS 0(AX), Y8  // lr
	VBROADCASTSS 12(AX), Y9 // weight decay

sgdLoop:
	VMOVUPS (DI), Y0
	VMOVUPS (SI), Y1
	VFMADD231PS Y9, Y0, Y1
	VFNMADD231PS Y8, Y1, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ sgdLoop
	VZEROUPPER
	RET

// func sgdMomentumAVX2(param, grad, buf *float32, n int, s *SGDScalars, nesterov bool)
//
// d = g + wd·p; b = mom·b + damp·d; p = p − lr·(d + mom·b) with Nesterov, else p − lr·b.
TEXT ·sgdMomentumAVX2(SB), NOSPLIT, $0-41
	MOVQ param+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ buf+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ s+32(FP), AX
	MOVBLZX nesterov+40(FP), BX
	VBROADCASTSS 0(AX), Y8   // lr
	VBROADCASTSS 4(AX), Y9   // momentum
	VBROADCASTSS 8(AX), Y10  // 1 − dampening
	VBROADCASTSS 12(AX), Y11 // weight decay
	TESTQ BX, BX
	JNZ nesterovLoop

momentumLoop:
	VMOVUPS (DI), Y0
	VMOVUPS (SI), Y1
	VFMADD231PS Y11, Y0, Y1
	VMULPS Y10, Y1, Y2
	VFMADD231PS (DX), Y9, Y2
	VMOVUPS Y2, (DX)
	VFNMADD231PS Y8, Y2, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	SUBQ $8, CX
	JNZ momentumLoop
	VZEROUPPER
	RET

nesterovLoop:
	VMOVUPS (DI), Y0
	VMOVUPS (SI), Y1
	VFMADD231PS Y11, Y0, Y1
	VMULPS Y10, Y1, Y2
	VFMADD231PS (DX), Y9, Y2
	VMOVUPS Y2, (DX)
	VFMADD231PS Y9, Y2, Y1
	VFNMADD231PS Y8, Y1, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	SUBQ $8, CX
	JNZ nesterovLoop
	VZEROUPPER
	RET

// The piecewise-linear activations: mask = y > 0 (false for NaN), then select.

#define RELU_BODY VCMPPS $0x1e, zero<>(SB), Y0, Y1; \
	VANDPS Y0, Y1, Y1

// func reluAVX2(dst, x *float32, n int)
TEXT ·reluAVX2(SB), NOSPLIT, $0-24
	UNARY_LOOP(RELU_BODY, Y1)

// func reluGradAVX2(dst, dy, y *float32, n int)
TEXT ·reluGradAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	VXORPS Y15, Y15, Y15

reluGradLoop:
	VMOVUPS (DX), Y2
	VCMPPS $0x1e, Y15, Y2, Y1
	VANDPS (SI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ reluGradLoop
	VZEROUPPER
	RET

// func leakyAVX2(dst, x, y *float32, n int, alpha float32)
//
// dst = y > 0 ? x : alpha·x; leaky_relu passes y = x, its gradient x = dy.
TEXT ·leakyAVX2(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS alpha+32(FP), Y14
	VXORPS Y15, Y15, Y15

leakyLoop:
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y2
	VCMPPS $0x1e, Y15, Y2, Y1
	VMULPS Y14, Y0, Y3
	VBLENDVPS Y1, Y0, Y3, Y3
	VMOVUPS Y3, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ leakyLoop
	VZEROUPPER
	RET

// func addAVX2(dst, a, b *float32, n int)
TEXT ·addAVX2(SB), NOSPLIT, $0-32
	ARITH_LOOP(VADDPS, addLoop)

// func subAVX2(dst, a, b *float32, n int)
TEXT ·subAVX2(SB), NOSPLIT, $0-32
	ARITH_LOOP(VSUBPS, subLoop)

// func mulAVX2(dst, a, b *float32, n int)
TEXT ·mulAVX2(SB), NOSPLIT, $0-32
	ARITH_LOOP(VMULPS, mulLoop)

// func divAVX2(dst, a, b *float32, n int)
TEXT ·divAVX2(SB), NOSPLIT, $0-32
	ARITH_LOOP(VDIVPS, divLoop)
