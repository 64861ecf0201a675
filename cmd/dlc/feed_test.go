package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/runtime/data"
	dlctrain "github.com/dlc-lang/dlc/runtime/train"
)

// condGAN is a conditional GAN on writeLabelled's 8 values and 3 classes: G(z, y) and
// D(x, y). With input set, G takes an image made from x besides the condition, so that
// its sample function (the reconstruct role) takes x and y.
func condGAN(input string) string {
	gen, setting := "z: [B, 4]", "noise = normal(4)"
	if input != "" {
		gen, setting = "z: [B, 8]", "input   = "+input+"\n    content = l1(1)"
	}
	return fmt.Sprintf(`
generator G(%s, y: [B, 3]) -> [B, 8] {
    return tanh(dense(relu(dense(concat(z, y), 16)), 8))
}
discriminator D(x: [B, 8], y: [B, 3]) -> [B, 1] {
    return dense(leaky_relu(dense(concat(x, y), 16), 0.2), 1)
}
gan C(gen: G, disc: D) {
    %s
}
train C {
    data      = csv(path: "points.csv", label: "y")
    test      = csv(path: "points.csv", label: "y")
    optimizer = adam(lr: 0.01, beta1: 0.5)
    batch     = 16
    epochs    = 2
    seed      = 3
}
`, gen, setting)
}

// TestApplyTwoInputs applies a generator of two inputs, G(z, y), from two .npy files and
// from a file and the data (y: the one-hot labels, as training fed D's y), as a block and
// as the family's sample role, and samples it with the conditions from a file. dlc apply
// used to refuse it: G takes 2 tensors; apply feeds one.
func TestApplyTwoInputs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeLabelled(t, dir, 90)
	writeFile(t, dir, "c.dl", condGAN(""))
	mustRun(t, "run", "c.dl", "--save", "w.safetensors", "--out", "out")
	set, err := data.CSV("points.csv", data.CSVOptions{LabelColumn: "y"})
	if err != nil {
		t.Fatal(err)
	}
	z := make([]float32, 90*4)
	for i := range z {
		z[i] = float32(i%11)/5 - 1
	}
	for name, x := range map[string]*dlctrain.Tensor{"z.npy": {Shape: []int{90, 4}, Data: z}, "y.npy": {Shape: []int{90, 3}, Data: set.Y}} {
		if err := dlctrain.WriteNPY(name, x); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, "apply", "c.dl", "--init", "w.safetensors", "--block", "G", "--in", "z=z.npy", "--in", "y=y.npy", "--out", "files.npy")
	mustRun(t, "apply", "c.dl", "--init", "w.safetensors", "--block", "sample", "--in", "y=y.npy", "--in=z=z.npy", "--out", "role.npy")
	mustRun(t, "apply", "c.dl", "--init", "w.safetensors", "--block", "G", "--in", "z=z.npy", "--data", "test", "--batch", "7", "--out", "data.npy")
	mustRun(t, "sample", "c.dl", "--init", "w.safetensors", "--in", "z=z.npy", "--in", "y=y.npy", "-o", "sampled.npy")
	want, shape := readNPY(t, "files.npy")
	if fmt.Sprint(shape) != "[90 8]" {
		t.Fatalf("G's outputs of shape %v, want [90 8]", shape)
	}
	for _, name := range []string{"role.npy", "data.npy", "sampled.npy"} {
		if got, _ := readNPY(t, name); !slices.Equal(got, want) {
			t.Errorf("%s differs from G on the two files", name)
		}
	}
	// D takes both of its inputs from the data; -n takes the first rows of each.
	mustRun(t, "apply", "c.dl", "--init", "w.safetensors", "--block", "D", "--data", "train", "-n", "10", "--out", "d.npy")
	if _, shape := readNPY(t, "d.npy"); fmt.Sprint(shape) != "[10 1]" {
		t.Errorf("D's logits of shape %v, want [10 1]", shape)
	}
	// Without -n, dlc sample draws as many samples as the condition file has rows.
	out := mustRun(t, "sample", "c.dl", "--init", "w.safetensors", "--in", "y=y.npy", "-o", "s.npy")
	if !strings.Contains(out, "wrote 90 samples [90 8] to s.npy") || !strings.Contains(out, "to s-labels.npy") {
		t.Errorf("dlc sample --in y=y.npy: %q", out)
	}
	// The labels written beside the samples are the classes they were conditioned on, which
	// the npy source reads back as one-hot targets: the data's own labels here, and 2, 0
	// cycled with --label.
	if back, err := data.NPYSetClasses("s.npy", "s-labels.npy", 3); err != nil || !slices.Equal(back.Labels, set.Labels) {
		t.Errorf("s-labels.npy read back: %v, %v; want the data's labels", err, back)
	}
	mustRun(t, "sample", "c.dl", "--init", "w.safetensors", "-n", "4", "--label", "2,0", "-o", "l.npy")
	if back, err := data.NPYSetClasses("l.npy", "l-labels.npy", 3); err != nil || fmt.Sprint(back.Labels) != "[2 0 2 0]" {
		t.Errorf("--label 2,0: labels %v, %v; want [2 0 2 0]", back, err)
	}
}

// TestRunImageAndConditionGAN trains a generator of an image made from x and a condition:
// dlc run used to exit 1 after the last epoch (C.sample takes 2 tensors; apply feeds one)
// because the end-of-run picture fed its reconstruct function one input. Its picture now
// feeds both from the test data, and dlc apply feeds both from --data.
func TestRunImageAndConditionGAN(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeLabelled(t, dir, 90)
	writeFile(t, dir, "c.dl", condGAN("x * 0.5"))
	out := mustRun(t, "run", "c.dl", "--save", "w.safetensors", "--out", "out")
	if !strings.Contains(out, "wrote test images and reconstructions to out/c-recon.png") {
		t.Errorf("dlc run: %q", out)
	}
	if _, err := os.Stat(filepath.Join("out", "c-recon.png")); err != nil {
		t.Error(err)
	}
	mustRun(t, "apply", "c.dl", "--init", "w.safetensors", "--block", "reconstruct", "--data", "test", "--out", "r.npy", "--grid", "r.png")
	if _, shape := readNPY(t, "r.npy"); fmt.Sprint(shape) != "[90 8]" {
		t.Errorf("reconstructions of shape %v, want [90 8]", shape)
	}
}
