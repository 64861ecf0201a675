package runtime

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/dlc-lang/dlc/ir"
)

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
	blas32.Gemm(transpose(ta), transpose(tb), 1, general(a), general(b), 0, general(out))
	return out, nil
}

func transpose(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// general views a non-empty rank-2 tensor as a BLAS matrix.
func general(t *Tensor) blas32.General {
	return blas32.General{Rows: t.Shape[0], Cols: t.Shape[1], Stride: t.Shape[1], Data: t.Data}
}
