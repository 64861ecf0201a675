package ir

import (
	"math"
	"testing"
)

// TestCSEEqualAndHash: ops that compute the same value compare equal and hash alike, and the
// near misses (another constant, -0 against 0, the int 2 against the float 2, another shape,
// a true bool against none) compare unequal. Equal ops must hash alike or the cse rule
// would miss them; unequal ones may collide, but for these the hash should tell them apart.
func TestCSEEqualAndHash(t *testing.T) {
	f := NewFunc("f")
	b := NewBuilder(f)
	x := b.Input("x", F32(Shape{Sym("B"), Const(4)}))
	op := func(kind string, attrs Attrs, ty Type, args ...*Op) *Op {
		return &Op{Kind: kind, Attrs: attrs, Type: ty, Args: args}
	}
	scalar := F32(Shape{})
	ty := x.Type
	for _, c := range []struct {
		name  string
		a, b  *Op
		equal bool
	}{
		{"same constant", op("const", Attrs{"value": 2.0}, scalar), op("const", Attrs{"value": 2.0}, scalar), true},
		{"NaN is the same constant", op("const", Attrs{"value": math.NaN()}, scalar), op("const", Attrs{"value": math.NaN()}, scalar), true},
		{"other constant", op("const", Attrs{"value": 2.0}, scalar), op("const", Attrs{"value": 3.0}, scalar), false},
		{"-0 against 0", op("const", Attrs{"value": math.Copysign(0, -1)}, scalar), op("const", Attrs{"value": 0.0}, scalar), false},
		{"int 2 against float 2", op("const", Attrs{"value": 2}, scalar), op("const", Attrs{"value": 2.0}, scalar), false},
		{"false bool is absent", op("matmul", Attrs{"tb": false}, ty, x, x), op("matmul", nil, ty, x, x), true},
		{"true bool is not", op("matmul", Attrs{"tb": true}, ty, x, x), op("matmul", nil, ty, x, x), false},
		{"list attribute", op("sum", Attrs{"axes": []int{0}}, ty, x), op("sum", Attrs{"axes": []int{0}}, ty, x), true},
		{"other list", op("sum", Attrs{"axes": []int{0}}, ty, x), op("sum", Attrs{"axes": []int{1}}, ty, x), false},
		{"other shape", op("relu", nil, ty, x), op("relu", nil, F32(Shape{Sym("B"), Const(5)}), x), false},
		{"other dtype", op("relu", nil, ty, x), op("relu", nil, Type{DType: "i32", Shape: ty.Shape}, x), false},
		{"other kind", op("relu", nil, ty, x), op("exp", nil, ty, x), false},
		{"operand order", op("sub", nil, ty, x, b.Op("exp", nil, x)), op("sub", nil, ty, b.Op("exp", nil, x), x), false},
		{"attribute order", op("pad", Attrs{"a": 1, "b": 2}, ty, x), op("pad", Attrs{"b": 2, "a": 1}, ty, x), true},
		{"values swapped between keys", op("pad", Attrs{"a": 1, "b": 2}, ty, x), op("pad", Attrs{"a": 2, "b": 1}, ty, x), false},
	} {
		if got := cseEqual(c.a, c.b); got != c.equal {
			t.Errorf("%s: cseEqual %v, want %v", c.name, got, c.equal)
		}
		if got := cseHash(c.a) == cseHash(c.b); got != c.equal {
			t.Errorf("%s: hashes equal %v, want %v", c.name, got, c.equal)
		}
	}
}
