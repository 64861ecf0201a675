package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestActivations checks the piecewise-linear activations bit for bit against their
// definitions written with branches, on random values of both signs and the edge values
// (±0, NaN, ±Inf), at lengths that exercise the vector body and the tail, on both paths.
func TestActivations(t *testing.T) {
	const alpha = 0.1
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	edges := []float32{0, float32(math.Copysign(0, -1)), nan, -nan, inf, -inf, 1e-45, -1e-45}
	where := func(c bool, a, b float32) float32 {
		if c {
			return a
		}
		return b
	}
	cases := []struct {
		name string
		run  func(dst, x, y []float32)
		ref  func(x, y float32) float32
	}{
		{"relu", func(d, x, _ []float32) { Relu(d, x) }, func(x, _ float32) float32 { return where(x > 0, x, 0) }},
		{"relu_grad", func(d, x, y []float32) { ReluGrad(d, x, y) }, func(dy, y float32) float32 { return where(y > 0, dy, 0) }},
		{"leaky_relu", func(d, x, _ []float32) { LeakyRelu(d, x, alpha) }, func(x, _ float32) float32 { return where(x > 0, x, alpha*x) }},
		{"leaky_relu_grad", func(d, x, y []float32) { LeakyReluGrad(d, x, y, alpha) }, func(dy, y float32) float32 { return where(y > 0, dy, alpha*dy) }},
		{"sign", func(d, x, _ []float32) { Sign(d, x) }, func(x, _ float32) float32 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return x
		}},
	}
	withPaths(t, func(t *testing.T, _ int64) {
		r := rand.New(rand.NewPCG(2, 3))
		for _, n := range []int{1, 8, 13, 64, 101} {
			x, y := make([]float32, n), make([]float32, n)
			for i := range x {
				x[i], y[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
				if i < len(edges) {
					x[i], y[i] = edges[i], edges[len(edges)-1-i]
				}
			}
			for _, c := range cases {
				got := make([]float32, n)
				c.run(got, x, y)
				for i := range got {
					if want := c.ref(x[i], y[i]); math.Float32bits(got[i]) != math.Float32bits(want) {
						t.Errorf("%s, n %d, element %d (%g, %g): got %g, want %g", c.name, n, i, x[i], y[i], got[i], want)
					}
				}
			}
		}
	})
}

// TestArithmetic: the vector arithmetic is the scalar operation's to the bit, at every tail
// length, in place too, with infinities, NaN and subnormals among the inputs.
func TestArithmetic(t *testing.T) {
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-40, 3e38}
	ops := []struct {
		name string
		f    func(dst, a, b []float32)
		g    func(a, b float32) float32
	}{
		{"add", Add, func(a, b float32) float32 { return a + b }},
		{"sub", Sub, func(a, b float32) float32 { return a - b }},
		{"mul", Mul, func(a, b float32) float32 { return a * b }},
		{"div", Div, func(a, b float32) float32 { return a / b }},
	}
	same := func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) || x != x && y != y }
	for _, vector := range []bool{true, false} {
		saved := useAVX2
		useAVX2 = useAVX2 && vector
		for n := 0; n <= 40; n++ {
			a, b := make([]float32, n), make([]float32, n)
			for i := range a {
				a[i] = special[i%len(special)] * float32(i+1) / 7
				b[i] = special[(i*5+3)%len(special)] - float32(i)/3
			}
			for _, op := range ops {
				dst := make([]float32, n)
				op.f(dst, a, b)
				inPlace := append([]float32(nil), a...)
				op.f(inPlace, inPlace, b)
				for i := range dst {
					if want := op.g(a[i], b[i]); !same(dst[i], want) {
						t.Fatalf("%s n=%d [%d]: %v, %v → %v, want %v", op.name, n, i, a[i], b[i], dst[i], want)
					}
					if !same(inPlace[i], dst[i]) {
						t.Fatalf("%s n=%d [%d] in place: %v, want %v", op.name, n, i, inPlace[i], dst[i])
					}
				}
			}
		}
		useAVX2 = saved
	}
}
