package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"

	"github.com/dlc-lang/dlc/ir"
)

// convGradCases are the finite-difference cases of the image ops, for gradCases: odd
// sizes, stride 2, padding, batch 1 and 3, non-square inputs and rectangular kernels.
func convGradCases() []gradCase {
	conv := func(s, p int) ir.Attrs { return ir.Attrs{"stride": s, "pad": p} }
	tconv := func(s, p, op int) ir.Attrs { return ir.Attrs{"stride": s, "pad": p, "output_pad": op} }
	pool := func(k, s, p int) ir.Attrs { return ir.Attrs{"kernel": k, "stride": s, "pad": p} }
	up := func(s int, mode string) ir.Attrs { return ir.Attrs{"scale": s, "mode": mode} }
	// Max pooling is differentiable only away from ties, so its inputs are distinct values
	// further apart than twice the finite-difference step.
	spread := []valueGen{distinct()}
	return []gradCase{
		{name: "conv2d/k3s1p0", kind: "conv2d", attrs: conv(1, 0), in: []ir.Shape{S(1, 1, 4, 4), S(2, 1, 3, 3)}},
		{name: "conv2d/k3s2p1/b3/7x5", kind: "conv2d", attrs: conv(2, 1), in: []ir.Shape{S(3, 2, 7, 5), S(3, 2, 3, 3)}},
		{name: "conv2d/k3x2s1p1/5x6", kind: "conv2d", attrs: conv(1, 1), in: []ir.Shape{S(1, 2, 5, 6), S(2, 2, 3, 2)}},
		{name: "conv2d/k4s2p1", kind: "conv2d", attrs: conv(2, 1), in: []ir.Shape{S(1, 2, 6, 6), S(2, 2, 4, 4)}},
		{name: "conv2d/k1/b3", kind: "conv2d", attrs: conv(1, 0), in: []ir.Shape{S(3, 3, 3, 2), S(2, 3, 1, 1)}},
		// slack: the input has a row and a column past the last window, as the input gradient
		// of a transposed convolution with output_pad 1 has.
		{name: "conv2d/k3s2p1/slack1", kind: "conv2d", attrs: ir.Attrs{"stride": 2, "pad": 1, "slack": 1}, in: []ir.Shape{S(1, 2, 6, 4), S(2, 2, 3, 3)}},
		{name: "conv_transpose2d/k3s1p0", kind: "conv_transpose2d", attrs: tconv(1, 0, 0), in: []ir.Shape{S(1, 2, 3, 3), S(2, 2, 3, 3)}},
		{name: "conv_transpose2d/k4s2p1/b3/3x2", kind: "conv_transpose2d", attrs: tconv(2, 1, 0), in: []ir.Shape{S(3, 2, 3, 2), S(2, 1, 4, 4)}},
		{name: "conv_transpose2d/k3s2p1op1", kind: "conv_transpose2d", attrs: tconv(2, 1, 1), in: []ir.Shape{S(1, 2, 3, 2), S(2, 3, 3, 3)}},
		{name: "conv2d_weight_grad/k3s2p1", kind: "conv2d_weight_grad", attrs: ir.Attrs{"stride": 2, "pad": 1, "kernel": []int{3, 3}},
			in: []ir.Shape{S(2, 2, 5, 5), S(2, 3, 3, 3)}},
		{name: "conv2d_weight_grad/k2x3s1p0/4x5", kind: "conv2d_weight_grad", attrs: ir.Attrs{"stride": 1, "pad": 0, "kernel": []int{2, 3}},
			in: []ir.Shape{S(1, 1, 4, 5), S(1, 2, 3, 3)}},
		{name: "conv2d_weight_grad/k3s2p1/slack1", kind: "conv2d_weight_grad", attrs: ir.Attrs{"stride": 2, "pad": 1, "slack": 1, "kernel": []int{3, 3}},
			in: []ir.Shape{S(2, 1, 6, 4), S(2, 2, 3, 2)}},
		{name: "max_pool2d/k2s2", kind: "max_pool2d", attrs: pool(2, 2, 0), in: []ir.Shape{S(2, 2, 4, 4)}, gen: spread},
		{name: "max_pool2d/k3s2p1/5x7", kind: "max_pool2d", attrs: pool(3, 2, 1), in: []ir.Shape{S(1, 2, 5, 7)}, gen: []valueGen{distinct()}},
		{name: "max_pool2d/k2s1/b3/4x5", kind: "max_pool2d", attrs: pool(2, 1, 0), in: []ir.Shape{S(3, 1, 4, 5)}, gen: []valueGen{distinct()}},
		{name: "upsample2d/nearest", kind: "upsample2d", attrs: up(2, "nearest"), in: []ir.Shape{S(2, 2, 3, 2)}},
		{name: "upsample2d/bilinear/3x4", kind: "upsample2d", attrs: up(2, "bilinear"), in: []ir.Shape{S(1, 2, 3, 4)}},
		{name: "upsample2d/bilinear/s3/b3", kind: "upsample2d", attrs: up(3, "bilinear"), in: []ir.Shape{S(3, 1, 2, 3)}},
		{name: "upsample2d_grad/nearest", kind: "upsample2d_grad", attrs: up(2, "nearest"), in: []ir.Shape{S(1, 2, 4, 6)}},
		{name: "upsample2d_grad/bilinear", kind: "upsample2d_grad", attrs: up(2, "bilinear"), in: []ir.Shape{S(2, 1, 6, 4)}},
	}
}

