package runtime

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/dlc-lang/dlc/ir"
)

// Tensor is a dense array in row-major order: float32 in Data or, for an i32 tensor, int32
// in Ints. An i32 tensor has a non-nil Ints and no Data; every other tensor is f32. The
// number of elements held equals the product of Shape; the empty shape is a scalar holding
// one element.
//
// i32 tensors are indices (edge endpoints, graph ids) fed as inputs to the graph ops; no
// kernel produces one and parameters are always f32, so the f32 code never looks at Ints.
type Tensor struct {
	Shape []int
	Data  []float32
	Ints  []int32
}

// NewTensor returns a zero tensor of the given shape. It panics if a dimension is negative.
func NewTensor(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int{}, shape...), Data: make([]float32, NumElements(shape))}
}

// FromData returns a tensor of the given shape holding data, which it does not copy.
func FromData(shape []int, data []float32) (*Tensor, error) {
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("runtime: negative dimension in shape %s", ShapeString(shape))
		}
	}
	if n := NumElements(shape); n != len(data) {
		return nil, fmt.Errorf("runtime: shape %s holds %d elements, got %d", ShapeString(shape), n, len(data))
	}
	return &Tensor{Shape: append([]int{}, shape...), Data: data}, nil
}

// FromInts returns an i32 tensor of the given shape holding data, which it does not copy.
func FromInts(shape []int, data []int32) (*Tensor, error) {
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("runtime: negative dimension in shape %s", ShapeString(shape))
		}
	}
	if n := NumElements(shape); n != len(data) {
		return nil, fmt.Errorf("runtime: shape %s holds %d elements, got %d", ShapeString(shape), n, len(data))
	}
	if data == nil {
		data = []int32{}
	}
	return &Tensor{Shape: append([]int{}, shape...), Ints: data}, nil
}

// IsI32 reports whether t holds int32 values.
func (t *Tensor) IsI32() bool { return t.Ints != nil }

// DType returns t's dtype as the IR names it: "f32" or "i32".
func (t *Tensor) DType() string {
	if t.IsI32() {
		return ir.DTypeI32
	}
	return ir.DTypeF32
}

// Scalar returns the scalar tensor v.
func Scalar(v float32) *Tensor { return &Tensor{Shape: []int{}, Data: []float32{v}} }

// Size returns the number of elements.
func (t *Tensor) Size() int {
	if t.IsI32() {
		return len(t.Ints)
	}
	return len(t.Data)
}

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{Shape: append([]int{}, t.Shape...), Data: append([]float32{}, t.Data...)}
	if t.IsI32() {
		c.Data, c.Ints = nil, append([]int32{}, t.Ints...)
	}
	return c
}

func (t *Tensor) String() string {
	if t.IsI32() {
		return fmt.Sprintf("i32 tensor%s%v", ShapeString(t.Shape), t.Ints)
	}
	return fmt.Sprintf("tensor%s%v", ShapeString(t.Shape), t.Data)
}

// Valid reports whether t is an f32 tensor whose data matches its shape, so that kernels
// may index freely. Every operand but an index is checked by it; validAs checks inputs.
func (t *Tensor) Valid() bool { return t.validAs(ir.DTypeF32) }

// validAs reports whether t has the given dtype and holds as many elements as its shape.
// A tensor with no elements has either dtype: an empty edge list made as &Tensor{Shape:
// []int{0}} is as good an i32 tensor as one made by FromInts.
func (t *Tensor) validAs(dtype string) bool {
	if t == nil || t.IsI32() && len(t.Data) > 0 {
		return false
	}
	if t.DType() != dtype && t.Size() > 0 {
		return false
	}
	for _, d := range t.Shape {
		if d < 0 {
			return false
		}
	}
	return NumElements(t.Shape) == t.Size()
}

// checkElements refuses an op whose result, with the symbols bound by env, would have more
// than ir.MaxElements elements.
func checkElements(o *ir.Op, env map[string]int) error {
	n := 1
	for _, d := range o.Type.Shape {
		v := d.Coef
		for _, s := range d.Syms {
			b := env[s]
			if b < 0 || (b > 0 && v > ir.MaxElements/b) {
				return opErrorf(o, "result %v with %s has more than 2^53 elements", o.Type.Shape, EnvString(env, " = "))
			}
			v *= b
		}
		if v > 0 && n > ir.MaxElements/v {
			return opErrorf(o, "result %v with %s has more than 2^53 elements", o.Type.Shape, EnvString(env, " = "))
		}
		n *= v
	}
	return nil
}

// EnvString spells a binding of dimensions in sorted order, each name eq its size: " = "
// in messages ("B = 4, N = 10"), "=" in the compact memory lines ("E=1000000, N=100000").
func EnvString(env map[string]int, eq string) string {
	var parts []string
	for _, k := range sortedIntKeys(env) {
		parts = append(parts, k+eq+strconv.Itoa(env[k]))
	}
	return strings.Join(parts, ", ")
}

func sortedIntKeys(m map[string]int) []string { return slices.Sorted(maps.Keys(m)) }

// NumElements is the product of a concrete shape: shapes a program makes have passed
// checkElements, and loaded ones the readers' own bounds.
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ShapeString prints a concrete shape the way ir.Shape prints a symbolic one: [128, 784].
func ShapeString(s []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, d)
	}
	b.WriteByte(']')
	return b.String()
}
