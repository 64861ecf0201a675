package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSummary compares dlc summary of some examples (a GAN with batch norm, nested user
// blocks, a VAE with two results, a graph model) with testdata/summary/NAME.txt; -update
// rewrites them.
func TestSummary(t *testing.T) {
	for _, ex := range []string{"gan/dcgan", "gan/cyclegan", "autoencoder/vae", "gnn/karate", "autoencoder/tied"} {
		golden := filepath.Join("testdata", "summary", strings.ReplaceAll(ex, "/", "_")+".txt")
		code, out, stderr := run(t, "summary", "../../examples/"+ex+".dl")
		if code != 0 {
			t.Fatalf("summary %s: exit %d: %s", ex, code, stderr)
		}
		if *update {
			if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if out != string(want) {
			t.Errorf("summary %s:\n%s\nwant:\n%s", ex, out, want)
		}
	}
	// The case: the discriminator's first conv keeps the batch dimension symbolic.
	_, out, _ := run(t, "summary", "../../examples/gan/dcgan.dl")
	if !strings.Contains(out, "conv0       conv       14:20  [B, 64, 14, 14]") {
		t.Errorf("dcgan summary lacks D's conv0 at [B, 64, 14, 14]:\n%s", out)
	}
}
