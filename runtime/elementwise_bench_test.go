package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

// Benchmarks of the elementwise loops at the size an MNIST autoencoder gives them, a
// 128×784 batch (train's BenchmarkOptimizerStep times the optimiser update on that
// model's parameters). Each reports ns/element besides ns/op.

const benchRows, benchCols = 128, 784

// benchOperand fills n values for operand i of kind from the range the op meets in training.
func benchOperand(r *rand.Rand, kind string, i, n int) []float32 {
	x := make([]float32, n)
	for j := range x {
		g := r.NormFloat64()
		switch {
		case kind == "log" || kind == "sqrt":
			x[j] = float32(math.Abs(g) + 1e-3)
		case i == 1 && (kind == "bce" || kind == "bce_logits" || kind == "bce_grad"):
			x[j] = r.Float32() // targets: pixel intensities
		case i == 1 && (kind == "relu_grad" || kind == "leaky_relu_grad"):
			x[j] = float32(max(g, 0)) // the activation's output: half zeros, in no pattern
		case kind == "bce" || kind == "bce_grad" || (i == 1 && kind == "sigmoid_grad"):
			x[j] = float32(0.01 + 0.98*r.Float64()) // probabilities, or activations
		case i == 1 && kind == "tanh_grad":
			x[j] = float32(math.Tanh(g))
		default:
			x[j] = float32(3 * g)
		}
	}
	return x
}

func BenchmarkElementwise(b *testing.B) {
	const n = benchRows * benchCols
	op := &ir.Op{Attrs: ir.Attrs{}}
	for _, kind := range slices.Sorted(func(yield func(string) bool) {
		for k := range unaryLoops {
			if !yield(k) {
				return
			}
		}
	}) {
		loop := unaryLoops[kind]
		b.Run(fmt.Sprintf("%s/%dx%d", kind, benchRows, benchCols), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			x, dst := benchOperand(r, kind, 0, n), make([]float32, n)
			for b.Loop() {
				loop(dst, x, op)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/element")
		})
	}
	for _, kind := range slices.Sorted(func(yield func(string) bool) {
		for k := range pairLoops {
			if !yield(k) {
				return
			}
		}
	}) {
		loop := pairLoops[kind]
		b.Run(fmt.Sprintf("%s/%dx%d", kind, benchRows, benchCols), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			x, y, dst := benchOperand(r, kind, 0, n), benchOperand(r, kind, 1, n), make([]float32, n)
			for b.Loop() {
				loop(dst, x, y, op)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/element")
		})
	}
}
