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
	if mse, err := tr.TargetMSE("m.dl", x, y, data.Options{}); err != nil || math.Abs(mse-1) > 1e-9 {
		t.Errorf("TargetMSE = %v, %v; want 1 (one value off by 2 of four)", mse, err)
	}
	long := &runtime.Tensor{Shape: []int{4, 2}, Data: make([]float32, 8)}
	if _, err := tr.TargetMSE("m.dl", x, long, data.Options{}); err == nil || !strings.Contains(err.Error(), "holds 6 values, fewer than the 8 outputs") {
		t.Errorf("a short target: %v", err)
	}
}
