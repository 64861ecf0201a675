package main

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/runtime/checkpoint"
)

// TestResumeBitIdentical interrupts the tiny GAN (two phases, d_steps 2, batch norm state,
// noise draws, shuffled data) at an epoch's end and at two points inside an epoch (between
// the two discriminator steps, and before the generator step), resumes it with --resume,
// and checks that the resumed run prints the same metrics lines as an uninterrupted run
// with the same seed and ends with the same checkpoint, bit for bit: parameters, batch norm
// statistics, Adam moments and step counts, and the run state.
func TestResumeBitIdentical(t *testing.T) {
	dir := t.TempDir()
	writePoints(t, dir, 64) // 4 batches of 16: steps d d g d d g per epoch
	model := writeFile(t, dir, "gan.dl", tinyGAN)
	full := filepath.Join(dir, "full.safetensors")
	fullMetrics := filepath.Join(dir, "full.json")
	mustRun(t, "run", model, "--epochs", "4", "--save", full, "--metrics", fullMetrics, "--out", dir, "--progress", "never")
	wantLines := metricLines(t, fullMetrics)
	for _, tc := range []struct {
		name string
		stop []string // flags that end the first run early
		from int      // the first epoch whose line the resumed run writes
	}{
		{"after epoch 2", []string{"--epochs", "2"}, 3},
		{"between d steps", []string{"--steps", "7"}, 2},
		{"before the g step", []string{"--steps", "8"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ckpt := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".safetensors")
			mustRun(t, append([]string{"run", model, "--save", ckpt, "--out", dir, "--progress", "never"}, tc.stop...)...)
			resumed := ckpt + ".json"
			out := mustRun(t, "run", model, "--epochs", "4", "--resume", ckpt, "--save", ckpt, "--metrics", resumed, "--out", dir, "--progress", "never")
			if !strings.Contains(out, "resuming "+ckpt) {
				t.Errorf("no resume line in:\n%s", out)
			}
			got := metricLines(t, resumed)
			if want := wantLines[tc.from-1:]; !slices.Equal(got, want) {
				t.Errorf("resumed metrics:\n%s\nwant (uninterrupted):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			sameCheckpoint(t, ckpt, full)
		})
	}
}

// mustRun runs dlc and fails the test unless it exits 0; it returns the standard output.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, stderr := run(t, args...)
	if code != 0 {
		t.Fatalf("dlc %s: exit %d\n%s%s", strings.Join(args, " "), code, out, stderr)
	}
	return out
}

var regexpTiming = regexp.MustCompile(`"seconds":[0-9.e+-]+,?`)

// metricLines returns the lines of a metrics file without their timings.
func metricLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(regexpTiming.ReplaceAllString(string(b), "")), "\n")
}

// sameCheckpoint fails unless two checkpoints hold the same tensors, bit for bit, and the
// same run state.
func sameCheckpoint(t *testing.T, got, want string) {
	t.Helper()
	g, gm, err := checkpoint.Load(got)
	if err != nil {
		t.Fatal(err)
	}
	w, wm, err := checkpoint.Load(want)
	if err != nil {
		t.Fatal(err)
	}
	opt := 0
	for n, wt := range w {
		opt += strings.Count(n[:min(len(n), 4)], "opt/")
		gt, ok := g[n]
		if !ok {
			t.Errorf("%s: no tensor %s", got, n)
			continue
		}
		if !slices.Equal(gt.Shape, wt.Shape) || !slices.EqualFunc(gt.Data, wt.Data, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
			t.Errorf("%s differs from the uninterrupted run's", n)
		}
	}
	if len(g) != len(w) {
		t.Errorf("%d tensors, want %d", len(g), len(w))
	}
	if opt == 0 {
		t.Errorf("%s holds no optimiser state", want)
	}
	if gm["dlc.run"] != wm["dlc.run"] || gm["dlc.run"] == "" {
		t.Errorf("run state\n%s\nwant\n%s", gm["dlc.run"], wm["dlc.run"])
	}
}
