package runtime

import (
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/vecmath"
)

// Kernels for the fused ops of ir/ops_fused.go. Both are a Gemm into a fresh result followed by
// one in-place epilogue pass over it, row by row, so that each row is still in cache when
// its elementwise work is done: the fused op saves the temporaries and passes the unfused
// ops would allocate and make, and nothing else changes, so its results are bit-for-bit
// those of the unfused ops.

func init() {
	register("dense", denseKernel)
	register("matmul_act_grad", matmulActGradKernel)
}

// actLoop returns the loop of dense's activation act (nil for "none"), and its gradient
// helper's loop, both found through the op table's Activation mark.
func actLoop(op *ir.Op) (fwd func(dst, x []float32, op *ir.Op), grad func(dst, dy, y []float32, op *ir.Op), err error) {
	act := op.Attrs.String("act")
	if act == "none" {
		return nil, nil, nil
	}
	d, ok := ir.Lookup(act)
	if !ok || d.Act == nil || unaryLoops[act] == nil || pairLoops[d.Act.Grad] == nil {
		return nil, nil, opErrorf(op, "unknown activation %q", act)
	}
	return unaryLoops[act], pairLoops[d.Act.Grad], nil
}

// denseKernel computes act(op(x)·op(w) + b) for a row bias b of shape [N] or [1, N].
func denseKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	loop, _, err := actLoop(op)
	if err != nil {
		return nil, err
	}
	out, err := matmulKernel(c, op, args[:2])
	if err != nil {
		return nil, err
	}
	n, bias := out.Shape[1], args[2]
	if !(len(bias.Shape) == 1 && bias.Shape[0] == n) && !(len(bias.Shape) == 2 && bias.Shape[0] == 1 && bias.Shape[1] == n) {
		return nil, opErrorf(op, "got bias %s, want [%d] or [1, %d]", ShapeString(bias.Shape), n, n)
	}
	if n == 0 {
		return out, nil
	}
	bv := bias.Data[:n]
	for i := 0; i < len(out.Data); i += n {
		row := out.Data[i : i+n]
		vecmath.Add(row, row, bv)
		if loop != nil {
			loop(row, row, op)
		}
	}
	return out, nil
}

// matmulActGradKernel computes act_grad(op(a)·op(b), y).
func matmulActGradKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	_, loop, err := actLoop(op)
	if err != nil {
		return nil, err
	}
	out, err := matmulKernel(c, op, args[:2])
	if err != nil {
		return nil, err
	}
	y := args[2]
	if !sameShape(y.Shape, out.Shape) {
		return nil, opErrorf(op, "got y %s, want the product's shape %s", ShapeString(y.Shape), ShapeString(out.Shape))
	}
	n := out.Shape[1]
	if loop == nil || n == 0 {
		return out, nil
	}
	for i := 0; i < len(out.Data); i += n {
		loop(out.Data[i:i+n], out.Data[i:i+n], y.Data[i:i+n], op)
	}
	return out, nil
}
