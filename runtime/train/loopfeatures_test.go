package train

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/checkpoint"
)

// The loop's own features, on a small classifier of CSV data (three classes, four
// features, separable): validation, early stopping and its restore, the best checkpoint,
// schedules, clipping and the log directory.

// loopModel writes a 90-row CSV and a classifier training on it with the extra train
// settings, and compiles it; it returns the trainer and the .dl path.
func loopModel(t *testing.T, settings string, overrides ...compiler.Override) (*Trainer, string) {
	t.Helper()
	dir := t.TempDir()
	var sb strings.Builder
	rng := rand.New(rand.NewPCG(7, 7))
	sb.WriteString("a,b,c,d,y\n")
	for i := range 90 {
		k := i % 3
		fmt.Fprintf(&sb, "%.3f,%.3f,%.3f,%.3f,%d\n", float64(k)+rng.NormFloat64()*0.6, rng.NormFloat64(), float64(2-k)+rng.NormFloat64()*0.6, rng.NormFloat64(), k)
	}
	if err := os.WriteFile(filepath.Join(dir, "t.csv"), []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `model M(x: [B, 4]) -> [B, 3] {
    return dense(relu(dense(x, 16)), 3)
}
train M {
    data      = csv(path: "t.csv", label: "y")
    test      = csv(path: "t.csv", label: "y")
    loss      = cross_entropy
    optimizer = adam(lr: 0.05)
    batch     = 16
` + settings + "}\n"
	path := filepath.Join(dir, "m.dl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	m, _, err := compiler.Compile(path, []byte(src), compiler.Options{Optimize: true, Overrides: overrides})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m)
	if err != nil {
		t.Fatal(err)
	}
	return tr, path
}

func runLoop(t *testing.T, tr *Trainer, o RunOptions) string {
	t.Helper()
	var out bytes.Buffer
	o.Out = &out
	if o.Epochs == 0 {
		o.Epochs = -1
	}
	o.Seed = -1
	if err := Train(tr, o); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return out.String()
}

func loadVars(t *testing.T, path string) map[string]checkpoint.Tensor {
	t.Helper()
	ts, _, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for n := range ts {
		if strings.HasPrefix(n, optPrefix) {
			delete(ts, n)
		}
	}
	return ts
}

func sameVars(t *testing.T, what string, got map[string]*runtime.Tensor, want map[string]checkpoint.Tensor) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d tensors, want %d", what, len(got), len(want))
	}
	for n, w := range want {
		if !slices.Equal(got[n].Data, w.Data) {
			t.Fatalf("%s: %s differs", what, n)
		}
	}
}

// TestEarlyStopRestoresBest: a monitor that cannot improve by min_delta after its first
// epoch stops the run after patience epochs, before its last, and the run ends in the first
// epoch's weights, which the .best checkpoint and the final checkpoint both hold, as a
// run of one epoch left them. A patience that never runs out still restores the best.
func TestEarlyStopRestoresBest(t *testing.T) {
	dir := t.TempDir()
	ref, _ := loopModel(t, "    epochs = 1\n    validation = fraction(0.2)\n")
	runLoop(t, ref, RunOptions{})

	tr, src := loopModel(t, "    epochs = 10\n    validation = fraction(0.2)\n    early_stopping = patience(2, min_delta: 100)\n")
	save := filepath.Join(dir, "w.safetensors")
	out := runLoop(t, tr, RunOptions{Source: src, Save: save})
	for _, want := range []string{"epoch 3/10", "early stopping: val_loss has not improved for 2 epochs", "restored the weights of epoch 1", "val_accuracy"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "epoch 4/10") {
		t.Fatalf("the run went on after its patience ran out:\n%s", out)
	}
	ref1 := map[string]checkpoint.Tensor{}
	for n, v := range ref.Vars {
		ref1[n] = checkpoint.Tensor{Shape: v.Shape, Data: v.Data}
	}
	sameVars(t, "restored weights", tr.Vars, ref1)
	sameVars(t, "final checkpoint", tr.Vars, loadVars(t, save))
	sameVars(t, ".best checkpoint", tr.Vars, loadVars(t, BestPath(save)))
	// A finished run is not resumed.
	again, _ := loopModel(t, "    epochs = 10\n    validation = fraction(0.2)\n    early_stopping = patience(2, min_delta: 100)\n")
	if err := Train(again, RunOptions{Epochs: -1, Seed: -1, Resume: save}); err == nil || !strings.Contains(err.Error(), "the run has finished") {
		t.Fatalf("resume of a finished run: got %v", err)
	}

	// Patience that never runs out: the best epoch by val_loss is restored at the end.
	tr2, src2 := loopModel(t, "    epochs = 6\n    validation = fraction(0.2)\n    early_stopping = patience(100)\n")
	save2 := filepath.Join(dir, "w2.safetensors")
	metrics := filepath.Join(dir, "m.jsonl")
	out = runLoop(t, tr2, RunOptions{Source: src2, Save: save2, Metrics: metrics})
	if !strings.Contains(out, "epoch 6/6") || !strings.Contains(out, "restored the weights of epoch") {
		t.Fatalf("output:\n%s", out)
	}
	sameVars(t, "restored best", tr2.Vars, loadVars(t, BestPath(save2)))
}

