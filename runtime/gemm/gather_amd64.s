#include "textflag.h"

// func gatherPanel32(k int, src *float32, rows *int, dst *float32)
// For p < k: dst[32p : 32p+32] = src[rows[p] : rows[p]+32], two zmm loads and stores a row.
TEXT ·gatherPanel32(SB), NOSPLIT, $0-32
	MOVQ k+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), BX
	MOVQ dst+24(FP), DI
	TESTQ CX, CX
	JLE done
loop:
	MOVQ (BX), AX
	VMOVUPS (SI)(AX*4), Z0
	VMOVUPS 64(SI)(AX*4), Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ $8, BX
	ADDQ $128, DI
	DECQ CX
	JNZ loop
done:
	VZEROUPPER
	RET
