package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestModelPictures: after a tiny VAE trains (codes of 2 values, samples of 8), the
// pictures of what it makes are drawn: a traversal (a labelled row per code dimension, a
// column per value), the trained filters of a dense layer, and a grid of codes above what
// they decode to (outputs of another size than the inputs).
func TestModelPictures(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeLabelled(t, dir, 90)
	vae := tinyAE(2, "-> ([B, 2], [B, 2]) {\n    h = relu(dense(x, 16))\n    return dense(h, 2), dense(h, 2)", "    latent = gaussian\n")
	writeFile(t, dir, "vae.dl", vae)
	mustRun(t, "run", "vae.dl", "--save", "v.safetensors", "--out", "out", "--no-summary")

	out := mustRun(t, "traverse", "vae.dl", "--init", "v.safetensors", "--steps", "5", "-o", "t.png")
	if !strings.Contains(out, "a traversal of 2 code dimensions over 5 values to t.png") {
		t.Errorf("traverse: %q", out)
	}
	// Two rows of 5 decodings of 2×4 values (4×8 px), a title and a line of values above,
	// row labels left.
	if w, h := pngSize(t, "t.png"); h != 2*15+2+2*(4+2) || w < 2+5*(8+2) {
		t.Errorf("traversal %d×%d px", w, h)
	}
	mustRun(t, "traverse", "vae.dl", "--init", "v.safetensors", "--dims", "1", "--from", "train:3", "-o", "t1.png")
	if code, _, stderr := run(t, "traverse", "vae.dl", "--init", "v.safetensors", "--dims", "2"); code != 1 || !strings.Contains(stderr, "--dims: code dimension 2, want one of 0 to 1") {
		t.Errorf("traverse --dims 2: exit %d, %q", code, stderr)
	}

	out = mustRun(t, "params", "vae.dl", "--init", "v.safetensors", "--filters", "Enc.dense0", "-o", "f.png")
	if !strings.Contains(out, "wrote 16 filters of Enc.dense0.weight to f.png") {
		t.Errorf("params --filters: %q", out)
	}
	if code, _, stderr := run(t, "params", "vae.dl", "--init", "v.safetensors", "--filters", "Enc.nope"); code != 1 || !strings.Contains(stderr, "no parameter Enc.nope") {
		t.Errorf("params --filters Enc.nope: exit %d, %q", code, stderr)
	}

	mustRun(t, "apply", "vae.dl", "--init", "v.safetensors", "--block", "encode", "--data", "train", "-n", "8", "--out", "codes.npy")
	out = mustRun(t, "apply", "vae.dl", "--init", "v.safetensors", "--block", "decode", "--in", "codes.npy", "--out", "dec.npy", "--grid", "dec.png")
	if !strings.Contains(out, "wrote 8 inputs above their outputs to dec.png") {
		t.Errorf("apply --grid: %q", out)
	}
	// Codes of 2 values (1×2, 2 px high) above decodings of 8 (2×4, 4 px), under a title.
	if _, h := pngSize(t, "dec.png"); h != 15+2+(2+2)+(4+2) {
		t.Errorf("decoded grid %d px high", h)
	}
	f, err := os.Open(filepath.Join(dir, "dec.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if img, err := png.Decode(f); err != nil {
		t.Fatal(err)
	} else if _, ok := img.(*image.Gray); !ok {
		t.Errorf("a grid of one-channel images is %T, want grey", img)
	}
}
