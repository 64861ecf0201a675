#include "textflag.h"

// AVX2 row loops of the graph kernels (kernels_graph.go), eight float32 lanes per step.
// The rows they read are scattered over a large array in an order set by an index, so
// each loop prefetches the row AHEAD entries on: without it every row is a cache miss the
// core waits for, and the scalar loop's many instructions per row leave the out-of-order
// window too small to overlap the next one. Go assembly writes operands in the reverse of
// Intel's order: "VCMPPS $c, b, a, dst" is dst = a c b, and "VBLENDVPS mask, y, x, dst" is
// dst = mask ? y : x.

#define AHEAD 16

// func segmentsAVX2(op int, out, x *float32, perm, start *int32, s0, s1, entries, f8, f int)
//
// For each segment s in [s0, s1), the first f8 floats of out row s get the reduction of
// rows perm[start[s]:start[s+1]] of x, 0 when there are none: op 0 sums, 3 takes the mean,
// 1 keeps the larger value and 2 the smaller, the first of equal ones, and a NaN once one
// comes. Rows of x and out are f floats apart; perm holds entries entries, any of which may
// be read to prefetch.
TEXT ·segmentsAVX2(SB), NOSPLIT, $0-80
	MOVQ op+0(FP), AX
	MOVQ out+8(FP), DI
	MOVQ x+16(FP), SI
	MOVQ perm+24(FP), BX
	MOVQ start+32(FP), R13
	MOVQ s0+40(FP), R14
	MOVQ f8+64(FP), DX
	SHLQ $2, DX                 // bytes reduced per row
	MOVQ f+72(FP), R8
	SHLQ $2, R8                 // row stride in bytes

sseg:
	CMPQ R14, s1+48(FP)
	JGE sdone
	MOVQ R14, CX
	IMULQ R8, CX
	ADDQ DI, CX                 // the out row
	MOVLQSX (R13)(R14*4), R9    // k = start[s]
	MOVLQSX 4(R13)(R14*4), R10  // start[s+1]
	CMPQ R9, R10
	JLT sfirst
	VXORPS Y0, Y0, Y0
	XORQ R12, R12

szero:
	VMOVUPS Y0, (CX)(R12*1)
	ADDQ $32, R12
	CMPQ R12, DX
	JLT szero
	JMP snext

sfirst:
	MOVLQSX (BX)(R9*4), R11
	IMULQ R8, R11
	ADDQ SI, R11
	XORQ R12, R12

scopy:
	VMOVUPS (R11)(R12*1), Y0
	VMOVUPS Y0, (CX)(R12*1)
	ADDQ $32, R12
	CMPQ R12, DX
	JLT scopy
	INCQ R9

sentry:
	CMPQ R9, R10
	JGE sfinish
	LEAQ AHEAD(R9), R11
	CMPQ R11, entries+56(FP)
	JGE sload
	MOVLQSX (BX)(R11*4), R11
	IMULQ R8, R11
	ADDQ SI, R11
	XORQ R12, R12

sprefetch:
	PREFETCHT0 (R11)(R12*1)
	ADDQ $64, R12
	CMPQ R12, DX
	JLT sprefetch

sload:
	MOVLQSX (BX)(R9*4), R11
	IMULQ R8, R11
	ADDQ SI, R11                // the row
	XORQ R12, R12
	CMPQ AX, $1
	JEQ smax
	CMPQ AX, $2
	JEQ smin

sadd:
	VMOVUPS (R11)(R12*1), Y0
	VADDPS (CX)(R12*1), Y0, Y0
	VMOVUPS Y0, (CX)(R12*1)
	ADDQ $32, R12
	CMPQ R12, DX
	JLT sadd
	INCQ R9
	JMP sentry

smax:
	VMOVUPS (R11)(R12*1), Y0    // v
	VMOVUPS (CX)(R12*1), Y1     // d
	VCMPPS $0x1e, Y1, Y0, Y2    // v > d
	VCMPPS $3, Y0, Y0, Y3       // v is NaN
	VCMPPS $7, Y1, Y1, Y4       // d is not
	VANDPS Y4, Y3, Y3
	VORPS Y3, Y2, Y2
	VBLENDVPS Y2, Y0, Y1, Y1
	VMOVUPS Y1, (CX)(R12*1)
	ADDQ $32, R12
	CMPQ R12, DX
	JLT smax
	INCQ R9
	JMP sentry

smin:
	VMOVUPS (R11)(R12*1), Y0
	VMOVUPS (CX)(R12*1), Y1
	VCMPPS $0x11, Y1, Y0, Y2    // v < d
	VCMPPS $3, Y0, Y0, Y3
	VCMPPS $7, Y1, Y1, Y4
	VANDPS Y4, Y3, Y3
	VORPS Y3, Y2, Y2
	VBLENDVPS Y2, Y0, Y1, Y1
	VMOVUPS Y1, (CX)(R12*1)
	ADDQ $32, R12
	CMPQ R12, DX
	JLT smin
	INCQ R9
	JMP sentry

