package runtime

import (
	"math"
	"slices"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

func drawProgram(t *testing.T, kind string, attrs ir.Attrs) *Program {
	t.Helper()
	f := ir.NewFunc("draw")
	b := ir.NewBuilder(f)
	b.Input("x", ir.F32(ir.Shape{ir.Sym("B"), ir.Const(1)}))
	attrs["shape"] = ir.Shape{ir.Sym("B"), ir.Const(1000)}
	f.Outputs = []ir.Output{{Name: "out", Value: b.Op(kind, attrs)}}
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	p, err := Compile(f)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func runDraw(t *testing.T, p *Program) []float32 {
	t.Helper()
	out, err := p.Run(map[string]*Tensor{"x": NewTensor(4, 1)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out["out"].Data
}

// TestDraws checks each distribution's moments, that a program draws afresh at every run,
// that the same seed repeats the same sequence bit for bit, and that another seed or stream
// gives other numbers.
func TestDraws(t *testing.T) {
	for _, tc := range []struct {
		kind      string
		attrs     ir.Attrs
		mean, std float64
	}{
		{"random_normal", ir.Attrs{"mean": 2.0, "std": 3.0}, 2, 3},
		{"random_uniform", ir.Attrs{"low": -1.0, "high": 1.0}, 0, 1 / math.Sqrt(3)},
		{"random_bernoulli", ir.Attrs{"p": 0.25}, 0.25, math.Sqrt(0.25 * 0.75)},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			mk := func(seed uint64, stream int) *Program {
				a := tc.attrs.Clone()
				a["stream"] = stream
				p := drawProgram(t, tc.kind, a)
				p.Seed = seed
				return p
			}
			p := mk(1, 1)
			first, second := slices.Clone(runDraw(t, p)), slices.Clone(runDraw(t, p))
			if slices.Equal(first, second) {
				t.Error("two runs drew the same numbers, want a fresh draw per run")
			}
			again := mk(1, 1)
			if !slices.Equal(first, runDraw(t, again)) || !slices.Equal(second, runDraw(t, again)) {
				t.Error("the same seed and stream did not repeat the same draws")
			}
			if slices.Equal(first, runDraw(t, mk(2, 1))) || slices.Equal(first, runDraw(t, mk(1, 2))) {
				t.Error("another seed or stream gave the same draws")
			}
			var sum, sq float64
			for _, v := range first {
				sum += float64(v)
			}
			mean := sum / float64(len(first))
			for _, v := range first {
				sq += (float64(v) - mean) * (float64(v) - mean)
			}
			std := math.Sqrt(sq / float64(len(first)))
			// 4000 draws: the sample mean is within 4 standard errors of the true one.
			if se := tc.std / math.Sqrt(float64(len(first))); math.Abs(mean-tc.mean) > 4*se || math.Abs(std-tc.std) > 0.1*tc.std {
				t.Errorf("mean %.4f, std %.4f; want %.4f, %.4f", mean, std, tc.mean, tc.std)
			}
		})
	}
}
