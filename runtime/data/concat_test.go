package data

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

// concat joins two npy sources, each sample repeated by its source's weight, labels kept;
// samples or targets of two sizes are errors naming both.
func TestConcat(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, shape []int, v []float32) string {
		var buf bytes.Buffer
		if err := WriteNPY(&buf, shape, v); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	writeInts := func(name string, v []int32) string {
		var buf bytes.Buffer
		if err := WriteNPYInt32(&buf, []int{len(v)}, v); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ax, ay := write("a.npy", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}), writeInts("al.npy", []int32{0, 1})
	bx, by := write("b.npy", []int{1, 3}, []float32{7, 8, 9}), writeInts("bl.npy", []int32{2})
	part := func(x, y string) ir.DataSpec {
		return ir.DataSpec{Source: "npy", Args: map[string]string{"x": x, "y": y, "classes": "3"}}
	}
	spec := ir.DataSpec{Source: "concat", Args: map[string]string{"weight_b": "2"}, Parts: []ir.DataSpec{part(ax, ay), part(bx, by)}}
	s, err := Load(spec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.X, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 7, 8, 9}) || !slices.Equal(s.Labels, []int{0, 1, 2, 2}) || !slices.Equal(s.YShape, []int{4, 3}) || s.Y[11] != 1 {
		t.Errorf("concat: X %v, labels %v, Y %v %v", s.X, s.Labels, s.YShape, s.Y)
	}
	if d, err := Peek(spec, Options{}); err != nil || fmt.Sprint(d.X, d.Y) != "[3] [3]" {
		t.Errorf("Peek(concat) = %+v, %v; want samples [3], targets [3]", d, err)
	}
	wide := write("w.npy", []int{1, 4}, []float32{1, 2, 3, 4})
	spec.Parts[1] = ir.DataSpec{Source: "npy", Args: map[string]string{"x": wide}}
	if _, err := Load(spec, Options{}); err == nil || !strings.Contains(err.Error(), "a's samples hold 3 values ([3]) and b's 4 ([4]), want one size") {
		t.Errorf("samples of two sizes: %v", err)
	}
	if _, err := Peek(spec, Options{}); err == nil || !strings.Contains(err.Error(), "a's samples hold 3 values ([3]) and b's 4 ([4]), want one size") {
		t.Errorf("Peek: samples of two sizes: %v", err)
	}
	spec.Parts[1] = ir.DataSpec{Source: "npy", Args: map[string]string{"x": bx}}
	if _, err := Load(spec, Options{}); err == nil || !strings.Contains(err.Error(), "a's targets are [3] and b's absent") {
		t.Errorf("targets in one only: %v", err)
	}
}

// The files of a concat are its parts' files: what dlc sample keeps its outputs off.
func TestConcatFiles(t *testing.T) {
	part := func(x string) ir.DataSpec { return ir.DataSpec{Source: "npy", Args: map[string]string{"x": x}} }
	spec := ir.DataSpec{Source: "concat", Parts: []ir.DataSpec{part("a.npy"), part("b.npy")}}
	if got := Files(spec, Options{}); !slices.Equal(got, []string{"a.npy", "b.npy"}) {
		t.Errorf("Files(concat) = %v, want [a.npy b.npy]", got)
	}
}
