package train

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
)

// Sampling from a generative family: the family's "sample" function maps a noise batch
// (and, for a conditional model, one-hot labels, or whatever rows a file gives) to samples. The noise comes from the
// distribution the train spec's Noise names: normal, or uniform on [-1, 1].

// Sample draws n samples from the family's sample function with noise from rng. labels,
// when the function takes a condition, gives each sample's class (nil: i mod the class
// count). The result is the function's output, [n, …].
func (t *Trainer) Sample(n int, rng *rand.Rand, labels []int) (Images, error) {
	return t.SampleFrom(n, rng, labels, nil)
}

// SampleFrom is Sample with some of the function's inputs read from files (dlc sample
// --in y=labels.npy): each file's first n rows (all of them when n ≤ 0, which then is
// their number) feed its input, and only the other inputs are drawn (the first, the
// noise) or made from labels (a one-hot condition).
func (t *Trainer) SampleFrom(n int, rng *rand.Rand, labels []int, files []InputFile) (Images, error) {
	fn, ok := t.Spec.Role(ir.RoleSample)
	if !ok {
		return Images{}, fmt.Errorf("runtime: this model has nothing to sample from (only generative families do)")
	}
	f := t.Module.Func(fn)
	if f == nil || len(f.Inputs) == 0 {
		return Images{}, fmt.Errorf("runtime: no sample function %s", fn)
	}
	given, n, err := sampleFiles(f, files, n)
	if err != nil {
		return Images{}, err
	}
	rs := make([]Rows, len(f.Inputs))
	var classes []int // the condition's classes, when it is one input of one-hot rows
	for i, in := range f.Inputs {
		if r, ok := given[in.Name]; ok {
			if i > 0 && labels != nil {
				return Images{}, fmt.Errorf("--label and %s both give input %s of %s", r.From, in.Name, fn)
			}
			rs[i] = r
			if i == 1 && len(f.Inputs) == 2 {
				classes = oneHotClasses(r.T.Data, n)
			}
			continue
		}
		shape, err := sampleShape(in.Type.Shape, n)
		if err != nil {
			return Images{}, fmt.Errorf("runtime: input %s of %s: %v", in.Name, fn, err)
		}
		x := runtime.NewTensor(shape...)
		if i == 0 {
			t.drawNoise(x.Data, rng)
		} else if err := labelRows(x.Data, n, labels); err != nil {
			return Images{}, err
		} else if len(f.Inputs) == 2 {
			classes = oneHotClasses(x.Data, n)
		}
		rs[i] = Rows{Input: in.Name, From: "the drawn " + in.Name, T: x}
	}
	out, err := t.ApplyRows(fn, rs, n)
	if err != nil {
		return Images{}, err
	}
	return Images{T: out, Labels: classes}, nil
}

// sampleFiles reads the files given for inputs of f, each cut to its first n rows; n ≤ 0
// takes the rows of the first, which every other must have as well.
func sampleFiles(f *ir.Func, files []InputFile, n int) (map[string]Rows, int, error) {
	byInput, err := inputFiles(f, files)
	if err != nil {
		return nil, 0, err
	}
	out := map[string]Rows{}
	for _, file := range files {
		x, err := ReadNPY(file.Path)
		if err != nil {
			return nil, 0, err
		}
		if len(x.Shape) == 0 || x.Shape[0] == 0 {
			return nil, 0, fmt.Errorf("%s: no rows (shape %s)", file, runtime.ShapeString(x.Shape))
		}
		if n <= 0 {
			n = x.Shape[0]
		}
		if x.Shape[0] < n {
			return nil, 0, fmt.Errorf("%s has %d rows, fewer than the %d samples", file, x.Shape[0], n)
		}
		name := file.Name
		if name == "" {
			name = f.Inputs[0].Name
		}
		out[name] = Rows{Input: name, From: byInput[name].String(), T: firstRows(x, n)}
	}
	if n <= 0 {
		return nil, 0, fmt.Errorf("runtime: no sample count and no input files to take it from")
	}
	return out, n, nil
}

// drawNoise fills x from the train spec's noise: normal, or uniform on [-1, 1].
func (t *Trainer) drawNoise(x []float32, rng *rand.Rand) {
	if t.Spec.Noise == ir.NoiseUniform {
		for j := range x {
			x[j] = float32(2*rng.Float64() - 1)
		}
		return
	}
	for j := range x {
		x[j] = float32(rng.NormFloat64())
	}
}

// labelRows fills x, n one-hot rows, with labels cycled (nil: row i has class i mod the
// class count).
func labelRows(x []float32, n int, labels []int) error {
	classes := len(x) / n
	for j := 0; j < n; j++ {
		c := j % classes
		if labels != nil {
			c = labels[j%len(labels)]
		}
		if c < 0 || c >= classes {
			return fmt.Errorf("label %d out of range: the model has %d classes", c, classes)
		}
		x[j*classes+c] = 1
	}
	return nil
}

// Images is a batch of samples [n, …] read as n pictures; Labels, when not nil, is each
// sample's class: the condition a conditional generator was given (one-hot rows).
type Images struct {
	T      *runtime.Tensor
	Labels []int
}

// oneHotClasses returns the class of each of x's n rows when every row is one-hot (a
// single 1, the rest 0), else nil: a condition that is a class, not an embedding.
func oneHotClasses(x []float32, n int) []int {
	k := len(x) / max(n, 1)
	out := make([]int, n)
	for j := range n {
		ones := 0
		for c, v := range x[j*k : (j+1)*k] {
			switch v {
			case 1:
				ones++
				out[j] = c
			case 0:
			default:
				return nil
			}
		}
		if ones != 1 {
			return nil
		}
	}
	return out
}

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
