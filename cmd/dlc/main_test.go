package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = mainErr(args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const example = "../../examples/autoencoder/ae.dl"

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	shapeErr := writeFile(t, dir, "shape.dl", "model M(x: [B, 28, 28]) -> [B, 64] {\n    return relu(dense(x, 64))\n}\n")
	syntaxErr := writeFile(t, dir, "syntax.dl", "model M(x: [B, 10]) -> [B, 10] {\n    h = relu(x\n    return h\n}\n")
	cases := []struct {
		args       []string
		code       int
		wantStderr string
	}{
		{[]string{"check", example}, 0, ""},
		{[]string{"check", shapeErr}, 1, "shape.dl:2:23: dense: x: got [B, 28, 28], want rank 2 [B, F]\n    return relu(dense(x, 64))\n                      ^"},
		{[]string{"check", syntaxErr}, 1, "syntax.dl:3:5: unexpected \"return\""},
		{[]string{"check", filepath.Join(dir, "missing.dl")}, 1, "missing.dl: no such file or directory"},
		{[]string{"compile", shapeErr}, 1, "shape.dl:2:23"},
		{[]string{"run", shapeErr}, 1, "shape.dl:2:23"},
		{nil, 2, "usage"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"check"}, 2, "want one FILE"},
		{[]string{"run", example, "--no-such-flag"}, 2, "unknown flag --no-such-flag"},
		{[]string{"compile", example, "--show", "sideways"}, 2, "--show"},
	}
	for _, c := range cases {
		code, _, stderr := run(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.wantStderr) {
			t.Errorf("dlc %v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.wantStderr)
		}
		if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine") {
			t.Errorf("dlc %v panicked: %s", c.args, stderr)
		}
	}
}

func TestCompileAndParams(t *testing.T) {
	code, out, stderr := run(t, "compile", example, "--show", "both")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"# before optimisation", "# after optimisation", "func @AE.step", "matmul", "dense %", "# memory at batch 128: 10.2 MiB"} {
		if !strings.Contains(out, want) {
			t.Errorf("compile output lacks %q", want)
		}
	}
	dir := t.TempDir()
	outFile := filepath.Join(dir, "ae.ir")
	if code, _, stderr := run(t, "compile", example, "-o", outFile); code != 0 {
		t.Fatalf("compile -o: exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(outFile); err != nil || !strings.Contains(string(b), "func @Enc") {
		t.Errorf("compile -o wrote %q, %v", b, err)
	}
	code, out, _ = run(t, "params", example)
	if code != 0 || !strings.Contains(out, "Enc.dense0.weight  [784, 256]") || !regexp.MustCompile(`total\s+435536`).MatchString(out) {
		t.Errorf("params: exit %d, output:\n%s", code, out)
	}
}

var testLossRe = regexp.MustCompile(`test_loss (\d+\.\d+)`)

func testLoss(t *testing.T, out string) float64 {
	t.Helper()
	m := testLossRe.FindAllStringSubmatch(out, -1)
	if m == nil {
		t.Fatalf("no test_loss in output:\n%s", out)
	}
	v, _ := strconv.ParseFloat(m[len(m)-1][1], 64)
	return v
}

// A short run on real MNIST learns, is reproducible, and its checkpoint reloads to the same
// test loss.
func TestRunSaveInit(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST")
	}
	dir := t.TempDir()
	w := filepath.Join(dir, "w.safetensors")
	metrics := filepath.Join(dir, "m.jsonl")
	code, out, stderr := run(t, "run", example, "--steps", "60", "--seed", "7", "--save", w, "--metrics", metrics, "--out", dir)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	trained := testLoss(t, out)
	// Measured: 0.2148 after 60 steps with seed 7 (an untrained model gives ln 2 = 0.69).
	if trained > 0.25 {
		t.Errorf("test loss after 60 steps = %.4f, want < 0.25: the model did not learn", trained)
	}
	for _, f := range []string{"autoencoder-ae-loss.png", "autoencoder-ae-recon.png"} { // the file is examples/autoencoder/ae.dl
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("picture %s: %v", f, err)
		}
	}
	b, err := os.ReadFile(metrics)
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(bytes.Split(b, []byte("\n"))[0], &rec); err != nil {
		t.Fatalf("metrics line: %v: %s", err, b)
	}
	for _, k := range []string{"epoch", "train_loss", "test_loss", "seconds"} {
		if _, ok := rec[k]; !ok {
			t.Errorf("metrics line lacks %s: %s", k, b)
		}
	}

	// The same seed gives the same numbers.
	_, again, _ := run(t, "run", example, "--steps", "60", "--seed", "7", "--out", dir)
	if l := testLoss(t, again); l != trained {
		t.Errorf("second run with the same seed: test loss %v, first %v", l, trained)
	}

	// The saved weights evaluate to the same test loss.
	code, out, stderr = run(t, "run", example, "--init", w, "--epochs", "0", "--out", dir)
	if code != 0 {
		t.Fatalf("run --init: exit %d: %s", code, stderr)
	}
	if l := testLoss(t, out); l != trained {
		t.Errorf("--init: test loss %v, want %v", l, trained)
	}

	// A corrupt checkpoint is an error naming the file, and the run does not start.
	bad := writeFile(t, dir, "bad.safetensors", "\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ")
	code, _, stderr = run(t, "run", example, "--init", bad, "--epochs", "0", "--out", dir)
	if code != 1 || !strings.Contains(stderr, "bad.safetensors") {
		t.Errorf("corrupt --init: exit %d, stderr %q", code, stderr)
	}
}

