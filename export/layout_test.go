package export

import (
	"os"
	"slices"
	"testing"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/ir"
)

func compileExample(t *testing.T, path string) *ir.Module {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := compiler.Compile(path, src, compiler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestLayouts: dense weights are Linear's (transposed), a tied weight read transposed by
// the decoder is still its encoder's Linear, and convolution weights keep their layout.
func TestLayouts(t *testing.T) {
	for path, want := range map[string]map[string]Layout{
		"../examples/autoencoder/tied.dl": {"Enc.dense0.weight": LayoutLinear, "Enc.dense0.bias": LayoutLinearBias, "Dec.bias": LayoutSame},
		"../examples/gan/dcgan.dl":        {"G.dense0.weight": LayoutLinear, "D.conv0.weight": LayoutSame, "G.deconv0.weight": LayoutSame, "G.batchnorm0.running_mean": LayoutSame},
	} {
		lay := LayoutsOf(compileExample(t, path))
		for n, l := range want {
			if got, ok := lay[n]; !ok || got != l {
				t.Errorf("%s: %s has layout %d (present %v), want %d", path, n, got, ok, l)
			}
		}
	}
}

// TestFromTorch: names with DDP's prefix map, the dense weights come back transposed and
// bit for bit, and what is extra, missing or misshapen is reported.
func TestFromTorch(t *testing.T) {
	m := compileExample(t, "../examples/classifier/mlp.dl")
	vars := map[string]Tensor{}
	for _, p := range m.Params() {
		s, _ := p.Type.Shape.Eval(nil)
		n := 1
		for _, d := range s {
			n *= d
		}
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(i%97) * 0.25
		}
		vars[p.Attrs.String("name")] = Tensor{Shape: s, Data: d}
	}
	torch := map[string]Tensor{}
	for n, v := range ToTorch(vars, LayoutsOf(m)) {
		torch["module."+n] = v
	}
	torch["module.MLP.dense0.num_batches_tracked"] = Tensor{Shape: []int{1}, Data: []float32{3}}
	mp := FromTorch(torch, m)
	if len(mp.Missing)+len(mp.Misshapen) != 0 || !slices.Equal(mp.Unmapped, []string{"module.MLP.dense0.num_batches_tracked"}) {
		t.Fatalf("missing %v, misshapen %v, unmapped %v", mp.Missing, mp.Misshapen, mp.Unmapped)
	}
	for n, v := range vars {
		if !slices.Equal(mp.Vars[n].Shape, v.Shape) || !slices.Equal(mp.Vars[n].Data, v.Data) {
			t.Errorf("%s did not come back as it was", n)
		}
	}
	delete(torch, "module.MLP.dense2.bias")
	w := torch["module.MLP.dense1.weight"]
	torch["module.MLP.dense1.weight"] = Tensor{Shape: []int{w.Shape[1], w.Shape[0]}, Data: w.Data}
	mp = FromTorch(torch, m)
	if !slices.Equal(mp.Missing, []string{"MLP.dense1.weight", "MLP.dense2.bias"}) || len(mp.Misshapen) != 1 {
		t.Errorf("missing %v, misshapen %v", mp.Missing, mp.Misshapen)
	}
}

// TestOpWithoutTranslation: an op the table lacks is an error naming it and its line.
func TestOpWithoutTranslation(t *testing.T) {
	m := compileExample(t, "../examples/autoencoder/denoising.dl")
	_, err := ONNX(m, "DAE.corrupt", nil, "denoising.dl")
	if err == nil || err.Error() != "../examples/autoencoder/denoising.dl:18:15: export: op random_bernoulli has no ONNX translation" {
		t.Errorf("got %v", err)
	}
}
