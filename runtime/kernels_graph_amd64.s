#include "textflag.h"

// AVX2 row loops of the graph kernels (kernels_graph.go), eight float32 lanes per step.
// The rows they read are scattered over a large array in an order set by an index, so
// each loop prefetches the row AHEAD entries on: without it every row is a cache miss the
// core waits for, and the scalar loop's many instructions per row leave the out-of-order
// window too small to overlap the next one. Go assembly writes operands in the reverse of
// Intel's order: "VCMPPS $c, b, a, dst" is dst = a c b, and "VBLENDVPS mask, y, x, dst" is
// dst = mask ? y : x.

#define AHEAD 16

// func reduceRowsAVX2(op int, dst, x *float32, perm *int32, n, avail, f8, f int)
//
// For k in [0, n): dst[0:f8] op= row perm[k] of x, whose rows are f floats apart.
// op 0 adds; 1 keeps the larger value, 2 the smaller, the first of equal ones, and a NaN
// once one comes. Entries up to avail (≥ n) may be read to prefetch.
TEXT ·reduceRowsAVX2(SB), NOSPLIT, $0-64
	MOVQ op+0(FP), AX
	MOVQ dst+8(FP), DI
	MOVQ x+16(FP), SI
	MOVQ perm+24(FP), BX
	MOVQ n+32(FP), CX
	MOVQ avail+40(FP), R10
	MOVQ f8+48(FP), DX
	SHLQ $2, DX                 // bytes reduced per row
	MOVQ f+56(FP), R8
	SHLQ $2, R8                 // row stride in bytes
	XORQ R9, R9                 // k

redge:
	CMPQ R9, CX
	JGE rdone
	LEAQ AHEAD(R9), R11
	CMPQ R11, R10
	JGE rload
	MOVLQSX (BX)(R11*4), R11
	IMULQ R8, R11
	ADDQ SI, R11
	XORQ R12, R12

rprefetch:
	PREFETCHT0 (R11)(R12*1)
	ADDQ $64, R12
	CMPQ R12, DX
	JLT rprefetch

rload:
	MOVLQSX (BX)(R9*4), R11
	IMULQ R8, R11
	ADDQ SI, R11                // the row
	XORQ R12, R12               // byte offset in it
	CMPQ AX, $1
	JEQ rmax
	JGT rmin

radd:
	VMOVUPS (R11)(R12*1), Y0
	VADDPS (DI)(R12*1), Y0, Y0
	VMOVUPS Y0, (DI)(R12*1)
	ADDQ $32, R12
	CMPQ R12, DX
	JLT radd
	JMP rnext

rmax:
	VMOVUPS (R11)(R12*1), Y0    // v
	VMOVUPS (DI)(R12*1), Y1     // d
	VCMPPS $0x1e, Y1, Y0, Y2    // v > d
	VCMPPS $3, Y0, Y0, Y3       // v is NaN
	VCMPPS $7, Y1, Y1, Y4       // d is not
	VANDPS Y4, Y3, Y3
	VORPS Y3, Y2, Y2
	VBLENDVPS Y2, Y0, Y1, Y1
	VMOVUPS Y1, (DI)(R12*1)
	ADDQ $32, R12
	CMPQ R12, DX
	JLT rmax
	JMP rnext

rmin:
	VMOVUPS (R11)(R12*1), Y0
	VMOVUPS (DI)(R12*1), Y1
	VCMPPS $0x11, Y1, Y0, Y2    // v < d
	VCMPPS $3, Y0, Y0, Y3
	VCMPPS $7, Y1, Y1, Y4
	VANDPS Y4, Y3, Y3
	VORPS Y3, Y2, Y2
	VBLENDVPS Y2, Y0, Y1, Y1
	VMOVUPS Y1, (DI)(R12*1)
	ADDQ $32, R12
	CMPQ R12, DX
	JLT rmin

rnext:
	INCQ R9
	JMP redge

rdone:
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
