package runtime

import "github.com/dlc-lang/dlc/ir"

// Kernels of the comparison ops that metrics are made of.

func init() {
	register("argmax", argmaxKernel)
	register("eq", binaryKernel(opEq))
}

func argmaxKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	x := args[0]
	axis, err := axisAttr(op, "axis", -1, len(x.Shape))
	if err != nil {
		return nil, err
	}
	var buf shapeScratch
	outShape := append(append(buf[:0], x.Shape[:axis]...), x.Shape[axis+1:]...)
	out := c.alloc(outShape)
	outer, n, inner := splitAt(x.Shape, axis)
	if n == 0 {
		return nil, opErrorf(op, "argmax over an empty axis of %s", ShapeString(x.Shape))
	}
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*n*inner + i
			best, bi := x.Data[base], 0
			for j := 1; j < n; j++ {
				if v := x.Data[base+j*inner]; v > best {
					best, bi = v, j
				}
			}
			out.Data[o*inner+i] = float32(bi)
		}
	}
	return out, nil
}
