package train

import (
	"fmt"
	"github.com/dlc-lang/dlc/ir"
	"math/rand/v2"

	"github.com/dlc-lang/dlc/runtime"
)

// Sampling from a generative family: the family's "sample" function maps a noise batch
// (and, for a conditional model, one-hot labels) to samples. The noise comes from the
// distribution the train spec's Noise names: normal, or uniform on [-1, 1].

// Sample draws n samples from the family's sample function with noise from rng. labels,
// when the function takes a condition, gives each sample's class (nil: i mod the class
// count). The result is the function's output, [n, …].
func (t *Trainer) Sample(n int, rng *rand.Rand, labels []int) (Images, error) {
	fn, ok := t.Spec.Role(ir.RoleSample)
	if !ok {
		return Images{}, fmt.Errorf("runtime: this model has nothing to sample from (only generative families do)")
	}
	f := t.Module.Func(fn)
	if f == nil || len(f.Inputs) == 0 {
		return Images{}, fmt.Errorf("runtime: no sample function %s", fn)
	}
	p, err := t.Program(fn)
	if err != nil {
		return Images{}, err
	}
	inputs := map[string]*runtime.Tensor{}
	for i, in := range f.Inputs {
		shape, err := sampleShape(in.Type.Shape, n)
		if err != nil {
			return Images{}, fmt.Errorf("runtime: input %s of %s: %v", in.Name, fn, err)
		}
		x := runtime.NewTensor(shape...)
		switch {
		case i == 0: // the noise
			if t.Spec.Noise == ir.NoiseUniform {
				for j := range x.Data {
					x.Data[j] = float32(2*rng.Float64() - 1)
				}
			} else {
				for j := range x.Data {
					x.Data[j] = float32(rng.NormFloat64())
				}
			}
		default: // a one-hot condition
			classes := len(x.Data) / n
			for j := 0; j < n; j++ {
				c := j % classes
				if labels != nil {
					c = labels[j%len(labels)]
				}
				if c < 0 || c >= classes {
					return Images{}, fmt.Errorf("label %d out of range: the model has %d classes", c, classes)
				}
				x.Data[j*classes+c] = 1
			}
		}
		inputs[in.Name] = x
	}
	outs, err := p.Run(inputs, t.Vars)
	if err != nil {
		return Images{}, err
	}
	return Images{T: outs["out"]}, nil
}

// Images is a batch of samples [n, …] read as n pictures.
type Images struct{ T *runtime.Tensor }

// Rows returns each sample's values.
func (im Images) Rows() [][]float32 {
	n := im.T.Shape[0]
	row := len(im.T.Data) / max(n, 1)
	out := make([][]float32, n)
	for i := range out {
		out[i] = im.T.Data[i*row : (i+1)*row]
	}
	return out
}

// ImageSize returns the height and width of one picture: the last two dimensions of a
// [n, C, H, W] or [n, H, W] batch, or the nearest square of a flat [n, F] one.
func (im Images) ImageSize() (int, int) {
	s := im.T.Shape
	if len(s) >= 3 {
		h, w := s[len(s)-2], s[len(s)-1]
		c := 1
		for _, d := range s[1 : len(s)-2] {
			c *= d
		}
		return h * c, w // channels stacked vertically
	}
	return squareSize(len(im.T.Data) / max(s[0], 1))
}
