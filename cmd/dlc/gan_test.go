package main

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/runtime/data"
	dlctrain "github.com/dlc-lang/dlc/runtime/train"
)

// tinyGAN is a GAN small enough to train in a test, with batch norm in both networks so
// that state and shared weights are exercised, on 6-dimensional points near a plane.
const tinyGAN = `
generator G(z: [B, 4]) -> [B, 6] {
    h = relu(batchnorm(dense(z, 16)))
    return dense(h, 6)
}
discriminator D(x: [B, 6]) -> [B, 1] {
    h = leaky_relu(batchnorm(dense(x, 16)), 0.2)
    return dense(h, 1)
}
gan GAN(gen: G, disc: D) {
    noise   = normal(4)
    d_steps = 2
}
train GAN {
    data      = csv(path: "points.csv", label: "")
    optimizer = adam(lr: 0.01, beta1: 0.5)
    batch     = 16
    epochs    = 2
    seed      = 5
}
`

func writePoints(t *testing.T, dir string, n int) {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	var sb strings.Builder
	sb.WriteString("a,b,c,d,e,f\n")
	for i := 0; i < n; i++ {
		u, v := r.NormFloat64(), r.NormFloat64()
		fmt.Fprintf(&sb, "%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n", u, v, u+v, u-v, 0.5*u, 1+0.1*v)
	}
	writeFile(t, dir, "points.csv", sb.String())
}

func compileTiny(t *testing.T, dir string) *dlctrain.Trainer {
	t.Helper()
	return trainerFor(t, writeFile(t, dir, "gan.dl", tinyGAN), 5)
}

