package train

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
)

// BenchmarkOptimizerStep times one Step over the parameters of an MNIST autoencoder
// (784-256-64-256-784, 435,536 floats),
// after a first step so that the state exists.
func BenchmarkOptimizerStep(b *testing.B) {
	widths := []int{784, 256, 64, 256, 784}
	for _, spec := range []ir.OptSpec{
		{Name: "adam", Args: map[string]float64{"lr": 1e-3}},
		{Name: "adamw", Args: map[string]float64{"lr": 1e-3}},
		{Name: "sgd", Args: map[string]float64{"lr": 0.1, "momentum": 0.9, "nesterov": 1, "weight_decay": 1e-4}},
	} {
		b.Run(spec.Name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(5, 6))
			params, grads := map[string]*runtime.Tensor{}, map[string]*runtime.Tensor{}
			total := 0
			for i := 1; i < len(widths); i++ {
				for _, shape := range [][]int{{widths[i-1], widths[i]}, {widths[i]}} {
					name := fmt.Sprintf("l%d.%d", i, len(shape))
					params[name], grads[name] = randomFilled(r, shape), randomFilled(r, shape)
					total += len(params[name].Data)
				}
			}
			opt, err := NewOptimizer(spec)
			if err != nil {
				b.Fatal(err)
			}
			if err := opt.Step(params, grads); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := opt.Step(params, grads); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(total), "ns/element")
		})
	}
}

// randomFilled is runtime's kernel-test helper: k/4 for 1 ≤ |k| ≤ 9, drawn from r.
func randomFilled(r *rand.Rand, shape []int) *runtime.Tensor {
	x := runtime.NewTensor(shape...)
	for i := range x.Data {
		x.Data[i] = float32(r.IntN(9)+1) * float32(1-2*r.IntN(2)) / 4
	}
	return x
}
