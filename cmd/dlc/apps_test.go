package main

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/runtime/checkpoint"
	"github.com/dlc-lang/dlc/runtime/data"
)

// A conditional VAE on writeLabelled's 8 values and 3 classes: the encoder and the decoder
// both take the one-hot label y (the data's targets), and dlc sample --label K decodes
// prior codes under label K. Each class puts 0.8 on every third value (j mod 3 = K), so
// the decoder's samples of class K must be largest there.
func TestConditionalVAE(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeLabelled(t, dir, 300)
	writeFile(t, dir, "cvae.dl", `
encoder E(x: [B, 8], y: [B, 3]) -> ([B, 2], [B, 2]) {
    h = relu(dense(concat(x, y), 16))
    return dense(h, 2), dense(h, 2)
}
decoder D(z: [B, 2], y: [B, 3]) -> [B, 8] {
    return sigmoid(dense(relu(dense(concat(z, y), 16)), 8))
}
autoencoder CVAE(enc: E, dec: D) {
    latent = gaussian
}
train CVAE {
    data      = csv(path: "points.csv", label: "y")
    test      = csv(path: "points.csv", label: "y")
    optimizer = adam(lr: 0.01)
    batch     = 32
    epochs    = 15
}
`)
	out := mustRun(t, "run", "cvae.dl", "--save", "w.safetensors", "--out", "out", "--progress", "never")
	if !strings.Contains(out, "wrote test images and reconstructions") {
		t.Errorf("dlc run: %q", out)
	}
	for k := range 3 {
		o := fmt.Sprintf("s%d.npy", k)
		mustRun(t, "sample", "cvae.dl", "--init", "w.safetensors", "--label", strconv.Itoa(k), "-n", "50", "-o", o)
		x, _ := readNPY(t, o)
		on, off := 0.0, 0.0
		for i, v := range x {
			if i%8%3 == k {
				on += float64(v)
			} else {
				off += float64(v)
			}
		}
		on, off = on/float64(len(x)/8*3), off/float64(len(x)/8*5)
		if k == 2 { // j = 2 and 5 only
			on, off = on*3/2, off*5/6
		}
		if on < off+0.3 {
			t.Errorf("--label %d: mean %.3f on the class's values, %.3f off them; want the class's well above", k, on, off)
		}
		if back, err := data.NPYSetClasses(o, strings.TrimSuffix(o, ".npy")+"-labels.npy", 3); err != nil || back.Labels[0] != k {
			t.Errorf("--label %d: labels beside the samples: %v", k, err)
		}
	}
	// dlc embed and dlc anomaly feed the encoder and the score function both inputs.
	mustRun(t, "embed", "cvae.dl", "--init", "w.safetensors", "-o", "codes.npy")
	if _, shape := readNPY(t, "codes.npy"); fmt.Sprint(shape) != "[300 2]" {
		t.Errorf("codes of shape %v, want [300 2]", shape)
	}
	mustRun(t, "anomaly", "cvae.dl", "--init", "w.safetensors", "-o", "an")
	// The decoder alone takes the condition too; a decoder without it is an error.
	writeFile(t, dir, "bad.dl", strings.NewReplacer("decoder D(z: [B, 2], y: [B, 3])", "decoder D(z: [B, 2])", "dense(concat(z, y), 16)", "dense(z, 16)").Replace(mustRead(t, "cvae.dl")))
	if code, _, stderr := run(t, "check", "bad.dl"); code != 1 || !strings.Contains(stderr, "encoder E takes a condition besides x (a conditional autoencoder), so decoder D must take it too") {
		t.Errorf("a decoder without the condition: exit %d: %s", code, stderr)
	}
}

// A classifier written as a phase calls a pretrained encoder by its block name, so its
// parameters are the autoencoder's (Enc.dense0.weight) and --init-partial loads them; with
// updates = [Head] the encoder stays as loaded, with [Enc, Head] it is fine-tuned.
func TestPretrainedEncoderByName(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeLabelled(t, dir, 120)
	enc := `
encoder Enc(x: [B, 8]) -> [B, 3] {
    return tanh(dense(x, 3))
}
`
	writeFile(t, dir, "ae.dl", enc+`
decoder Dec(z: [B, 3]) -> [B, 8] {
    return dense(z, 8)
}
autoencoder AE(enc: Enc, dec: Dec) {
    loss = mse
}
train AE {
    data   = csv(path: "points.csv", label: "y")
    epochs = 3
}
`)
	clf := func(updates string) string {
		return enc + `
model Head(h: [B, 3]) -> [B, 3] {
    return dense(h, 3)
}
train Classify(x: [B, 8], y: [B, 3] = targets) {
    data      = csv(path: "points.csv", label: "y")
    test      = csv(path: "points.csv", label: "y")
    optimizer = adam(lr: 0.05)
    epochs    = 10
    phase train {
        updates  = ` + updates + `
        logits   = Head(Enc(x))
        loss     = cross_entropy(logits, y)
        accuracy = mean(eq(argmax(logits), argmax(y)))
        report   = [accuracy]
    }
}
`
	}
	writeFile(t, dir, "frozen.dl", clf("[Head]"))
	writeFile(t, dir, "tuned.dl", clf("[Enc, Head]"))
	mustRun(t, "run", "ae.dl", "--save", "ae.safetensors", "--out", "", "--progress", "never")
	ae, _, err := checkpoint.Load("ae.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file string
		same bool
	}{{"frozen.dl", true}, {"tuned.dl", false}} {
		w := strings.TrimSuffix(tc.file, ".dl") + ".safetensors"
		out := mustRun(t, "run", tc.file, "--init", "ae.safetensors", "--init-partial", "--save", w, "--out", "", "--progress", "never")
		if !strings.Contains(out, "--init-partial: 2 tensors from") || !strings.Contains(out, "drawn from their initialisers: Head.dense0.bias, Head.dense0.weight") {
			t.Errorf("%s: --init-partial report:\n%s", tc.file, out)
		}
		m := regexp.MustCompile(`epoch 10/10 .*test_accuracy (\S+)`).FindStringSubmatch(out)
		if acc, _ := strconv.ParseFloat(m[len(m)-1], 64); m == nil || acc < 0.9 {
			t.Errorf("%s: test accuracy %v after 10 epochs, want ≥ 0.9:\n%s", tc.file, m, out)
		}
		got, _, err := checkpoint.Load(w)
		if err != nil {
			t.Fatal(err)
		}
		if same := slices.Equal(got["Enc.dense0.weight"].Data, ae["Enc.dense0.weight"].Data); same != tc.same {
			t.Errorf("%s: Enc.dense0.weight unchanged = %v, want %v", tc.file, same, tc.same)
		}
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
