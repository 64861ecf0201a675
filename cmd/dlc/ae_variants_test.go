package main

import (
	"github.com/dlc-lang/dlc/ir"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/runtime/checkpoint"
	"github.com/dlc-lang/dlc/runtime/data"
	dlctrain "github.com/dlc-lang/dlc/runtime/train"
)

// Tiny versions of every autoencoder variant of examples/autoencoder, trained on
// synthetic data with three hidden factors so that each test runs in well under a second:
// each one's test loss must fall below a bound set from a run with the same seed (most of
// the measured improvement: a binary cross-entropy cannot fall below the entropy of the
// targets, about 0.57 here), and below its loss before training.

// factorSet is n samples of d values in [0, 1]: three fixed random prototypes mixed with
// weights drawn per sample (seed picks the draws), which an autoencoder with a code of 2 or
// more can learn.
func factorSet(n, d int, seed uint64) *data.Set {
	r := rand.New(rand.NewPCG(99, 7))
	protos := make([][]float64, 3)
	for k := range protos {
		protos[k] = make([]float64, d)
		for i := range protos[k] {
			protos[k][i] = r.Float64()
		}
	}
	r = rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n*d)
	for s := 0; s < n; s++ {
		u := [3]float64{r.Float64(), r.Float64(), r.Float64()}
		for i := 0; i < d; i++ {
			v := (u[0]*protos[0][i] + u[1]*protos[1][i] + u[2]*protos[2][i]) / 1.5
			x[s*d+i] = float32(min(max(v, 0), 1))
		}
	}
	return &data.Set{X: x, XShape: []int{n, d}}
}

// tinyTrain is the train block of every tiny variant; its data are replaced by factorSet.
const tinyTrain = `
train AE {
    data      = mnist(split: "train")
    optimizer = adam(lr: 0.01)
    batch     = 32
    seed      = 3
}
`

// The blocks most variants share: 16 → 12 → 4 → 12 → 16.
const (
	tinyEnc = `encoder E(x: [B, 16]) -> [B, 4] {
    return relu(dense(relu(dense(x, 12)), 4))
}
`
	tinyDec = `decoder D(z: [B, 4]) -> [B, 16] {
    return sigmoid(dense(relu(dense(z, 12)), 16))
}
`
)