// distinct returns a generator of values 0.01 apart in a random order, in [-1, 1) for up to
// 200 draws; it repeats after that, so a case using it stays under 200 elements.
func distinct() valueGen {
	var perm []int
	i := 0
	return func(r *rand.Rand) float32 {
		if perm == nil {
			perm = r.Perm(200)
		}
		v := float32(perm[i%len(perm)]-100) / 100
		i++
		return v
	}
}

// TestConvNetGradient checks ir.Grad through a chain of every image op, as a convolutional
// autoencoder uses them: conv2d (stride 2, pad 1), leaky_relu, max_pool2d, bilinear
// upsample2d, and conv_transpose2d with output_pad 1, whose gradient takes the slack path.
// The gradients of both weights and of the input are compared with finite differences of
// the whole chain.
func TestConvNetGradient(t *testing.T) {
	f := ir.NewFunc("net")
	b := ir.NewBuilder(f)
	x := b.Input("x", ir.F32(S(2, 1, 7, 7)))
	w1 := b.Input("w1", ir.F32(S(3, 1, 3, 3)))
	w2 := b.Input("w2", ir.F32(S(3, 2, 3, 3)))
	h := b.Op("conv2d", ir.Attrs{"stride": 2, "pad": 2}, x, w1) // [2, 3, 5, 5]
	h = b.Op("leaky_relu", ir.Attrs{"alpha": 0.1}, h)
	h = b.Op("max_pool2d", ir.Attrs{"kernel": 3, "stride": 2, "pad": 1}, h)                // [2, 3, 3, 3]
	h = b.Op("upsample2d", ir.Attrs{"scale": 2, "mode": "bilinear"}, h)                    // [2, 3, 6, 6]
	y := b.Op("conv_transpose2d", ir.Attrs{"stride": 2, "pad": 2, "output_pad": 1}, h, w2) // [2, 2, 10, 10]
	tw := b.Input("t", y.Type)
	loss := b.Op("sum", nil, b.Op("mul", nil, y, tw))
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	wrt := []*ir.Op{x, w1, w2}
	grads, err := ir.Grad(f, loss, wrt)
	if err != nil {
		t.Fatal(err)
	}
	f.Outputs = append(f.Outputs, ir.Output{Name: "loss", Value: loss})
	for i, g := range grads {
		f.Outputs = append(f.Outputs, ir.Output{Name: fmt.Sprintf("grad:%d", i), Value: g})
	}
	p, err := Compile(f)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(21, 3))
	in := map[string]*Tensor{}
	for _, o := range f.Inputs {
		in[o.Name] = randomTensor(t, r, o.Type.Shape, nil, awayFromZero)
	}
	res, err := p.Run(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range res { // the finite differences run p again, which reuses its buffers
		res[k] = v.Clone()
	}
	for i, o := range wrt {
		v := in[o.Name]
		got := res[fmt.Sprintf("grad:%d", i)]
		at := make([]float64, len(v.Data))
		for k, e := range v.Data {
			at[k] = float64(e)
		}
		want := fd.Gradient(nil, func(u []float64) float64 {
			for k := range u {
				v.Data[k] = float32(u[k])
			}
			out, err := p.Run(in, nil)
			if err != nil {
				t.Fatal(err)
			}
			return float64(out["loss"].Data[0])
		}, at, &fd.Settings{Formula: fd.Central, Step: 1e-3})
		for k := range at {
			v.Data[k] = float32(at[k])
		}
		for k := range want {
			if g := float64(got.Data[k]); math.Abs(g-want[k]) > 2e-3+1e-2*math.Abs(want[k]) {
				t.Errorf("d loss / d %s[%d]: got %.6g, finite difference %.6g", o.Name, k, g, want[k])
			}
		}
	}
}
