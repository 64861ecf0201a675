package runtime

import (
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/gemm"
)

func init() { register("matmul", matmulKernel) }

// matmulKernel computes op(a)·op(b), where op transposes when the ta or tb attribute is
// set. Transposes are absorbed by the GEMM's packing, never materialised, and the GEMM
// splits big products over the worker pool itself.
func matmulKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	a, b := args[0], args[1]
	if len(a.Shape) != 2 || len(b.Shape) != 2 {
		return nil, opErrorf(op, "got %s and %s, want rank 2", ShapeString(a.Shape), ShapeString(b.Shape))
	}
	ta, tb := op.Attrs.Bool("ta"), op.Attrs.Bool("tb")
	m, k := a.Shape[0], a.Shape[1]
	if ta {
		m, k = k, m
	}
	k2, n := b.Shape[0], b.Shape[1]
	if tb {
		k2, n = n, k2
	}
	if k != k2 {
		return nil, opErrorf(op, "got %s and %s (ta=%v, tb=%v), want equal inner dimensions",
			ShapeString(a.Shape), ShapeString(b.Shape), ta, tb)
	}
	out := c.alloc([]int{m, n})
	sgemm(ta, tb, m, n, k, a.Data, max(a.Shape[1], 1), b.Data, max(b.Shape[1], 1), 0, out.Data, max(n, 1))
	return out, nil
}

// sgemm computes C = op(A)·op(B) + beta·C for row-major matrices: op(A) is m×k, op(B) is
// k×n, C is m×n, and lda, ldb, ldc are the row strides of A, B and C as stored. Every
// kernel that multiplies matrices (matmul, dense, conv through im2col) calls this one
// function, so the GEMM behind it can change in one place: today runtime/gemm, with
// assembly kernels chosen for the CPU (or OpenBLAS with -tags openblas).
func sgemm(ta, tb bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm.Sgemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc)
}
