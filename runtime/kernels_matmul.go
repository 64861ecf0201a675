package runtime

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/dlc-lang/dlc/ir"
)

func init() { register("matmul", matmulKernel) }

// matmulKernel computes op(a)·op(b), where op transposes when the ta or tb attribute is
// set. Transposes are passed to BLAS, never materialised. gonum's Sgemm splits C into
// 64×64 blocks computed on up to GOMAXPROCS goroutines, so the kernel adds no parallelism
// of its own.
func matmulKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	a, b := args[0], args[1]
	if len(a.Shape) != 2 || len(b.Shape) != 2 {
		return nil, opErrorf(op, "got %s and %s, want rank 2", shapeString(a.Shape), shapeString(b.Shape))
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
			shapeString(a.Shape), shapeString(b.Shape), ta, tb)
	}
	out := c.alloc([]int{m, n})
	if m == 0 || n == 0 || k == 0 {
		return out, nil
	}
	if ta && tb {
		// gonum's Aᵀ·Bᵀ loop runs strided axpys and is about half as fast as its plain
		// product, so compute (B·A) and transpose it: O(mn) extra for O(mnk) saved.
		ba := &Tensor{Shape: []int{n, m}, Data: make([]float32, n*m)}
		blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, general(b), general(a), 0, general(ba))
		transpose2D(out.Data, ba.Data, n, m)
		return out, nil
	}
	blas32.Gemm(transpose(ta), transpose(tb), 1, general(a), general(b), 0, general(out))
	return out, nil
}

// transpose2D writes the transpose of the r×c matrix src into dst, in tiles so that both
// sides stay in cache.
func transpose2D(dst, src []float32, r, c int) {
	const tile = 32
	for i0 := 0; i0 < r; i0 += tile {
		for j0 := 0; j0 < c; j0 += tile {
			for i := i0; i < min(i0+tile, r); i++ {
				row := src[i*c : (i+1)*c]
				for j := j0; j < min(j0+tile, c); j++ {
					dst[j*r+i] = row[j]
				}
			}
		}
	}
}

func transpose(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// sgemm computes C = op(A)·op(B) + beta·C for row-major matrices: op(A) is m×k, op(B) is
// k×n, C is m×n, and lda, ldb, ldc are the row strides of A, B and C as stored. Every
// kernel that multiplies matrices (matmul, dense, conv through im2col) calls this one
// function, so the GEMM behind it can change in one place.
func sgemm(ta, tb bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	blas32.Implementation().Sgemm(transpose(ta), transpose(tb), m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

// general views a non-empty rank-2 tensor as a BLAS matrix.
func general(t *Tensor) blas32.General {
	return blas32.General{Rows: t.Shape[0], Cols: t.Shape[1], Stride: t.Shape[1], Data: t.Data}
}
