package runtime

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dlc-lang/dlc/ir"
)

// Tensor is a dense float32 array in row-major order. len(Data) equals the product of
// Shape; the empty shape is a scalar holding one element.
type Tensor struct {
	Shape []int
	Data  []float32
}

// NewTensor returns a zero tensor of the given shape. It panics if a dimension is negative.
func NewTensor(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int{}, shape...), Data: make([]float32, numElements(shape))}
}

// FromData returns a tensor of the given shape holding data, which it does not copy.
func FromData(shape []int, data []float32) (*Tensor, error) {
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("runtime: negative dimension in shape %s", shapeString(shape))
		}
	}
	if n := numElements(shape); n != len(data) {
		return nil, fmt.Errorf("runtime: shape %s holds %d elements, got %d", shapeString(shape), n, len(data))
	}
	return &Tensor{Shape: append([]int{}, shape...), Data: data}, nil
}

// Scalar returns the scalar tensor v.
func Scalar(v float32) *Tensor { return &Tensor{Shape: []int{}, Data: []float32{v}} }

// Size returns the number of elements.
func (t *Tensor) Size() int { return len(t.Data) }

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int{}, t.Shape...), Data: append([]float32{}, t.Data...)}
}

func (t *Tensor) String() string {
	return fmt.Sprintf("tensor%s%v", shapeString(t.Shape), t.Data)
}

// valid reports whether t's data matches its shape, so that kernels may index freely.
func (t *Tensor) valid() bool {
	if t == nil {
		return false
	}
	for _, d := range t.Shape {
		if d < 0 {
			return false
		}
	}
	return numElements(t.Shape) == len(t.Data)
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
				return opErrorf(o, "result %v with %s has more than 2^53 elements", o.Type.Shape, envString(env))
			}
			v *= b
		}
		if v > 0 && n > ir.MaxElements/v {
			return opErrorf(o, "result %v with %s has more than 2^53 elements", o.Type.Shape, envString(env))
		}
		n *= v
	}
	return nil
}

func envString(env map[string]int) string {
	var parts []string
	for _, k := range sortedIntKeys(env) {
		parts = append(parts, fmt.Sprintf("%s = %d", k, env[k]))
	}
	return strings.Join(parts, ", ")
}

func sortedIntKeys(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// numElements is the product of a concrete shape: shapes a program makes have passed
// checkElements, and loaded ones the readers' own bounds.
func numElements(shape []int) int {
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

// shapeString prints a concrete shape the way ir.Shape prints a symbolic one: [128, 784].
func shapeString(s []int) string {
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