// A plain model trains on a CSV file the test generates with a fixed seed: a regression of
// y = 2·a − b + 0.5·c + noise. Paths in the .dl file are relative to it.
func TestRunRegressionCSV(t *testing.T) {
	dir := t.TempDir()
	var sb strings.Builder
	sb.WriteString("a,b,c,y\n")
	r := uint64(12345)
	next := func() float64 { // a small LCG: the data must not depend on math/rand's versions
		r = r*6364136223846793005 + 1442695040888963407
		return float64(r>>11)/float64(1<<53)*2 - 1
	}
	for i := 0; i < 512; i++ {
		a, b, c := next(), next(), next()
		y := 2*a - b + 0.5*c + 0.01*next()
		sb.WriteString(strconv.FormatFloat(a, 'g', 6, 64) + "," + strconv.FormatFloat(b, 'g', 6, 64) + "," +
			strconv.FormatFloat(c, 'g', 6, 64) + "," + strconv.FormatFloat(y, 'g', 6, 64) + "\n")
	}
	writeFile(t, dir, "points.csv", sb.String())
	model := writeFile(t, dir, "reg.dl", `
model Reg(x: [B, 3]) -> [B, 1] {
    return dense(tanh(dense(x, 16)), 1)
}
train Reg {
    data      = csv(path: "points.csv", label: "y", target: "value")
    test      = csv(path: "points.csv", label: "y", target: "value")
    loss      = mse
    optimizer = adam(lr: 0.01)
    batch     = 32
    epochs    = 20
    seed      = 3
}
`)
	code, out, stderr := run(t, "run", model, "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	t.Log(out)
	// Measured: test mse 0.0014 after 20 epochs (the targets vary with a variance near 1.75).
	if l := testLoss(t, out); l > 0.01 {
		t.Errorf("test mse after 20 epochs = %.4f, want < 0.01:\n%s", l, out)
	}
}

// The MNIST classifier example learns: 100 steps reach a test accuracy well above chance.
func TestRunClassifier(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST")
	}
	code, out, stderr := run(t, "run", "../../examples/classifier/mlp.dl", "--steps", "100", "--out", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	m := regexp.MustCompile(`test_accuracy (\d+\.\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no test_accuracy in:\n%s", out)
	}
	// Measured: 0.91 after 100 steps with the example's seed.
	if acc, _ := strconv.ParseFloat(m[1], 64); acc < 0.85 {
		t.Errorf("test accuracy after 100 steps = %.4f, want > 0.85", acc)
	}
}

func TestParseMemory(t *testing.T) {
	for in, want := range map[string]int64{"none": 0, "0": 0, "512": 512, "4K": 4 << 10, "1.5G": 3 << 29, "2GiB": 2 << 30, "8MB": 8 << 20, "1t": 1 << 40} {
		if got, err := parseMemory(in); err != nil || got != want {
			t.Errorf("parseMemory(%q) = %d, %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "lots", "4X", "1e30G", "NaN"} {
		if got, err := parseMemory(in); err == nil {
			t.Errorf("parseMemory(%q) = %d, want an error", in, got)
		}
	}
	if _, err := parseMemory("auto"); err != nil {
		t.Error(err)
	}
}

// Every command answers --help and dlc help COMMAND on stdout with exit 0, in lines that
// fit 80 columns; --version prints one line.
func TestHelpAndVersion(t *testing.T) {
	for _, cmd := range []string{"check", "compile", "params", "run", "apply", "sample", "score", "embed", "anomaly", "fmt", "lsp", "help"} {
		for _, args := range [][]string{{cmd, "--help"}, {cmd, "-h"}, {"help", cmd}} {
			code, out, stderr := run(t, args...)
			if code != 0 || stderr != "" || !strings.HasPrefix(out, "usage: dlc "+cmd+" ") {
				t.Errorf("dlc %v: exit %d, stderr %q, stdout %q", args, code, stderr, out)
			}
			for _, line := range strings.Split(out, "\n") {
				if n := len([]rune(line)); n > 80 {
					t.Errorf("dlc %v: a line of %d characters: %q", args, n, line)
				}
			}
		}
	}
	if code, out, _ := run(t, "--help"); code != 0 || !strings.Contains(out, "anomaly FILE") {
		t.Errorf("dlc --help: exit %d, %q", code, out)
	}
	if code, out, _ := run(t, "--version"); code != 0 || !strings.HasPrefix(out, "dlc ") || strings.Count(out, "\n") != 1 {
		t.Errorf("dlc --version: exit %d, %q", code, out)
	}
}