// TestEarlyStopResumes: a run with early stopping and a plateau schedule stopped part-way
// by --steps and resumed ends where the uninterrupted one does, bit for bit: the monitor's
// standing and the plateau's scale are in the run state, the best weights in .best.
func TestEarlyStopResumes(t *testing.T) {
	settings := "    epochs = 5\n    validation = fraction(0.2)\n    early_stopping = patience(50, monitor: \"train_loss\")\n    schedule = plateau(0, factor: 0.5, monitor: \"val_loss\")\n"
	dir := t.TempDir()
	whole, src := loopModel(t, settings)
	out := runLoop(t, whole, RunOptions{Source: src, Save: filepath.Join(dir, "a.safetensors")})
	if !strings.Contains(out, "restored the weights of epoch 5") || whole.Opts[0].LearningRate() >= 0.05 {
		t.Fatalf("want the last epoch best by train_loss and the rate cut at least once (rate %v):\n%s", whole.Opts[0].LearningRate(), out)
	}

	part, _ := loopModel(t, settings)
	b := filepath.Join(dir, "b.safetensors")
	runLoop(t, part, RunOptions{Source: src, Save: b, Steps: 11}) // inside epoch 3
	rest, _ := loopModel(t, settings)
	runLoop(t, rest, RunOptions{Source: src, Save: b, Resume: b})
	sameVars(t, "resumed", rest.Vars, loadVars(t, filepath.Join(dir, "a.safetensors")))
	if got, want := rest.Opts[0].LearningRate(), whole.Opts[0].LearningRate(); got != want {
		t.Fatalf("resumed run's rate %v, want %v", got, want)
	}
}

// TestBestCheckpointByTestLoss: without validation or early stopping, --save keeps the
// best epoch by the test loss in W.best.safetensors.
func TestBestCheckpointByTestLoss(t *testing.T) {
	tr, src := loopModel(t, "    epochs = 3\n")
	save := filepath.Join(t.TempDir(), "w.safetensors")
	out := runLoop(t, tr, RunOptions{Source: src, Save: save})
	if !strings.Contains(out, "wrote the best epoch's weights") {
		t.Fatalf("output:\n%s", out)
	}
	if _, err := os.Stat(BestPath(save)); err != nil {
		t.Fatal(err)
	}
}

// TestScheduleRates: each schedule's rate at chosen epochs is its formula's.
func TestScheduleRates(t *testing.T) {
	const base = 0.1
	for _, tc := range []struct {
		sc     ir.Schedule
		epochs int
		at     map[int]float64
	}{
		{ir.Schedule{Name: "step", Args: map[string]float64{"every": 3, "gamma": 0.5}}, 10,
			map[int]float64{1: base, 3: base, 4: base * 0.5, 7: base * 0.25, 10: base * 0.125}},
		{ir.Schedule{Name: "exponential", Args: map[string]float64{"gamma": 0.9}}, 10,
			map[int]float64{1: base, 2: base * 0.9, 5: base * math.Pow(0.9, 4)}},
		{ir.Schedule{Name: "cosine", Args: map[string]float64{"warmup": 2}}, 10,
			map[int]float64{1: base / 3, 2: base * 2 / 3, 3: base, 8: base * (1 + math.Cos(math.Pi*5/8)) / 2, 10: base * (1 + math.Cos(math.Pi*7/8)) / 2}},
		{ir.Schedule{Name: "cosine", Args: map[string]float64{"min_lr": 0.01, "epochs": 4}}, 10,
			map[int]float64{1: base, 3: 0.01 + (base-0.01)*(1+math.Cos(math.Pi/2))/2, 9: 0.01 + (base-0.01)*(1+math.Cos(math.Pi))/2}},
	} {
		s, err := newSchedule(&tc.sc, base, tc.epochs)
		if err != nil {
			t.Fatal(err)
		}
		for e, want := range tc.at {
			if got := s.rate(e); math.Abs(got-want) > 1e-12 {
				t.Errorf("%s: epoch %d: rate %v, want %v", tc.sc.Source(), e, got, want)
			}
		}
	}
	// plateau: patience 1 cuts after the second epoch without improvement.
	mon := &ir.Monitor{Patience: 1, Metric: "val_loss", Mode: "min"}
	s, err := newSchedule(&ir.Schedule{Name: "plateau", Args: map[string]float64{"patience": 1, "factor": 0.5}, Monitor: mon}, base, 10)
	if err != nil {
		t.Fatal(err)
	}
	var rates []float64
	for _, v := range []float64{1, 0.5, 0.6, 0.7, 0.4, 0.8, 0.9} {
		rates = append(rates, s.rate(0))
		s.observe(v)
	}
	if want := []float64{base, base, base, base, base / 2, base / 2, base / 2}; !slices.Equal(rates, want) {
		t.Errorf("plateau rates %v, want %v", rates, want)
	}
	if s.rate(0) != base/4 {
		t.Errorf("plateau after two more bad epochs: %v, want %v", s.rate(0), base/4)
	}
	if _, err := newSchedule(&ir.Schedule{Name: "cosine", Args: map[string]float64{"warmup": 3, "epochs": 2}}, base, 10); err == nil {
		t.Error("a warm-up longer than the cosine: no error")
	}
	if _, err := newSchedule(&ir.Schedule{Name: "linear"}, base, 10); err == nil || !strings.Contains(err.Error(), "unknown schedule") {
		t.Errorf("unknown schedule: %v", err)
	}
}