sfinish:
	CMPQ AX, $3
	JNE snext
	MOVLQSX (R13)(R14*4), R12
	MOVQ R10, R11
	SUBQ R12, R11               // the segment's size
	CVTSQ2SS R11, X1
	VBROADCASTSS X1, Y1
	XORQ R12, R12

sdiv:
	VMOVUPS (CX)(R12*1), Y0
	VDIVPS Y1, Y0, Y0           // row / size
	VMOVUPS Y0, (CX)(R12*1)
	ADDQ $32, R12
	CMPQ R12, DX
	JLT sdiv

snext:
	INCQ R14
	JMP sseg

sdone:
	VZEROUPPER
	RET

// func gatherRowsAVX2(out, x *float32, idx *int32, n, avail, f8, f int)
//
// For k in [0, n): out row k gets the first f8 floats of row idx[k] of x; rows of both
// are f floats apart. Entries up to avail (≥ n) may be read to prefetch.
TEXT ·gatherRowsAVX2(SB), NOSPLIT, $0-56
	MOVQ out+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ idx+16(FP), BX
	MOVQ n+24(FP), CX
	MOVQ avail+32(FP), R10
	MOVQ f8+40(FP), DX
	SHLQ $2, DX
	MOVQ f+48(FP), R8
	SHLQ $2, R8
	XORQ R9, R9

gedge:
	CMPQ R9, CX
	JGE gdone
	LEAQ AHEAD(R9), R11
	CMPQ R11, R10
	JGE gload
	MOVLQSX (BX)(R11*4), R11
	IMULQ R8, R11
	ADDQ SI, R11
	XORQ R12, R12

gprefetch:
	PREFETCHT0 (R11)(R12*1)
	ADDQ $64, R12
	CMPQ R12, DX
	JLT gprefetch

gload:
	MOVLQSX (BX)(R9*4), R11
	IMULQ R8, R11
	ADDQ SI, R11
	XORQ R12, R12

gcopy:
	VMOVUPS (R11)(R12*1), Y0
	VMOVUPS Y0, (DI)(R12*1)
	ADDQ $32, R12
	CMPQ R12, DX
	JLT gcopy
	ADDQ R8, DI
	INCQ R9
	JMP gedge

gdone:
	VZEROUPPER
	RET

// func argextRowsAVX2(out, x, y, dy *float32, pending *int32, perm *int32, n, avail, f8, f int)
//
// For k in [0, n), e = perm[k], and each of the first f8 columns j: out[e][j] = dy[j] if
// pending[j] is set and x[e][j] equals y[j] (or both are NaN), which clears pending[j];
// else out[e][j] = 0. pending holds all-ones or zero words; rows of x and out are f floats
// apart. Entries up to avail (≥ n) may be read to prefetch both rows.
TEXT ·argextRowsAVX2(SB), NOSPLIT, $0-80
	MOVQ out+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), R13
	MOVQ dy+24(FP), R14
	MOVQ pending+32(FP), AX
	MOVQ perm+40(FP), BX
	MOVQ n+48(FP), CX
	MOVQ avail+56(FP), R10
	MOVQ f8+64(FP), DX
	SHLQ $2, DX
	MOVQ f+72(FP), R8
	SHLQ $2, R8

aedge:
	TESTQ CX, CX
	JLE adone
	CMPQ R10, $AHEAD
	JLE aload
	MOVLQSX (AHEAD*4)(BX), R11
	IMULQ R8, R11
	XORQ R12, R12

aprefetch:
	LEAQ (R11)(R12*1), R9
	PREFETCHT0 (SI)(R9*1)
	PREFETCHT0 (DI)(R9*1)
	ADDQ $64, R12
	CMPQ R12, DX
	JLT aprefetch

aload:
	MOVLQSX (BX), R11
	IMULQ R8, R11
	LEAQ (DI)(R11*1), R9        // the out row
	ADDQ SI, R11                // the x row
	XORQ R12, R12

acol:
	VMOVUPS (R11)(R12*1), Y0    // v
	VMOVUPS (R13)(R12*1), Y1    // y
	VCMPPS $0, Y1, Y0, Y2       // v == y
	VCMPPS $3, Y0, Y0, Y3       // v is NaN
	VCMPPS $3, Y1, Y1, Y4       // y is NaN
	VANDPS Y4, Y3, Y3
	VORPS Y3, Y2, Y2
	VMOVUPS (AX)(R12*1), Y5     // pending
	VANDPS Y5, Y2, Y2           // won here
	VANDNPS Y5, Y2, Y5          // pending without them
	VMOVUPS Y5, (AX)(R12*1)
	VANDPS (R14)(R12*1), Y2, Y2 // dy where won, else 0
	VMOVUPS Y2, (R9)(R12*1)
	ADDQ $32, R12
	CMPQ R12, DX
	JLT acol

	ADDQ $4, BX
	DECQ CX
	DECQ R10
	JMP aedge

adone:
	VZEROUPPER
	RET
