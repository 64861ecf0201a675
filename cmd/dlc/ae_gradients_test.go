package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/runtime"
	dlctrain "github.com/dlc-lang/dlc/runtime/train"
)

// TestContractivePenalty checks the contractive penalty for each supported activation, for
// one layer (the closed form) and for stacks (per-sample Jacobians multiplied out), twice
// over: its value against ‖∂h/∂x‖²_F from a Jacobian taken by central differences of
// AE.encode, and the gradient AE.step computes of a loss it dominates against central
// differences of AE.loss in every weight and bias of the encoder.
func TestContractivePenalty(t *testing.T) {
	cases := map[string]string{
		"linear":           "dense(x, 3)",
		"deep":             "tanh(dense(sigmoid(dense(leaky_relu(dense(x, 4), 0.1), 6)), 3))",
		"deep_relu_linear": "relu(dense(linear(x, 4), 3))",
	}
	for _, act := range []string{"sigmoid", "tanh", "relu", "leaky_relu"} {
		cases[act] = act + "(dense(x, 3))"
		cases[act+"_2"] = act + "(dense(" + act + "(dense(x, 4)), 3))"
	}
	for name, code := range cases {
		t.Run(name, func(t *testing.T) {
			src := fmt.Sprintf(`encoder E(x: [B, 5]) -> [B, 3] {
    return %s
}
decoder D(z: [B, 3]) -> [B, 5] {
    return dense(z, 5)
}
autoencoder AE(enc: E, dec: D) {
    loss        = mse
    contractive = 4
}
train AE {
    data = mnist(split: "train")
}
`, code)
			m, _, err := compiler.Compile("cae.dl", []byte(src), compiler.Options{Optimize: true})
			if err != nil {
				t.Fatal(err)
			}
			tr, err := dlctrain.NewTrainer(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := tr.InitParams(11); err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(4, 4))
			x := runtime.NewTensor(4, 5)
			for i := range x.Data {
				x.Data[i] = float32(r.NormFloat64())
			}
			run := func(fn, out string) []float32 {
				p, err := tr.Program(fn)
				if err != nil {
					t.Fatal(err)
				}
				outs, err := p.Run(map[string]*runtime.Tensor{"x": x}, tr.Vars)
				if err != nil {
					t.Fatal(err)
				}
				return append([]float32(nil), outs[out].Data...)
			}
			// The penalty's value: mean over the batch of Σ (∂h_j/∂x_i)², by differences.
			const h = 1e-2
			var want float64
			for s := 0; s < 4; s++ {
				for i := 0; i < 5; i++ {
					k := s*5 + i
					orig := x.Data[k]
					x.Data[k] = orig + h
					up := run("AE.encode", "out")
					x.Data[k] = orig - h
					down := run("AE.encode", "out")
					x.Data[k] = orig
					for j := 0; j < 3; j++ {
						d := float64(up[s*3+j]-down[s*3+j]) / (2 * h)
						want += d * d / 4
					}
				}
			}
			got := float64(run("AE.loss", "metric:contractive")[0])
			if math.Abs(got-want) > 1e-2*math.Max(1, want) {
				t.Errorf("penalty %.5f, Jacobian by differences %.5f", got, want)
			}
			// Its gradient, in every encoder parameter, against differences of the loss.
			for _, name := range tr.Spec.Phases[0].Params {
				if !strings.HasPrefix(name, "E.") {
					continue
				}
				grad := run("AE.step", "grad:"+name)
				w := tr.Vars[name]
				for k := range w.Data {
					orig := w.Data[k]
					w.Data[k] = orig + h
					up := run("AE.loss", "loss")[0]
					w.Data[k] = orig - h
					down := run("AE.loss", "loss")[0]
					w.Data[k] = orig
					fd := float64(up-down) / (2 * h)
					if math.Abs(fd-float64(grad[k])) > 2e-2*math.Max(1, math.Abs(fd)) {
						t.Errorf("%s[%d]: gradient %.5f, by differences %.5f", name, k, grad[k], fd)
					}
				}
			}
		})
	}
}

// TestTiedWeightGradient checks that a weight the decoder reads transposed from the
// encoder is one parameter (listed once, one gradient output) whose gradient adds both
// uses: AE.step's gradient against central differences of AE.loss.
func TestTiedWeightGradient(t *testing.T) {
	src := `encoder E(x: [B, 5]) -> [B, 3] {
    return tanh(dense(x, 3))
}
decoder D(z: [B, 3]) -> [B, 5] {
    b = param([5], init: "zeros")
    return matmul(z, transpose(E.dense0.weight)) + b
}
autoencoder AE(enc: E, dec: D) {
    loss = mse
}
train AE {
    data = mnist(split: "train")
}
`
	m, _, err := compiler.Compile("tied.dl", []byte(src), compiler.Options{Optimize: true})
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, o := range m.Params() {
		if o.Attrs.String("name") == "E.dense0.weight" {
			count++
		}
	}
	if count != 1 || len(m.Train.Phases[0].Params) != 3 {
		t.Errorf("E.dense0.weight listed %d times; the phase trains %v", count, m.Train.Phases[0].Params)
	}
	tr, err := dlctrain.NewTrainer(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.InitParams(5); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(6, 6))
	x := runtime.NewTensor(4, 5)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	run := func(fn, out string) []float32 {
		p, err := tr.Program(fn)
		if err != nil {
			t.Fatal(err)
		}
		outs, err := p.Run(map[string]*runtime.Tensor{"x": x}, tr.Vars)
		if err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), outs[out].Data...)
	}
	grad := run("AE.step", "grad:E.dense0.weight")
	w := tr.Vars["E.dense0.weight"]
	const h = 1e-2
	for k := range w.Data {
		orig := w.Data[k]
		w.Data[k] = orig + h
		up := run("AE.loss", "loss")[0]
		w.Data[k] = orig - h
		down := run("AE.loss", "loss")[0]
		w.Data[k] = orig
		fd := float64(up-down) / (2 * h)
		if math.Abs(fd-float64(grad[k])) > 2e-2*math.Max(1, math.Abs(fd)) {
			t.Errorf("E.dense0.weight[%d]: gradient %.5f, by differences %.5f", k, grad[k], fd)
		}
	}
}
