package train

import (
	"fmt"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
)

// A latent traversal shows what each dimension of an autoencoder's code means: one code
// (the prior's mean, zeros, or the code of a sample), and for each chosen dimension a row
// of decodings as that dimension alone goes from lo to hi, the others fixed.

// MaxTraverseSteps bounds the columns of a traversal: beyond it a picture shows nothing
// more, and the decodings (a row per dimension) grow with it.
const MaxTraverseSteps = 64

// Traversal is the codes a traversal decodes and their decodings: row r, column c is
// Dims[r] set to Values[c].
type Traversal struct {
	Dims   []int
	Values []float64
	Codes  *runtime.Tensor // [len(Dims)·len(Values), K]
	Images Images          // the decodings, in the same order
}

// Traverse decodes base (nil: the zero code, a VAE prior's mean) with each of dims varied
// over steps values evenly from lo to hi. dims nil takes every dimension of the code.
func (t *Trainer) Traverse(base []float32, dims []int, lo, hi float64, steps int) (Traversal, error) {
	fn, err := t.RoleFunc(ir.RoleDecode)
	if err != nil {
		return Traversal{}, err
	}
	f := t.Module.Func(fn)
	if f == nil || len(f.Inputs) != 1 || len(f.Inputs[0].Type.Shape) != 2 || !f.Inputs[0].Type.Shape[1].IsConst() {
		return Traversal{}, fmt.Errorf("%s: a traversal decodes codes [B, K]; this decoder takes %s", fn, inputList(f))
	}
	k := f.Inputs[0].Type.Shape[1].Coef
	if base == nil {
		base = make([]float32, k)
	}
	if len(base) != k {
		return Traversal{}, fmt.Errorf("the code traversed has %d values, %s takes %d", len(base), fn, k)
	}
	if dims == nil {
		for d := range k {
			dims = append(dims, d)
		}
	}
	for _, d := range dims {
		if d < 0 || d >= k {
			return Traversal{}, fmt.Errorf("--dims: code dimension %d, want one of 0 to %d (%s takes codes of %d)", d, k-1, fn, k)
		}
	}
	if steps < 2 || steps > MaxTraverseSteps || !(lo < hi) {
		return Traversal{}, fmt.Errorf("a traversal of %d steps from %v to %v, want 2 to %d steps and lo < hi", steps, lo, hi, MaxTraverseSteps)
	}
	tv := Traversal{Dims: dims}
	for c := range steps {
		tv.Values = append(tv.Values, lo+(hi-lo)*float64(c)/float64(steps-1))
	}
	n := len(dims) * steps
	tv.Codes = runtime.NewTensor(n, k)
	for r, d := range dims {
		for c, v := range tv.Values {
			row := tv.Codes.Data[(r*steps+c)*k:][:k]
			copy(row, base)
			row[d] = float32(v)
		}
	}
	out, err := t.ApplyRows(fn, []Rows{{Input: f.Inputs[0].Attrs.String("name"), From: "the traversed codes", T: tv.Codes}}, n)
	if err != nil {
		return Traversal{}, err
	}
	tv.Images = Images{T: out}
	return tv, nil
}

// EncodeOne is the code of row i (source names the .dl file in messages) of the train block's data set which (train or test), by
// the encode role (a VAE's μ).
func (t *Trainer) EncodeOne(source, which string, i int, o DataOptions) ([]float32, error) {
	fn, err := t.RoleFunc(ir.RoleEncode)
	if err != nil {
		return nil, err
	}
	rs, err := t.FuncRows(fn, RowFeed{Which: which, N: i + 1, Data: o, Source: source})
	if err != nil {
		return nil, err
	}
	if rs[0].T.Shape[0] <= i {
		return nil, fmt.Errorf("the %s set has %d samples, want more than %d", which, rs[0].T.Shape[0], i)
	}
	code, err := t.ApplyRows(fn, rs, i+1)
	if err != nil {
		return nil, err
	}
	k := len(code.Data) / code.Shape[0]
	return code.Data[i*k : (i+1)*k], nil
}
