package runtime

import (
	"github.com/dlc-lang/dlc/ir"
)

// Movement kernels: the values stay, their places change.

// reshapeKernel evaluates the "shape" attribute with the run's symbol bindings. The result
// is a view: it shares x's storage.
func init() {
	register("reshape", reshapeKernel)
	register("transpose", transposeKernel)
	register("concat", concatKernel)
	register("slice", sliceKernel)
	register("unslice", unsliceKernel)
}

func reshapeKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	x := args[0]
	want := op.Attrs.Shape("shape")
	if want == nil {
		return nil, opErrorf(op, "missing attribute shape")
	}
	var buf shapeScratch
	shape := buf[:0]
	for _, d := range want {
		v, err := d.Eval(c.Env)
		if err != nil {
			return nil, opErrorf(op, "shape %v: %v", want, err)
		}
		shape = append(shape, v)
	}
	if NumElements(shape) != len(x.Data) {
		return nil, opErrorf(op, "got %s (%d elements), want %v = %s (%d elements)",
			ShapeString(x.Shape), len(x.Data), want, ShapeString(shape), NumElements(shape))
	}
	t := c.view(x)
	t.Shape = append(t.Shape, shape...)
	return t, nil
}

func transposeKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	x := args[0]
	perm := op.Attrs.Ints("perm")
	if !ir.IsPerm(perm, len(x.Shape)) {
		return nil, opErrorf(op, "got perm %v for %s, want a permutation of %d axes", perm, ShapeString(x.Shape), len(x.Shape))
	}
	shape := make([]int, len(perm))
	src := make([]int, len(perm))
	xst := contiguousStrides(nil, x.Shape)
	for i, p := range perm {
		shape[i] = x.Shape[p]
		src[i] = xst[p]
	}
	out := c.alloc(shape)
	var sc loopScratch
	l := newStridedLoop(&sc, shape, contiguousStrides(nil, shape), src)
	n, st := l.inner()
	dst, s := out.Data, x.Data
	l.rows(func(off [3]int) {
		d := dst[off[0] : off[0]+n]
		if st[1] == 1 {
			copy(d, s[off[1]:off[1]+n])
			return
		}
		for j, k := 0, off[1]; j < len(d); j, k = j+1, k+st[1] {
			d[j] = s[k]
		}
	})
	return out, nil
}

func concatKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	first := args[0].Shape
	axis, err := axisAttr(op, "axis", 0, len(first))
	if err != nil {
		return nil, err
	}
	shape := append([]int{}, first...)
	shape[axis] = 0
	for _, x := range args {
		if len(x.Shape) != len(first) {
			return nil, opErrorf(op, "got %s and %s, want equal ranks", ShapeString(first), ShapeString(x.Shape))
		}
		for i := range x.Shape {
			if i != axis && x.Shape[i] != first[i] {
				return nil, opErrorf(op, "got %s and %s, want equal shapes except on axis %d", ShapeString(first), ShapeString(x.Shape), axis)
			}
		}
		shape[axis] += x.Shape[axis]
	}
	out := c.alloc(shape)
	outer, n, inner := splitAt(shape, axis)
	row := n * inner
	at := 0
	for _, x := range args {
		chunk := x.Shape[axis] * inner
		for o := 0; o < outer; o++ {
			copy(out.Data[o*row+at:o*row+at+chunk], x.Data[o*chunk:(o+1)*chunk])
		}
		at += chunk
	}
	return out, nil
}

// sliceBounds reads the axis, start and end attributes of slice and unslice against shape.
func sliceBounds(op *ir.Op, shape []int) (axis, lo, hi int, err error) {
	if axis, err = axisAttr(op, "axis", 0, len(shape)); err != nil {
		return 0, 0, 0, err
	}
	lo, hi = op.Attrs.Int("start", 0), op.Attrs.Int("end", 0)
	if lo < 0 || hi > shape[axis] || lo >= hi {
		return 0, 0, 0, opErrorf(op, "got slice [%d:%d] of axis %d of %s, want 0 <= start < end <= %d",
			lo, hi, axis, ShapeString(shape), shape[axis])
	}
	return axis, lo, hi, nil
}

func sliceKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	x := args[0]
	axis, lo, hi, err := sliceBounds(op, x.Shape)
	if err != nil {
		return nil, err
	}
	shape := append([]int{}, x.Shape...)
	shape[axis] = hi - lo
	out := c.alloc(shape)
	outer, n, inner := splitAt(x.Shape, axis)
	chunk := (hi - lo) * inner
	for o := 0; o < outer; o++ {
		copy(out.Data[o*chunk:(o+1)*chunk], x.Data[(o*n+lo)*inner:])
	}
	return out, nil
}

// unsliceKernel is slice's adjoint: zeros shaped like args[1] with args[0] at [start, end).
func unsliceKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	dy, like := args[0], args[1]
	axis, lo, hi, err := sliceBounds(op, like.Shape)
	if err != nil {
		return nil, err
	}
	want := append([]int{}, like.Shape...)
	want[axis] = hi - lo
	if !sameShape(dy.Shape, want) {
		return nil, opErrorf(op, "got %s, want %s", ShapeString(dy.Shape), ShapeString(want))
	}
	out := c.alloc(like.Shape)
	outer, n, inner := splitAt(like.Shape, axis)
	chunk := (hi - lo) * inner
	for o := 0; o < outer; o++ {
		copy(out.Data[(o*n+lo)*inner:], dy.Data[o*chunk:(o+1)*chunk])
	}
	return out, nil
}