// trainerFor compiles the .dl file at path with optimisation and returns its trainer with
// parameters drawn with seed.
func trainerFor(t *testing.T, path string, seed int64) *dlctrain.Trainer {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := compiler.Compile(path, src, compiler.Options{Optimize: true})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := dlctrain.NewTrainer(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.InitParams(seed); err != nil {
		t.Fatal(err)
	}
	return tr
}

// trainTiny trains the tiny GAN of dir for its 2 epochs and returns its checkpoint.
func trainTiny(t *testing.T, dir string) (gan, ckpt string) {
	t.Helper()
	writePoints(t, dir, 64)
	gan = writeFile(t, dir, "gan.dl", tinyGAN)
	ckpt = filepath.Join(dir, "g.safetensors")
	if code, _, stderr := run(t, "run", gan, "--save", ckpt, "--out", dir); code != 0 {
		t.Fatalf("run gan: exit %d: %s", code, stderr)
	}
	return gan, ckpt
}

func snapshot(tr *dlctrain.Trainer) map[string][]float32 {
	s := map[string][]float32{}
	for n, v := range tr.Vars {
		s[n] = slices.Clone(v.Data)
	}
	return s
}

// TestFrozenAdversary runs each half-step of a GAN and compares every parameter before and
// after: a discriminator step changes D's parameters and no generator parameter, a
// generator step the reverse. It also checks in the IR that the discriminator step builds
// no gradient for G (its fakes pass a stop_gradient and it outputs no grad:G.*).
func TestFrozenAdversary(t *testing.T) {
	dir := t.TempDir()
	writePoints(t, dir, 64)
	tr := compileTiny(t, dir)
	set, err := data.Load(tr.Spec.Data, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := tr.Module.Func("GAN.d_step")
	hasStop := false
	for _, o := range d.Ops {
		hasStop = hasStop || o.Kind == "stop_gradient"
	}
	for _, o := range d.Outputs {
		if strings.HasPrefix(o.Name, "grad:G.") {
			t.Errorf("GAN.d_step outputs %s", o.Name)
		}
	}
	if !hasStop {
		t.Error("GAN.d_step has no stop_gradient between G and D")
	}
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	for round := 0; round < 3; round++ {
		for phase, name := range []string{"d", "g"} {
			before := snapshot(tr)
			if _, _, err := tr.StepPhase(phase, set, idx); err != nil {
				t.Fatal(err)
			}
			after := snapshot(tr)
			trained := tr.Spec.Phases[phase].Params
			for n := range before {
				changed := !slices.Equal(before[n], after[n])
				want := slices.Contains(trained, n)
				switch {
				case tr.IsState(n): // running statistics move in every training step
				case changed && !want:
					t.Errorf("round %d, %s step changed %s, which it must not train", round, name, n)
				case !changed && want:
					t.Errorf("round %d, %s step left %s unchanged", round, name, n)
				}
			}
		}
	}
}

// TestGANRunAndCheckpoint trains the tiny GAN twice with one seed (identical metrics: the
// draws are seeded), saves a checkpoint with the batch-norm state, samples from it, and
// refuses a checkpoint of another model with the list of mismatched names.
func TestGANRunAndCheckpoint(t *testing.T) {
	dir := t.TempDir()
	writePoints(t, dir, 64)
	model := writeFile(t, dir, "gan.dl", tinyGAN)
	ckpt := filepath.Join(dir, "w.safetensors")
	var metrics [2]string
	for i := range metrics {
		mpath := filepath.Join(dir, fmt.Sprintf("m%d.json", i))
		code, out, stderr := run(t, "run", model, "--save", ckpt, "--metrics", mpath, "--out", dir, "--progress", "never")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !strings.Contains(out, "d_loss") || !strings.Contains(out, "g_loss") {
			t.Errorf("no phase losses in:\n%s", out)
		}
		b, _ := os.ReadFile(mpath)
		metrics[i] = regexpSeconds.ReplaceAllString(string(b), "")
	}
	if metrics[0] != metrics[1] {
		t.Errorf("two runs with one seed differ:\n%s\n%s", metrics[0], metrics[1])
	}
	if _, err := os.Stat(filepath.Join(dir, dlctrain.PictureBase(model)+"-samples.png")); err != nil {
		t.Errorf("no sample grid: %v", err)
	}
	// The checkpoint holds the state and restores it: evaluation from it runs.
	tr := compileTiny(t, dir)
	if err := dlctrain.StartVars(tr, ckpt, 0); err != nil {
		t.Fatal(err)
	}
	if v := tr.Vars["D.batchnorm0.running_var"]; v == nil || slices.Equal(v.Data, []float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}) {
		t.Errorf("running_var not saved or not trained: %v", v)
	}
	imgs, err := tr.Sample(8, rand.New(rand.NewPCG(1, 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range imgs.T.Data {
		if math.IsNaN(float64(v)) {
			t.Fatal("NaN sample")
		}
	}
	// A checkpoint of another model is refused, naming what does not match.
	other := writeFile(t, dir, "other.dl", strings.Replace(tinyGAN, "dense(z, 16)", "dense(z, 8)", 1))
	code, _, stderr := run(t, "run", other, "--init", ckpt, "--epochs", "0", "--out", dir)
	if code != 1 || !strings.Contains(stderr, "of the wrong shape: G.dense0.weight (got [4, 16], want [4, 8])") {
		t.Errorf("another model's checkpoint: exit %d, %s", code, stderr)
	}
}

var regexpSeconds = regexp.MustCompile(`"seconds":[0-9.e+-]+,?`)

// TestSampleAndScore trains the tiny GAN and a classifier of its points' first coordinate,
// then checks that dlc sample writes a picture and dlc score reports a confidence and
// class shares that add up to one.
func TestSampleAndScore(t *testing.T) {
	dir := t.TempDir()
	gan, gw := trainTiny(t, dir)
	b, _ := os.ReadFile(filepath.Join(dir, "points.csv"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var sb strings.Builder
	sb.WriteString(lines[0] + ",k\n")
	for _, l := range lines[1:] {
		k := "1"
		if strings.HasPrefix(l, "-") {
			k = "0"
		}
		sb.WriteString(l + "," + k + "\n")
	}
	writeFile(t, dir, "labelled.csv", sb.String())
	cls := writeFile(t, dir, "cls.dl", `
model C(x: [B, 6]) -> [B, 2] {
    return dense(relu(dense(x, 8)), 2)
}
train C {
    data   = csv(path: "labelled.csv", label: "k")
    loss   = cross_entropy
    epochs = 5
}
`)
	cw := filepath.Join(dir, "c.safetensors")
	if code, _, stderr := run(t, "run", cls, "--save", cw, "--out", dir); code != 0 {
		t.Fatalf("run classifier: exit %d: %s", code, stderr)
	}
	png := filepath.Join(dir, "s.png")
	if code, _, stderr := run(t, "sample", gan, "--init", gw, "-n", "8", "-o", png); code != 0 {
		t.Fatalf("sample: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(png); err != nil {
		t.Fatal(err)
	}
	npy := filepath.Join(dir, "s.npy")
	if code, _, stderr := run(t, "sample", gan, "--init", gw, "-n", "5", "-o", npy); code != 0 {
		t.Fatalf("sample -o .npy: exit %d: %s", code, stderr)
	}
	if _, shape, err := data.NPY(npy); err != nil || !slices.Equal(shape, []int{5, 6}) {
		t.Errorf("sample -o .npy wrote shape %v, %v; want [5, 6]", shape, err)
	}
	code, out, stderr := run(t, "score", gan, "--init", gw, "--classifier", cls, "--classifier-init", cw, "-n", "200")
	if code != 0 {
		t.Fatalf("score: exit %d: %s", code, stderr)
	}
	var conf, s0, s1 float64
	if _, err := fmt.Sscanf(out, "samples 200  mean confidence %f\nclass 0  %f%%\nclass 1  %f%%", &conf, &s0, &s1); err != nil {
		t.Fatalf("score output %q: %v", out, err)
	}
	if conf < 0.5 || conf > 1 || math.Abs(s0+s1-100) > 0.01 {
		t.Errorf("score: confidence %v, shares %v%% + %v%%", conf, s0, s1)
	}
	if code, _, stderr := run(t, "sample", gan, "-n", "8"); code != 2 || !strings.Contains(stderr, "--init") {
		t.Errorf("sample without --init: exit %d, %s", code, stderr)
	}
}

// TestApply runs the trained discriminator of the tiny GAN on rows from a .npy file.
func TestApply(t *testing.T) {
	dir := t.TempDir()
	gan, gw := trainTiny(t, dir)
	var buf bytes.Buffer
	vals := make([]float32, 10*6)
	for i := range vals {
		vals[i] = float32(i%7) - 3
	}
	if err := data.WriteNPY(&buf, []int{10, 6}, vals); err != nil {
		t.Fatal(err)
	}
	in := writeFile(t, dir, "x.npy", buf.String())
	out := filepath.Join(dir, "y.npy")
	code, stdout, stderr := run(t, "apply", gan, "--block", "D", "--init", gw, "--in", in, "--out", out, "--batch", "4")
	if code != 0 {
		t.Fatalf("apply: exit %d: %s", code, stderr)
	}
	y, shape, err := data.NPY(out)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(shape, []int{10, 1}) || len(y) != 10 {
		t.Errorf("apply D wrote shape %v (%d values), want [10, 1]: %s", shape, len(y), stdout)
	}
	if code, _, stderr := run(t, "apply", gan, "--block", "Nope", "--init", gw, "--in", in, "--out", out); code != 1 || !strings.Contains(stderr, "no block function Nope") {
		t.Errorf("apply of an unknown block: exit %d, %s", code, stderr)
	}
	if code, _, stderr := run(t, "apply", gan, "--block", "D", "--init", gw, "--in", in, "--out", in); code != 2 {
		t.Errorf("apply over its own input: exit %d, want 2: %s", code, stderr)
	}
}

// TestLossesWrittenInTheFile checks that a generator loss written as an expression
// (−mean log σ(D(G(z))), the non-saturating loss by hand) trains exactly like the built-in
// one, and that an autoencoder loss expression of x, z and recon compiles and must be a
// scalar.
func TestLossesWrittenInTheFile(t *testing.T) {
	dir := t.TempDir()
	writePoints(t, dir, 64)
	losses := map[string]float64{}
	for name, src := range map[string]string{
		"builtin": tinyGAN,
		"written": strings.Replace(tinyGAN, "d_steps = 2", "d_steps = 2\n    g_loss  = -mean(log(sigmoid(d_fake)))", 1),
	} {
		d := filepath.Join(dir, name)
		os.MkdirAll(d, 0o755)
		writePoints(t, d, 64)
		path := writeFile(t, d, "gan.dl", src)
		b, _ := os.ReadFile(path)
		m, _, err := compiler.Compile(path, b, compiler.Options{Optimize: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		tr, _ := dlctrain.NewTrainer(m)
		if err := tr.InitParams(5); err != nil {
			t.Fatal(err)
		}
		set, err := data.Load(tr.Spec.Data, data.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for i := 0; i < 3; i++ {
			l, _, err := tr.StepPhase(1, set, []int{0, 1, 2, 3, 4, 5, 6, 7})
			if err != nil {
				t.Fatal(err)
			}
			sum += l
		}
		losses[name] = sum
	}
	if math.Abs(losses["builtin"]-losses["written"]) > 1e-4 {
		t.Errorf("g loss written in the file: %v, built in: %v", losses["written"], losses["builtin"])
	}
	ae := writeFile(t, dir, "ae.dl", `
encoder E(x: [B, 6]) -> [B, 3] {
    return relu(dense(x, 3))
}
decoder D(z: [B, 3]) -> [B, 6] {
    return dense(z, 6)
}
autoencoder AE(enc: E, dec: D) {
    loss = mse(recon, x) + 0.01 * mean(abs(z))
}
`)
	if code, _, stderr := run(t, "check", ae); code != 0 {
		t.Errorf("AE with a loss expression: exit %d: %s", code, stderr)
	}
	bad := writeFile(t, dir, "bad.dl", strings.Replace(string(must(os.ReadFile(ae))), "mse(recon, x) + 0.01 * mean(abs(z))", "abs(z)", 1))
	if code, _, stderr := run(t, "check", bad); code != 1 || !strings.Contains(stderr, "want a scalar tensor") {
		t.Errorf("AE with a non-scalar loss: exit %d: %s", code, stderr)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