// TestClipBoundsNorm: norm clipping scales gradients of a larger global norm to the bound,
// keeping their direction, and leaves smaller ones alone; value clipping bounds every
// element.
func TestClipBoundsNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	grads := map[string]*runtime.Tensor{"a": runtime.NewTensor(10), "b": runtime.NewTensor(3, 4)}
	for _, g := range grads {
		for i := range g.Data {
			g.Data[i] = float32(rng.NormFloat64() * 5)
		}
	}
	params := []string{"a", "b"}
	before := grads["a"].Clone()
	n0 := clipGrads(&ir.Clip{Kind: "norm", Max: 1}, params, grads)
	if n0 <= 1 {
		t.Fatalf("test gradients' norm %v, want > 1", n0)
	}
	if n := gradNorm(params, grads); n > 1+1e-5 || n < 1-1e-4 {
		t.Errorf("clipped norm %v, want 1", n)
	}
	if r := float64(grads["a"].Data[3] / before.Data[3]); math.Abs(r-1/n0) > 1e-5 {
		t.Errorf("scale %v, want %v", r, 1/n0)
	}
	kept := grads["b"].Clone()
	clipGrads(&ir.Clip{Kind: "norm", Max: 2}, params, grads)
	if !slices.Equal(kept.Data, grads["b"].Data) {
		t.Error("gradients within the norm were changed")
	}
	grads["a"].Data[0] = 3
	clipGrads(&ir.Clip{Kind: "value", Max: 0.05}, params, grads)
	for _, g := range grads {
		for _, v := range g.Data {
			if v > 0.05 || v < -0.05 {
				t.Fatalf("value clipping left %v", v)
			}
		}
	}
	// In a run: one SGD step of rate 1 moves no weight by more than the clipped value.
	sgd, _ := loopModel(t, "    epochs = 1\n    clip = value(0.001)\n", compiler.Override{Key: "optimizer", Value: "sgd(lr: 1)"})
	if err := sgd.InitParams(1); err != nil {
		t.Fatal(err)
	}
	start := cloneVars(sgd.Vars)
	runLoop(t, sgd, RunOptions{Steps: 1})
	for n, v := range sgd.Vars {
		for i, x := range v.Data {
			if d := math.Abs(float64(x - start[n].Data[i])); d > 0.001+1e-6 { // 1e-6: a float32 rounding of the weight
				t.Fatalf("%s[%d] moved %v in one step, more than the clip 0.001", n, i, d)
			}
		}
	}
	// Clipping with a schedule keeps training finite, and the lines show the rate.
	tr, src := loopModel(t, "    epochs = 4\n    clip = norm(0.5)\n    schedule = step(every: 2, gamma: 0.5)\n")
	out := runLoop(t, tr, RunOptions{Source: src})
	if !strings.Contains(out, "lr 0.025") {
		t.Errorf("the epoch lines do not show the scheduled rate:\n%s", out)
	}
}