var tinyVariants = []struct {
	name   string
	src    string
	d      int     // sample size (8×8 images for conv)
	epochs int     // over 256 samples in batches of 32: 8 steps each
	bound  float64 // the test loss after training is below this
}{
	{"undercomplete_bce", tinyEnc + tinyDec + "autoencoder AE(enc: E, dec: D) {\n    loss = bce\n}\n", 16, 40, 0.61},
	{"undercomplete_mse", tinyEnc + tinyDec + "autoencoder AE(enc: E, dec: D) {\n    loss = mse\n}\n", 16, 40, 0.005},
	{"undercomplete_l1", tinyEnc + tinyDec + "autoencoder AE(enc: E, dec: D) {\n    loss = l1\n}\n", 16, 40, 0.05},
	{"mse_sum", tinyEnc + tinyDec + "autoencoder AE(enc: E, dec: D) {\n    loss = mse\n    reduction = sum\n}\n", 16, 40, 0.07},
	{"overcomplete_l2", `encoder E(x: [B, 16]) -> [B, 32] {
    return sigmoid(dense(x, 32))
}
decoder D(z: [B, 32]) -> [B, 16] {
    return sigmoid(dense(z, 16))
}
autoencoder AE(enc: E, dec: D) {
    penalty = l2(1e-4)
}
`, 16, 40, 0.61},
	{"tied", `encoder E(x: [B, 16]) -> [B, 6] {
    return sigmoid(dense(x, 6))
}
decoder D(z: [B, 6]) -> [B, 16] {
    b = param([16], init: "zeros")
    return sigmoid(matmul(z, transpose(E.dense0.weight)) + b)
}
autoencoder AE(enc: E, dec: D) {
    loss = bce
}
`, 16, 40, 0.61},
	{"sparse_l1", `encoder E(x: [B, 16]) -> [B, 24] {
    return relu(dense(x, 24))
}
decoder D(z: [B, 24]) -> [B, 16] {
    return sigmoid(dense(z, 16))
}
autoencoder AE(enc: E, dec: D) {
    sparsity = l1(1e-3)
}
`, 16, 40, 0.60},
	{"sparse_kl", `encoder E(x: [B, 16]) -> [B, 24] {
    return sigmoid(dense(x, 24))
}
decoder D(z: [B, 24]) -> [B, 16] {
    return sigmoid(dense(z, 16))
}
autoencoder AE(enc: E, dec: D) {
    reduction = sum
    sparsity  = kl(rho: 0.1, beta: 0.5)
}
`, 16, 40, 10.2},
	{"denoising_mask", tinyEnc + tinyDec + "autoencoder AE(enc: E, dec: D) {\n    corrupt = mask(0.2)\n}\n", 16, 40, 0.61},
	{"denoising_gaussian", tinyEnc + tinyDec + "autoencoder AE(enc: E, dec: D) {\n    corrupt = gaussian(0.2)\n}\n", 16, 40, 0.60},
	{"contractive", `encoder E(x: [B, 16]) -> [B, 6] {
    return sigmoid(dense(x, 6))
}
decoder D(z: [B, 6]) -> [B, 16] {
    return sigmoid(dense(z, 16))
}
autoencoder AE(enc: E, dec: D) {
    reduction   = sum
    contractive = 0.1
}
`, 16, 40, 9.9},
	{"contractive_deep", `encoder E(x: [B, 16]) -> [B, 4] {
    return sigmoid(dense(relu(dense(x, 12)), 4))
}
decoder D(z: [B, 4]) -> [B, 16] {
    return sigmoid(dense(relu(dense(z, 12)), 16))
}
autoencoder AE(enc: E, dec: D) {
    reduction   = sum
    contractive = 0.1
}
`, 16, 40, 9.9},
	{"deep", `encoder E(x: [B, 16]) -> [B, 4] {
    h = relu(dense(x, 12))
    h = relu(dense(h, 8))
    return relu(dense(h, 4))
}
decoder D(z: [B, 4]) -> [B, 16] {
    h = relu(dense(z, 8))
    h = relu(dense(h, 12))
    return sigmoid(dense(h, 16))
}
autoencoder AE(enc: E, dec: D) {
    loss = bce
}
`, 16, 40, 0.61},
	{"conv", `encoder E(x: [B, 1, 8, 8]) -> [B, 4, 2, 2] {
    h = max_pool(relu(conv(x, 4, 3, pad: 1)), 2)
    return max_pool(relu(conv(h, 4, 3, pad: 1)), 2)
}
decoder D(z: [B, 4, 2, 2]) -> [B, 1, 8, 8] {
    h = relu(conv(upsample(z, 2), 4, 3, pad: 1))
    h = relu(conv(upsample(h, 2, mode: "bilinear"), 4, 3, pad: 1))
    return sigmoid(conv(h, 1, 3, pad: 1))
}
autoencoder AE(enc: E, dec: D) {
    loss = bce
}
`, 64, 20, 0.645},
	{"vae", `encoder E(x: [B, 16]) -> ([B, 2], [B, 2]) {
    h = relu(dense(x, 12))
    return dense(h, 2), dense(h, 2)
}
decoder D(z: [B, 2]) -> [B, 16] {
    return sigmoid(dense(relu(dense(z, 12)), 16))
}
autoencoder AE(enc: E, dec: D) {
    latent = gaussian
}
`, 16, 40, 10.6},
	{"adversarial", `encoder E(x: [B, 16]) -> [B, 2] {
    return dense(relu(dense(x, 12)), 2)
}
decoder D(z: [B, 2]) -> [B, 16] {
    return sigmoid(dense(relu(dense(z, 12)), 16))
}
discriminator C(z: [B, 2]) -> [B, 1] {
    return dense(relu(dense(z, 8)), 1)
}
autoencoder AE(enc: E, dec: D, disc: C) {
    prior = normal
}
`, 16, 40, 0.61},
}

func TestAutoencoderVariantsTrain(t *testing.T) {
	for _, v := range tinyVariants {
		t.Run(v.name, func(t *testing.T) {
			src := v.src + tinyTrain
			m, _, err := compiler.Compile("tiny.dl", []byte(src), compiler.Options{Optimize: true})
			if err != nil {
				t.Fatalf("%v\n%s", err, src)
			}
			tr, err := dlctrain.NewTrainer(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := tr.InitParams(3); err != nil {
				t.Fatal(err)
			}
			train, test := factorSet(256, v.d, 1), factorSet(128, v.d, 2)
			before, _, err := tr.Evaluate(test, 64)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 3))
			for e := 0; e < v.epochs; e++ {
				if _, err := tr.Epoch(train, rng, true, 0, nil); err != nil {
					t.Fatal(err)
				}
			}
			after, metrics, err := tr.Evaluate(test, 64)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: test loss %.4f before, %.4f after %d steps; %v", v.name, before, after, tr.Steps, metrics)
			if math.IsNaN(after) || after >= before || after > v.bound {
				t.Errorf("%s: test loss %.4f after %d steps (%.4f before), want below %.4f", v.name, after, tr.Steps, before, v.bound)
			}
			// Every extra function runs on a batch and gives what its role says.
			for _, r := range tr.Spec.Roles {
				role, fn := r.Role, r.Func
				if role == ir.RoleSample || role == ir.RoleDecode {
					continue
				}
				out, err := tr.Apply(fn, test, []int{0, 1, 2})
				if err != nil {
					t.Fatalf("%s (%s): %v", role, fn, err)
				}
				if out.Shape[0] != 3 || (role == ir.RoleScore && len(out.Shape) != 1) {
					t.Errorf("%s (%s) gave shape %v", role, fn, out.Shape)
				}
			}
			if tr.HasRole(ir.RoleSample) {
				imgs, err := tr.Sample(4, rand.New(rand.NewPCG(1, 1)), nil)
				if err != nil || imgs.T.Shape[0] != 4 {
					t.Errorf("sample: %v", err)
				}
			}
			if v.name == "denoising_mask" {
				checkMasking(t, tr, test, 0.2)
			}
		})
	}
}

