package runtime

import (
	"math"

	"github.com/dlc-lang/dlc/ir"
)

// reduction is sum or mean's plan: the reduced axes and the result shape with the reduced
// axes kept as 1 (the layout accumulate writes) and as the op returns it.
func init() {
	register("sum", sumKernel)
	register("mean", meanKernel)
	register("count", countKernel)
	register("sum_to", sumToKernel)
	register("broadcast_like", broadcastLikeKernel)
	register("softmax", softmaxKernel(false))
	register("log_softmax", softmaxKernel(true))
}

type reduction struct {
	kept   []int  // x's shape with reduced axes set to 1
	result []int  // kept, or kept without the reduced axes
	count  int    // elements summed into each result element
	axes   uint64 // bit i: axis i is reduced
}

// shapeScratch is storage for a kernel's shapes, declared as a local variable so that
// planning a reduction of rank up to loopRank allocates nothing.
type shapeScratch [loopRank]int

// reduceAxes plans reducing a tensor of the given shape by op's axes and keepdims
// attributes, writing its shapes over kept and result (a kernel's scratch).
func reduceAxes(op *ir.Op, shape []int, kept, result *shapeScratch) (reduction, error) {
	if len(shape) > 64 {
		return reduction{}, opErrorf(op, "got rank %d, want at most 64", len(shape))
	}
	r := reduction{count: 1}
	axes := op.Attrs.Ints("axes")
	if len(axes) == 0 {
		r.axes = 1<<len(shape) - 1
	}
	for _, a := range axes {
		n, err := ir.NormAxis(a, len(shape))
		if err != nil {
			return reduction{}, opErrorf(op, "%v", err)
		}
		if r.axes&(1<<n) != 0 {
			return reduction{}, opErrorf(op, "axis %d repeated", a)
		}
		r.axes |= 1 << n
	}
	r.kept = append(kept[:0], shape...)
	r.result = result[:0]
	keep := op.Attrs.Bool("keepdims")
	for i, d := range shape {
		if r.axes&(1<<i) != 0 {
			r.kept[i] = 1
			r.count *= d
			if !keep {
				continue
			}
		}
		r.result = append(r.result, r.kept[i])
	}
	return r, nil
}

func sumKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	out, _, err := sum(c, op, args[0])
	return out, err
}

// sum reduces x as op says and returns the number of elements summed into each result.
func sum(c *Ctx, op *ir.Op, x *Tensor) (*Tensor, int, error) {
	var kept, result, st shapeScratch
	r, err := reduceAxes(op, x.Shape, &kept, &result)
	if err != nil {
		return nil, 0, err
	}
	out := c.alloc(r.result)
	accumulate(out.Data, x.Data, x.Shape, broadcastStrides(st[:], r.kept, x.Shape))
	return out, r.count, nil
}

func meanKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	out, count, err := sum(c, op, args[0])
	if err != nil {
		return nil, err
	}
	inv := 1 / float64(count)
	for i, v := range out.Data {
		out.Data[i] = float32(float64(v) * inv)
	}
	return out, nil
}

// countKernel is the number of elements a reduction over axes sums, as a scalar.
func countKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	var kept, result shapeScratch
	r, err := reduceAxes(op, args[0].Shape, &kept, &result)
	if err != nil {
		return nil, err
	}
	out := c.alloc(nil)
	out.Data[0] = float32(r.count)
	return out, nil
}

// sumToKernel sums x over the dimensions that broadcasting like's shape to x's added:
// the adjoint of broadcasting.
func sumToKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	x, like := args[0], args[1]
	var sb, st [loopRank]int
	if s, ok := broadcastShapes(sb[:], like.Shape, x.Shape); !ok || !sameShape(s, x.Shape) {
		return nil, opErrorf(op, "got %s, want a shape that %s broadcasts to", ShapeString(x.Shape), ShapeString(like.Shape))
	}
	out := c.alloc(like.Shape)
	accumulate(out.Data, x.Data, x.Shape, broadcastStrides(st[:], like.Shape, x.Shape))
	return out, nil
}

// broadcastLikeKernel broadcasts x to like's shape, the adjoint of sum. With keepdims unset
// and axes given, x is a reduction's result and size-1 dimensions are first re-inserted at
// axes; otherwise x is aligned with like at the last dimension, as NumPy does (which for a
// scalar x, the result of reducing every axis, is the same thing).
func broadcastLikeKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	x, like := args[0], args[1]
	xs := x.Shape
	var kept, result, exp shapeScratch
	if axes := op.Attrs.Ints("axes"); !op.Attrs.Bool("keepdims") && len(axes) > 0 && len(xs) != len(like.Shape) {
		norm, err := reduceAxes(op, like.Shape, &kept, &result)
		if err != nil {
			return nil, err
		}
		if len(xs)+len(axes) != len(like.Shape) {
			return nil, opErrorf(op, "got %s, want rank %d to re-insert axes %v of %s",
				ShapeString(xs), len(like.Shape)-len(axes), axes, ShapeString(like.Shape))
		}
		expanded := exp[:0]
		j := 0
		for i := range like.Shape {
			if norm.axes&(1<<i) != 0 {
				expanded = append(expanded, 1)
			} else {
				expanded = append(expanded, xs[j])
				j++
			}
		}
		xs = expanded
	}
	var sb [loopRank]int
	if s, ok := broadcastShapes(sb[:], xs, like.Shape); !ok || !sameShape(s, like.Shape) {
		return nil, opErrorf(op, "got %s, want a shape that broadcasts to %s", ShapeString(x.Shape), ShapeString(like.Shape))
	}
	out := c.alloc(like.Shape)
	broadcastTo(out.Data, &Tensor{Shape: xs, Data: x.Data}, like.Shape)
	return out, nil
}

// softmaxKernel computes softmax or log_softmax along the axis attribute, subtracting each
// slice's maximum first so that exp cannot overflow; sums are kept in float64.
func softmaxKernel(logarithm bool) Kernel {
	return func(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
		x := args[0]
		axis, err := axisAttr(op, "axis", -1, len(x.Shape))
		if err != nil {
			return nil, err
		}
		out := c.alloc(x.Shape)
		outer, n, inner := splitAt(x.Shape, axis)
		if n == 0 {
			return out, nil
		}
		src, dst := x.Data, out.Data
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				base := o*n*inner + i
				m := src[base]
				for j := 1; j < n; j++ {
					m = max(m, src[base+j*inner])
				}
				var sum float64
				for j := 0; j < n; j++ {
					e := math.Exp(float64(src[base+j*inner] - m))
					sum += e
					if !logarithm {
						dst[base+j*inner] = float32(e)
					}
				}
				if logarithm {
					ls := math.Log(sum)
					for j := 0; j < n; j++ {
						dst[base+j*inner] = float32(float64(src[base+j*inner]-m) - ls)
					}
					continue
				}
				inv := 1 / sum
				for j := 0; j < n; j++ {
					dst[base+j*inner] = float32(float64(dst[base+j*inner]) * inv)
				}
			}
		}
		return out, nil
	}
}
