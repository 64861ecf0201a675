package runtime

import (
	"math/rand/v2"
	"testing"
)

// Benchmarks: the four convolutions of the DCGAN example on MNIST at batch 64, forward and
// both gradients. A transposed convolution runs the loops of the convolution whose input
// gradient it is, so each layer names the loop it calls for each pass.

type convBench struct {
	name      string
	g         convGeom // the geometry the loops see
	transpose bool     // the layer is a transposed convolution over g: forward is the adjoint
}

var dcganLayers = []convBench{
	{"D.conv1_1to64_28x28", geom(64, 1, 28, 28, 64, 4, 4, 2, 1), false},
	{"D.conv2_64to128_14x14", geom(64, 64, 14, 14, 128, 4, 4, 2, 1), false},
	// conv_transpose2d(x [64, 128, 7, 7], w [128, 64, 4, 4]) is the adjoint of a 64 → 128
	// convolution of 14×14 images.
	{"G.deconv1_128to64_7x7", geom(64, 64, 14, 14, 128, 4, 4, 2, 1), true},
	{"G.deconv2_64to1_14x14", geom(64, 1, 28, 28, 64, 4, 4, 2, 1), true},
}

func BenchmarkConv(b *testing.B) {
	for _, l := range dcganLayers {
		g := l.g
		r := rand.New(rand.NewPCG(1, 2))
		big := randomSlice(r, g.b*g.c*g.h*g.w)     // the convolution's input side
		small := randomSlice(r, g.b*g.o*g.ho*g.wo) // its output side
		w := randomSlice(r, g.o*g.ckk())
		bigOut, smallOut, wOut := make([]float32, len(big)), make([]float32, len(small)), make([]float32, len(w))
		passes := []struct {
			name string
			run  func()
		}{
			{"forward", func() { conv2dForward(smallOut, big, w, g) }},
			{"grad_input", func() { conv2dAdjoint(bigOut, small, w, g) }},
			{"grad_weight", func() { conv2dWeightGrad(wOut, big, small, g) }},
		}
		if l.transpose {
			// Forward is the adjoint; the input gradient is the convolution; the weight
			// gradient correlates the output gradient (the big side) with the input.
			passes[0].run, passes[1].run = passes[1].run, passes[0].run
		}
		for _, p := range passes {
			b.Run(l.name+"/"+p.name, func(b *testing.B) {
				for b.Loop() {
					p.run()
				}
				b.ReportMetric(g.flops()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/op")
			})
		}
	}
}
