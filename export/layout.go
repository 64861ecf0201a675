package export

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/checkpoint"
)

// Layout is how a variable is stored in torch's state_dict, relative to dlc's checkpoint.
// The names are the same in both (Enc.dense0.weight); only a dense layer's weight moves:
// dlc multiplies x·W with W [in, out], torch's nn.Linear computes x·Wᵀ with W [out, in].
// Convolution weights are already torch's ([out, in, kh, kw]; a transposed convolution's
// [in, out, kh, kw]), and biases, batch-norm weights and running statistics are vectors.
type Layout int

const (
	LayoutSame       Layout = iota // the same array
	LayoutLinear                   // nn.Linear.weight: dlc's [in, out] transposed to [out, in]
	LayoutLinearBias               // nn.Linear.bias: the same array, held by the Linear
)

// Layouts maps every parameter and state of a module to its layout.
type Layouts map[string]Layout

// LayoutsOf decides the layouts of m's variables. A 2-d parameter named *.weight becomes an
// nn.Linear's when some function multiplies by it on the right (x·W, W not transposed):
// every other use reads the Linear's weight transposed back. Its *.bias, when it is a
// vector of the Linear's width, is the Linear's bias.
func LayoutsOf(m *ir.Module) Layouts {
	lay := Layouts{}
	for _, v := range append(m.Params(), m.States()...) {
		lay[v.Attrs.String("name")] = LayoutSame
	}
	width := map[string]ir.Dim{}
	for _, f := range m.Funcs {
		for _, o := range f.Ops {
			if o.Kind != "matmul" || o.Attrs.Bool("tb") {
				continue
			}
			w := o.Args[1]
			if n := w.Attrs.String("name"); w.Kind == "param" && strings.HasSuffix(n, ".weight") && len(w.Type.Shape) == 2 {
				lay[n] = LayoutLinear
				width[n] = w.Type.Shape[1]
			}
		}
	}
	for _, v := range m.Params() {
		n := v.Attrs.String("name")
		if !strings.HasSuffix(n, ".bias") || len(v.Type.Shape) != 1 {
			continue
		}
		w := strings.TrimSuffix(n, "bias") + "weight"
		if d, ok := width[w]; ok && lay[w] == LayoutLinear && d.Equal(v.Type.Shape[0]) {
			lay[n] = LayoutLinearBias
		}
	}
	return lay
}

// ToTorch returns dlc's variables in torch's layout.
func ToTorch(vars map[string]checkpoint.Tensor, lay Layouts) map[string]checkpoint.Tensor {
	out := make(map[string]checkpoint.Tensor, len(vars))
	for n, t := range vars {
		if lay[n] == LayoutLinear && len(t.Shape) == 2 {
			t = transpose2(t)
		}
		out[n] = t
	}
	return out
}

// transpose2 returns the transpose of a matrix.
func transpose2(t checkpoint.Tensor) checkpoint.Tensor {
	r, c := t.Shape[0], t.Shape[1]
	d := make([]float32, len(t.Data))
	for i := range r {
		for j := range c {
			d[j*r+i] = t.Data[i*c+j]
		}
	}
	return checkpoint.Tensor{Shape: []int{c, r}, Data: d}
}

// Mapping is what FromTorch made of a torch state_dict.
type Mapping struct {
	Vars       map[string]checkpoint.Tensor // dlc's variables, in dlc's layout
	Renamed    map[string]string            // torch name → dlc name, where they differ
	Transposed []string                     // the dense weights turned back to [in, out]
	Unmapped   []string                     // torch tensors that are no variable of the model
	Missing    []string                     // the model's variables the file does not hold
	Misshapen  []string                     // name (got …, want …)
}

// FromTorch maps a torch state_dict back onto m's variables. A name is the variable's
// name, or it with a prefix torch adds (module. of DistributedDataParallel, _orig_mod. of
// torch.compile, or a block's own prefix dropped by saving one nn.Module's state_dict).
// Tensors torch keeps that dlc does not (batch norm's num_batches_tracked) are reported
// as unmapped, not refused.
func FromTorch(ts map[string]checkpoint.Tensor, m *ir.Module) Mapping {
	lay := LayoutsOf(m)
	want := map[string][]int{}
	for _, v := range append(m.Params(), m.States()...) {
		s, _ := v.Type.Shape.Eval(nil)
		want[v.Attrs.String("name")] = s
	}
	mp := Mapping{Vars: map[string]checkpoint.Tensor{}, Renamed: map[string]string{}}
	owners := map[string]bool{}
	for n := range want {
		o, _, _ := strings.Cut(n, ".")
		owners[o] = true
	}
	for _, tn := range sortedKeys(ts) {
		n := tn
		for _, p := range []string{"module.", "_orig_mod."} {
			n = strings.TrimPrefix(n, p)
		}
		if _, ok := want[n]; !ok && len(owners) == 1 {
			for o := range owners {
				if _, ok := want[o+"."+n]; ok {
					n = o + "." + n
				}
			}
		}
		s, ok := want[n]
		if !ok {
			mp.Unmapped = append(mp.Unmapped, tn)
			continue
		}
		if _, dup := mp.Vars[n]; dup {
			mp.Unmapped = append(mp.Unmapped, tn+" (a second tensor for "+n+")")
			continue
		}
		t := ts[tn]
		if lay[n] == LayoutLinear && len(t.Shape) == 2 {
			t = transpose2(t)
			mp.Transposed = append(mp.Transposed, n)
		}
		if !slices.Equal(t.Shape, s) {
			got := t.Shape
			if lay[n] == LayoutLinear && len(got) == 2 {
				got = []int{got[1], got[0]}
			}
			mp.Misshapen = append(mp.Misshapen, fmt.Sprintf("%s (got %v, want %v)", tn, got, torchShape(s, lay[n])))
			continue
		}
		if n != tn {
			mp.Renamed[tn] = n
		}
		mp.Vars[n] = t
	}
	for _, n := range sortedKeys(want) {
		if _, ok := mp.Vars[n]; !ok {
			mp.Missing = append(mp.Missing, n)
		}
	}
	return mp
}

// torchShape is a variable's shape in torch's layout.
func torchShape(s []int, l Layout) []int {
	if l == LayoutLinear && len(s) == 2 {
		return []int{s[1], s[0]}
	}
	return s
}

// Finite returns the name of a tensor holding a NaN or an infinity, or "".
func Finite(ts map[string]checkpoint.Tensor) string {
	for _, n := range sortedKeys(ts) {
		for _, v := range ts[n].Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return n
			}
		}
	}
	return ""
}

// Tensor is a float32 array in C order, as a checkpoint holds it.
type Tensor = checkpoint.Tensor
