package train

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/data"
)

// dlc apply's rows (-n) and its error against targets: the first n rows of a .npy file, and
// the mean squared difference of outputs from the first rows of another.
func TestFirstRowsAndTargetMSE(t *testing.T) {
	x := filepath.Join(t.TempDir(), "x.npy")
	if err := WriteNPY(x, &runtime.Tensor{Shape: []int{3, 2}, Data: []float32{1, 2, 3, 4, 5, 6}}); err != nil {
		t.Fatal(err)
	}
	var tr Trainer // TargetMSE reads no train block for a file
	all, err := ReadNPY(x)
	if err != nil {
		t.Fatal(err)
	}
	if rows := firstRows(all, 2); len(rows.Shape) != 2 || rows.Shape[0] != 2 || len(rows.Data) != 4 || rows.Data[3] != 4 {
		t.Fatalf("the first 2 rows: %v", rows)
	}
	y := &runtime.Tensor{Shape: []int{2, 2}, Data: []float32{1, 2, 3, 6}}
	if fit, err := tr.TargetFit("m.dl", x, y, data.Options{}, 1); err != nil || math.Abs(fit.MSE-1) > 1e-9 {
		t.Errorf("TargetFit = %+v, %v; want MSE 1 (one value off by 2 of four)", fit, err)
	}
	long := &runtime.Tensor{Shape: []int{4, 2}, Data: make([]float32, 8)}
	if _, err := tr.TargetFit("m.dl", x, long, data.Options{}, 1); err == nil || !strings.Contains(err.Error(), "holds 6 values, fewer than the 8 outputs") {
		t.Errorf("a short target: %v", err)
	}
}

// A mask target: PSNR against the peak, and IoU of the outputs at or above ½.
func TestTargetFitMask(t *testing.T) {
	m := filepath.Join(t.TempDir(), "m.npy")
	if err := WriteNPY(m, &runtime.Tensor{Shape: []int{2, 3}, Data: []float32{1, 1, 0, 0, 1, 0}}); err != nil {
		t.Fatal(err)
	}
	var tr Trainer
	// outputs on at 0, 1, 4 and 5: the mask's 0, 1, 4 are hit (3), the union is 0, 1, 4, 5 (4).
	y := &runtime.Tensor{Shape: []int{2, 3}, Data: []float32{0.9, 0.5, 0.1, 0, 1, 0.6}}
	fit, err := tr.TargetFit("m.dl", m, y, data.Options{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	mse := (0.01 + 0.25 + 0.01 + 0 + 0 + 0.36) / 6
	if !fit.Binary || math.Abs(fit.IoU-0.75) > 1e-9 || math.Abs(fit.MSE-mse) > 1e-6 || math.Abs(fit.PSNR-10*math.Log10(4/mse)) > 1e-4 {
		t.Errorf("TargetFit = %+v; want binary, IoU 0.75, MSE %g, PSNR %g", fit, mse, 10*math.Log10(4/mse))
	}
}
