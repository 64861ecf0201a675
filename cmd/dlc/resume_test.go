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

// tinyRegression is a supervised model with dropout (draws) and a test set (evaluated by
// --epochs 0), on the points writePoints makes: the sixth column from the other five.
const tinyRegression = `
model Reg(x: [B, 5]) -> [B, 1] {
    return dense(dropout(relu(dense(x, 16)), 0.2), 1)
}
train Reg {
    data      = csv(path: "points.csv", label: "f", target: "value")
    test      = csv(path: "points.csv", label: "f", target: "value")
    loss      = mse
    optimizer = adam(lr: 0.01)
    batch     = 16
    epochs    = 4
    seed      = 3
}
`

// tinyGraphs is a graph-level model on a set of graphs, whose epochs have several steps.
const tinyGraphs = `
import "std/gnn"
model Kind(x: [N, 1], g: graph) -> [G, 2] {
    return dense(readout(relu(gin(x, g, 8)), g, "sum"), 2)
}
train Kind {
    data      = cycles(graphs: 64, seed: 1)
    test      = cycles(graphs: 16, seed: 2)
    loss      = cross_entropy
    optimizer = adam(lr: 0.003)
    batch     = 16
    epochs    = 4
}
`

// TestResumeEpochsZeroKeepsPlace: a run resumed with --epochs 0 only evaluates, so the
// checkpoint it saves must be the one it resumed from, run state and all (the epochs done,
// how far an interrupted epoch got, the draw counters, which its evaluation must not
// advance): resuming either must continue the same run. So must a resumed run already past
// its --epochs or --steps. Supervised, GAN and graph runs, each stopped after an epoch and
// inside one.
func TestResumeEpochsZeroKeepsPlace(t *testing.T) {
	dir := t.TempDir()
	writePoints(t, dir, 64) // 4 batches of 16
	models := map[string]string{
		"gan":        writeFile(t, dir, "gan.dl", tinyGAN),
		"regression": writeFile(t, dir, "reg.dl", tinyRegression),
		"graphs":     writeFile(t, dir, "graphs.dl", tinyGraphs),
	}
	zero := []string{"--epochs", "0"}
	for _, tc := range []struct {
		model  string
		stop   []string // flags that end the first run early
		resume []string // flags of the resumed run that train nothing
		epoch  string   // where the resume line says the run goes on
	}{
		{"gan", []string{"--epochs", "2"}, zero, "epoch 3"},
		{"gan", []string{"--steps", "7"}, zero, "epoch 2"},
		{"gan", []string{"--steps", "7"}, []string{"--steps", "5"}, "epoch 2"},
		{"regression", []string{"--epochs", "2"}, zero, "epoch 3"},
		{"regression", []string{"--steps", "6"}, zero, "epoch 2"},
		{"regression", []string{"--epochs", "2"}, []string{"--epochs", "1"}, "epoch 3"},
		{"graphs", []string{"--epochs", "2"}, zero, "epoch 3"},
		{"graphs", []string{"--steps", "6"}, zero, "epoch 2"},
		{"graphs", []string{"--steps", "6"}, []string{"--steps", "6"}, "epoch 2"},
	} {
		name := tc.model + strings.Join(tc.stop, "") + strings.Join(tc.resume, "")
		t.Run(name, func(t *testing.T) {
			part := filepath.Join(dir, name+".safetensors")
			mustRun(t, append([]string{"run", models[tc.model], "--save", part, "--out", "", "--progress", "never"}, tc.stop...)...)
			again := part + ".again.safetensors"
			out := mustRun(t, append([]string{"run", models[tc.model], "--resume", part, "--save", again, "--out", "", "--progress", "never"}, tc.resume...)...)
			if !strings.Contains(out, "resuming "+part+" at step") || !strings.Contains(out, tc.epoch) {
				t.Errorf("want a resume line at %s in:\n%s", tc.epoch, out)
			}
			sameCheckpoint(t, again, part)
		})
	}
}