// TestLogDir: each run gets a new version folder with its epochs, its steps every N, its
// settings and its source.
func TestLogDir(t *testing.T) {
	logs := t.TempDir()
	for v := range 2 {
		tr, src := loopModel(t, "    epochs = 2\n    validation = fraction(0.2)\n", compiler.Override{Key: "lr", Value: "0.01"})
		out := runLoop(t, tr, RunOptions{Source: src, LogDir: logs, LogEvery: 2, Sources: map[string][]byte{src: []byte("x")}, ShowSettings: true})
		dir := filepath.Join(logs, fmt.Sprintf("version_%d", v))
		if !strings.Contains(out, "logging to "+dir) || !strings.Contains(out, "optimizer = adam(lr: 0.01)") {
			t.Fatalf("output:\n%s", out)
		}
		rows := readCSV(t, filepath.Join(dir, "metrics.csv"))
		if len(rows) != 3 || rows[0][0] != "epoch" || !slices.Contains(rows[0], "val_loss") || rows[2][0] != "2" {
			t.Fatalf("metrics.csv: %v", rows)
		}
		steps := readCSV(t, filepath.Join(dir, "steps.csv"))
		// 72 training rows, batches of 16: 5 steps an epoch, 10 in all; every second one.
		if len(steps) != 6 || steps[1][0] != "2" || steps[5][0] != "10" || steps[0][4] != "lr" || steps[1][4] != "0.01" {
			t.Fatalf("steps.csv: %v", steps)
		}
		settings, err := os.ReadFile(filepath.Join(dir, "settings.txt"))
		if err != nil || !strings.Contains(string(settings), "validation = fraction(0.2)\n") {
			t.Fatalf("settings.txt: %q, %v", settings, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "source", strings.TrimLeft(src, "/"))); err != nil {
			t.Fatal(err)
		}
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestHoldOut: the split is the seed's, the same every time, and leaves both sides
// non-empty.
func TestHoldOut(t *testing.T) {
	k1, h1, _ := holdOut(100, 0.1, 3)
	k2, h2, _ := holdOut(100, 0.1, 3)
	_, h3, _ := holdOut(100, 0.1, 4)
	if len(h1) != 10 || len(k1) != 90 || !slices.Equal(h1, h2) || !slices.Equal(k1, k2) || slices.Equal(h1, h3) {
		t.Fatalf("hold-out: %v / %v / %v", h1, h2, h3)
	}
	if k, h, _ := holdOut(3, 0.01, 1); len(k) != 2 || len(h) != 1 {
		t.Fatalf("small hold-out: %v %v", k, h)
	}
}

// TestScheduleByStep: a schedule with interval: "step" sets the rate before every
// optimiser step from the phase's step count (steps.csv logs the rate each step used),
// and a run stopped inside an epoch and resumed ends where the uninterrupted one does.
func TestScheduleByStep(t *testing.T) {
	settings := "    epochs = 3\n    schedule = cosine(warmup: 2, epochs: 12, interval: \"step\")\n"
	want := func(s int) float64 { // the formula, base 0.05, w = 2, T = 12
		if s <= 2 {
			return 0.05 * float64(s) / 3
		}
		k := min(s-3, 10)
		return 0.05 * (1 + math.Cos(math.Pi*float64(k)/10)) / 2
	}
	dir := t.TempDir()
	logs := t.TempDir()
	whole, src := loopModel(t, settings)
	runLoop(t, whole, RunOptions{Source: src, Save: filepath.Join(dir, "a.safetensors"), LogDir: logs, LogEvery: 1})
	steps := readCSV(t, filepath.Join(logs, "version_0", "steps.csv"))
	// 90 rows in batches of 16: 6 steps an epoch, 18 in all.
	if len(steps) != 19 || whole.PhaseSteps[0] != 18 {
		t.Fatalf("steps.csv has %d rows, phase steps %v; want 18 steps", len(steps)-1, whole.PhaseSteps)
	}
	for _, row := range steps[1:] {
		s, _ := strconv.Atoi(row[0])
		lr, err := strconv.ParseFloat(row[4], 64)
		if err != nil || math.Abs(lr-want(s)) > 1e-15*want(s) {
			t.Errorf("step %d: rate %s, want %v", s, row[4], want(s))
		}
	}

	part, _ := loopModel(t, settings)
	b := filepath.Join(dir, "b.safetensors")
	runLoop(t, part, RunOptions{Source: src, Save: b, Steps: 8}) // inside epoch 2
	rest, _ := loopModel(t, settings)
	runLoop(t, rest, RunOptions{Source: src, Save: b, Resume: b})
	sameVars(t, "resumed", rest.Vars, loadVars(t, filepath.Join(dir, "a.safetensors")))
	if got, want := rest.Opts[0].LearningRate(), whole.Opts[0].LearningRate(); got != want || rest.PhaseSteps[0] != 18 {
		t.Fatalf("resumed run's rate %v after %v steps, want %v after 18", got, rest.PhaseSteps, want)
	}
}

// TestValidationConcat: validation takes concat(…) as any other data source: the two
// parts joined, each repeated its weight.
func TestValidationConcat(t *testing.T) {
	tr, src := loopModel(t, "    epochs = 1\n    validation = concat(csv(path: \"t.csv\", label: \"y\"), csv(path: \"t.csv\", label: \"y\"), weight_b: 2)\n")
	out := runLoop(t, tr, RunOptions{Source: src})
	if !strings.Contains(out, "(270 validation samples)") || !strings.Contains(out, "val_loss") {
		t.Fatalf("want 90 + 2·90 validation samples and a val_loss:\n%s", out)
	}
}
