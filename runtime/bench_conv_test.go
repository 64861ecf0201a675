package runtime

import (
	"math/rand/v2"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

// Benchmarks: the four convolutions of the DCGAN example on MNIST at batch 64, forward and
// both gradients, each through the kernel its gradient rule emits. GFLOP/s counts
// 2·B·O·Ho·Wo·C·kh·kw per pass, the same for all three.

type convLayer struct {
	name      string
	transpose bool // a conv_transpose2d layer
	x, w      []int
	stride    int
	pad       int
}

var dcganLayers = []convLayer{
	{"D.conv1_1to64_28x28", false, []int{64, 1, 28, 28}, []int{64, 1, 4, 4}, 2, 1},
	{"D.conv2_64to128_14x14", false, []int{64, 64, 14, 14}, []int{128, 64, 4, 4}, 2, 1},
	{"G.deconv1_128to64_7x7", true, []int{64, 128, 7, 7}, []int{128, 64, 4, 4}, 2, 1},
	{"G.deconv2_64to1_14x14", true, []int{64, 64, 14, 14}, []int{64, 1, 4, 4}, 2, 1},
}

// convAELayers are the five convolutions of examples/autoencoder/conv.dl at batch 64: 3×3,
// stride 1, pad 1, which take the wide loops.
var convAELayers = []convLayer{
	{"AE.enc1_1to16_28x28", false, []int{64, 1, 28, 28}, []int{16, 1, 3, 3}, 1, 1},
	{"AE.enc2_16to8_14x14", false, []int{64, 16, 14, 14}, []int{8, 16, 3, 3}, 1, 1},
	{"AE.dec1_8to16_14x14", false, []int{64, 8, 14, 14}, []int{16, 8, 3, 3}, 1, 1},
	{"AE.dec2_16to16_28x28", false, []int{64, 16, 28, 28}, []int{16, 16, 3, 3}, 1, 1},
	{"AE.dec3_16to1_28x28", false, []int{64, 16, 28, 28}, []int{1, 16, 3, 3}, 1, 1},
}

func BenchmarkConv(b *testing.B) {
	c := &Ctx{Env: map[string]int{}}
	for _, l := range append(dcganLayers, convAELayers...) {
		r := rand.New(rand.NewPCG(1, 2))
		x, w := randomFilled(r, l.x), randomFilled(r, l.w)
		conv := ir.Attrs{"stride": l.stride, "pad": l.pad}
		tconv := ir.Attrs{"stride": l.stride, "pad": l.pad, "output_pad": 0}
		wgrad := ir.Attrs{"stride": l.stride, "pad": l.pad, "kernel": l.w[2:]}
		type pass struct {
			name, kind string
			attrs      ir.Attrs
			args       func(y *Tensor) []*Tensor
		}
		passes := []pass{
			{"forward", "conv2d", conv, func(*Tensor) []*Tensor { return []*Tensor{x, w} }},
			{"grad_input", "conv_transpose2d", tconv, func(dy *Tensor) []*Tensor { return []*Tensor{dy, w} }},
			{"grad_weight", "conv2d_weight_grad", wgrad, func(dy *Tensor) []*Tensor { return []*Tensor{x, dy} }},
		}
		if l.transpose {
			passes = []pass{
				{"forward", "conv_transpose2d", tconv, func(*Tensor) []*Tensor { return []*Tensor{x, w} }},
				{"grad_input", "conv2d", conv, func(dy *Tensor) []*Tensor { return []*Tensor{dy, w} }},
				{"grad_weight", "conv2d_weight_grad", wgrad, func(dy *Tensor) []*Tensor { return []*Tensor{dy, x} }},
			}
		}
		fwd := &ir.Op{Kind: passes[0].kind, Attrs: passes[0].attrs}
		y, err := kernels[fwd.Kind](c, fwd, []*Tensor{x, w})
		if err != nil {
			b.Fatal(err)
		}
		dy := randomFilled(r, y.Shape)
		// The convolution's own geometry: the large side is its input.
		in, out := l.x, y.Shape
		if l.transpose {
			in, out = y.Shape, l.x
		}
		flops := 2 * float64(out[0]*out[1]*out[2]*out[3]) * float64(in[1]*l.w[2]*l.w[3])
		for _, p := range passes {
			op := &ir.Op{Kind: p.kind, Attrs: p.attrs}
			args := p.args(dy)
			b.Run(l.name+"/"+p.name, func(b *testing.B) {
				cpu0 := cpuSeconds()
				for b.Loop() {
					if _, err := kernels[op.Kind](c, op, args); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/op")
				b.ReportMetric((cpuSeconds()-cpu0)*1e3/float64(b.N), "cpu-ms/op")
			})
		}
	}
}

// BenchmarkPoolUpsample: a convolutional autoencoder's 2× down- and upsampling of
// [64, 32, 28, 28] activations, forward and gradient.
func BenchmarkPoolUpsample(b *testing.B) {
	c := &Ctx{Env: map[string]int{}}
	r := rand.New(rand.NewPCG(3, 4))
	big, small := randomFilled(r, []int{64, 32, 28, 28}), randomFilled(r, []int{64, 32, 14, 14})
	pool := ir.Attrs{"kernel": 2, "stride": 2, "pad": 0}
	for _, p := range []struct {
		name, kind string
		attrs      ir.Attrs
		args       []*Tensor
	}{
		{"max_pool2d", "max_pool2d", pool, []*Tensor{big}},
		{"max_pool2d_grad", "max_pool2d_grad", pool, []*Tensor{small, big}},
		{"upsample2d/nearest", "upsample2d", ir.Attrs{"scale": 2, "mode": "nearest"}, []*Tensor{small}},
		{"upsample2d_grad/nearest", "upsample2d_grad", ir.Attrs{"scale": 2, "mode": "nearest"}, []*Tensor{big}},
		{"upsample2d/bilinear", "upsample2d", ir.Attrs{"scale": 2, "mode": "bilinear"}, []*Tensor{small}},
		{"upsample2d_grad/bilinear", "upsample2d_grad", ir.Attrs{"scale": 2, "mode": "bilinear"}, []*Tensor{big}},
	} {
		op := &ir.Op{Kind: p.kind, Attrs: p.attrs}
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := kernels[op.Kind](c, op, p.args); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/op")
		})
	}
}
