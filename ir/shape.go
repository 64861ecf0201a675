package ir

import "fmt"

// Broadcast returns the shape that a and b broadcast to under NumPy's rules: shapes are
// aligned at their last dimension, and a dimension broadcasts when it is the constant 1 or
// equal to the other. Symbolic dimensions broadcast only with themselves or 1.
func Broadcast(a, b Shape) (Shape, error) {
	n := len(a)
	if len(b) > n {
		n = len(b)
	}
	out := make(Shape, n)
	for i := 0; i < n; i++ {
		da, db := Const(1), Const(1)
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da.Equal(db):
			out[i] = da
		case da.Equal(Const(1)):
			out[i] = db
		case db.Equal(Const(1)):
			out[i] = da
		default:
			return nil, fmt.Errorf("cannot broadcast %v with %v", a, b)
		}
	}
	return out, nil
}

// NormAxis maps a possibly negative axis onto [0, rank).
func NormAxis(axis, rank int) (int, error) {
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return axis, nil
}

// ReduceAxes normalises the axes attribute of a reduction; no axes means all of them.
func ReduceAxes(axes []int, rank int) ([]int, error) {
	if len(axes) == 0 {
		all := make([]int, rank)
		for i := range all {
			all[i] = i
		}
		return all, nil
	}
	out := make([]int, len(axes))
	seen := map[int]bool{}
	for i, a := range axes {
		n, err := NormAxis(a, rank)
		if err != nil {
			return nil, err
		}
		if seen[n] {
			return nil, fmt.Errorf("axis %d repeated", a)
		}
		seen[n] = true
		out[i] = n
	}
	return out, nil
}

// ReducedShape is the shape of reducing s over axes (normalised), with or without keepdims.
func ReducedShape(s Shape, axes []int, keepdims bool) Shape {
	red := map[int]bool{}
	for _, a := range axes {
		red[a] = true
	}
	out := Shape{}
	for i, d := range s {
		switch {
		case !red[i]:
			out = append(out, d)
		case keepdims:
			out = append(out, Const(1))
		}
	}
	return out
}