// checkMasking checks that the corrupt function of a masking model zeroes about a fraction
// q of the inputs, with a fresh mask at every run.
func checkMasking(t *testing.T, tr *dlctrain.Trainer, set *data.Set, q float64) {
	t.Helper()
	idx := make([]int, set.Len())
	for i := range idx {
		idx[i] = i
	}
	var masks [2][]bool
	for run := range masks {
		corrupt, _ := tr.Spec.Role(ir.RoleCorrupt)
		out, err := tr.Apply(corrupt, set, idx)
		if err != nil {
			t.Fatal(err)
		}
		zeroed, n := 0, 0
		for i, v := range out.Data {
			if set.X[i] == 0 {
				continue
			}
			n++
			masks[run] = append(masks[run], v == 0)
			if v == 0 {
				zeroed++
			} else if v != set.X[i] {
				t.Fatalf("corrupt changed a kept value: %v to %v", set.X[i], v)
			}
		}
		if frac := float64(zeroed) / float64(n); math.Abs(frac-q) > 0.03 {
			t.Errorf("corrupt zeroed %.3f of the inputs, want about %v", frac, q)
		}
	}
	if slices.Equal(masks[0], masks[1]) {
		t.Error("corrupt drew the same mask twice")
	}
}

// TestInitPartial pre-trains the first layer of an encoder in a shallow autoencoder, then
// starts a deeper one from it: plain --init refuses the checkpoint, --init-partial loads
// the layer it shares, draws the others and ignores the shallow decoder.
func TestInitPartial(t *testing.T) {
	dir := t.TempDir()
	writePoints(t, dir, 64)
	const train = `
train AE {
    data   = csv(path: "points.csv", label: "")
    batch  = 16
    epochs = 2
    seed   = 1
}
`
	shallow := writeFile(t, dir, "shallow.dl", `encoder E(x: [B, 6]) -> [B, 4] {
    return relu(dense(x, 4))
}
decoder Back(h: [B, 4]) -> [B, 6] {
    return dense(h, 6)
}
autoencoder AE(enc: E, dec: Back) {
    loss = mse
}
`+train)
	deep := writeFile(t, dir, "deep.dl", `encoder E(x: [B, 6]) -> [B, 2] {
    return relu(dense(relu(dense(x, 4)), 2))
}
decoder D(z: [B, 2]) -> [B, 6] {
    return dense(relu(dense(z, 4)), 6)
}
autoencoder AE(enc: E, dec: D) {
    loss = mse
}
`+train)
	w1, w2 := filepath.Join(dir, "w1.safetensors"), filepath.Join(dir, "w2.safetensors")
	if code, _, stderr := run(t, "run", shallow, "--save", w1, "--out", "", "--progress", "never"); code != 0 {
		t.Fatalf("shallow: exit %d: %s", code, stderr)
	}
	if code, _, stderr := run(t, "run", deep, "--init", w1, "--epochs", "0", "--out", ""); code != 1 || !strings.Contains(stderr, "missing: E.dense1.weight") {
		t.Errorf("--init without --init-partial: exit %d: %s", code, stderr)
	}
	if code, _, stderr := run(t, "run", deep, "--init-partial", "--epochs", "0"); code != 2 || !strings.Contains(stderr, "--init-partial needs --init") {
		t.Errorf("--init-partial alone: exit %d: %s", code, stderr)
	}
	code, out, stderr := run(t, "run", deep, "--init", w1, "--init-partial", "--epochs", "0", "--save", w2, "--out", "", "--progress", "never")
	if code != 0 {
		t.Fatalf("--init-partial: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "--init-partial: 2 tensors from") || !strings.Contains(out, "drawn from their initialisers: D.dense0.bias, D.dense0.weight, D.dense1.bias, D.dense1.weight, E.dense1.bias, E.dense1.weight; ignored: Back.dense0.bias, Back.dense0.weight") {
		t.Errorf("--init-partial report:\n%s", out)
	}
	a, _, err := checkpoint.Load(w1)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := checkpoint.Load(w2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a["E.dense0.weight"].Data, b["E.dense0.weight"].Data) {
		t.Error("E.dense0.weight was not loaded from the shallow model")
	}
}
