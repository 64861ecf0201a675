package main

import (
	"math"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/runtime"
)

// TestBatchNormAndDropoutModes compiles one source and checks both modes against numbers
// computed here: in training, batch norm normalises by the batch's statistics and its step
// returns the updated running mean and (unbiased) variance, and dropout zeroes about p of
// the elements and scales the rest by 1/(1 − p); in evaluation, batch norm uses the running
// statistics and dropout is the identity.
func TestBatchNormAndDropoutModes(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "y.csv", "a,b,y\n1,2,0\n3,5,1\n")
	path := writeFile(t, dir, "bn.dl", `
model M(x: [B, 2]) -> [B, 2] {
    return batchnorm(x, momentum: 0.5)
}
model Drop(x: [B, 1000]) -> [B, 1000] {
    return dropout(x, 0.25)
}
train M {
    data = csv(path: "y.csv", label: "y", target: "value")
    loss = mse
}
`)
	tr := trainerFor(t, path, 1)
	// A batch of 4 rows with 2 features: column means 2.5 and 10, biased variances 1.25 and 62.5.
	x := &runtime.Tensor{Shape: []int{4, 2}, Data: []float32{1, 0, 2, 5, 3, 15, 4, 20}}
	y := runtime.NewTensor(4, 2)
	step, err := tr.Program("M.step")
	if err != nil {
		t.Fatal(err)
	}
	outs, err := step.Run(map[string]*runtime.Tensor{"x": x, "y": y}, tr.Vars)
	if err != nil {
		t.Fatal(err)
	}
	near := func(what string, got float32, want float64) {
		t.Helper()
		if math.Abs(float64(got)-want) > 1e-4*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	rm, rv := outs["state:M.batchnorm0.running_mean"], outs["state:M.batchnorm0.running_var"]
	if rm == nil || rv == nil {
		t.Fatalf("M.step has no state outputs: %v", keys(outs))
	}
	near("running_mean[0]", rm.Data[0], 0.5*2.5)
	near("running_mean[1]", rm.Data[1], 0.5*10)
	near("running_var[0]", rv.Data[0], 0.5*1+0.5*1.25*4/3)
	near("running_var[1]", rv.Data[1], 0.5*1+0.5*62.5*4/3)
	// The loss is mse(batchnorm(x), 0) = mean of xhat² = 1 - eps/(var+eps) per feature.
	near("loss", outs["loss"].Data[0], 0.5*(1.25/(1.25+1e-5)+62.5/(62.5+1e-5)))

	// Evaluation mode reads the running statistics: ones and zeros at the start.
	eval, err := tr.Program("M")
	if err != nil {
		t.Fatal(err)
	}
	res, err := eval.Run(map[string]*runtime.Tensor{"x": x}, tr.Vars)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range x.Data {
		near("eval batchnorm", res["out"].Data[i], float64(v)/math.Sqrt(1+1e-5))
	}
	drop, err := tr.Program("Drop")
	if err != nil {
		t.Fatal(err)
	}
	ones := runtime.NewTensor(1, 1000)
	for i := range ones.Data {
		ones.Data[i] = 1
	}
	res, err = drop.Run(map[string]*runtime.Tensor{"x": ones}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range res["out"].Data {
		if v != 1 {
			t.Fatalf("dropout in evaluation changed a value to %v", v)
		}
	}
	// Training mode: Drop trained against zeros on ones has loss mean(out²), which is
	// (kept fraction)·(1/0.75)², about 4/3.
	path = writeFile(t, dir, "drop.dl", `
model Drop(x: [B, 1000]) -> [B, 1000] {
    return dropout(x, 0.25)
}
train Drop {
    data = csv(path: "y.csv", label: "y", target: "value")
    loss = mse
}
`)
	tr = trainerFor(t, path, 1)
	if step, err = tr.Program("Drop.step"); err != nil {
		t.Fatal(err)
	}
	var losses []float32
	for i := 0; i < 2; i++ {
		outs, err = step.Run(map[string]*runtime.Tensor{"x": ones, "y": runtime.NewTensor(1, 1000)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		l := outs["loss"].Data[0]
		losses = append(losses, l)
		if kept := float64(l) * 0.75 * 0.75; math.Abs(kept-0.75) > 0.06 {
			t.Errorf("dropout(p = 0.25) kept %.3f of the elements, want about 0.75", kept)
		}
	}
	if losses[0] == losses[1] {
		t.Error("two training runs dropped the same elements")
	}
}

func keys(m map[string]*runtime.Tensor) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestCheckFiniteNamesTheLine injects a NaN (log of a negative number) and checks that
// --check-finite reports the op and its .dl line with the source line and a caret, and
// that without it the bad loss still stops the run with exit 1, naming the loss's line.
func TestCheckFiniteNamesTheLine(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "y.csv", "a,b,y\n1,2,0\n3,5,1\n")
	path := writeFile(t, dir, "nan.dl", `model M(x: [B, 2]) -> [B, 1] {
    h = log(dense(x, 4) - 100)
    return dense(h, 1)
}
train M {
    data = csv(path: "y.csv", label: "y", target: "value")
    loss = mse
}
`)
	code, _, stderr := run(t, "run", path, "--check-finite", "--out", dir)
	want := "nan.dl:2:9: log: result [2, 4] holds NaN\n        h = log(dense(x, 4) - 100)\n            ^"
	if code != 1 || !strings.Contains(stderr, "log") || !strings.Contains(stderr, "nan.dl:2:9") || !strings.Contains(stderr, "^") {
		t.Errorf("--check-finite: exit %d, stderr:\n%s\nwant something like:\n%s", code, stderr, want)
	}
	code, _, stderr = run(t, "run", path, "--out", dir)
	if code != 1 || !strings.Contains(stderr, "is NaN at step 1") {
		t.Errorf("without --check-finite: exit %d, stderr:\n%s", code, stderr)
	}
}
