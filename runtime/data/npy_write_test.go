package data

import (
	"bytes"
	"slices"
	"testing"
)

// TestWriteNPYRoundTrip writes arrays of several ranks and reads them back with ReadNPY.
func TestWriteNPYRoundTrip(t *testing.T) {
	for _, shape := range [][]int{{3}, {2, 3}, {2, 1, 2, 2}, {0, 4}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		vals := make([]float32, n)
		for i := range vals {
			vals[i] = float32(i)*0.5 - 1
		}
		var buf bytes.Buffer
		if err := WriteNPY(&buf, shape, vals); err != nil {
			t.Fatal(err)
		}
		if off := bytes.IndexByte(buf.Bytes(), '\n') + 1; off%64 != 0 {
			t.Errorf("shape %v: data starts at byte %d, want a multiple of 64", shape, off)
		}
		got, gshape, descr, err := ReadNPY(bytes.NewReader(buf.Bytes()), "x.npy")
		if err != nil {
			t.Fatalf("shape %v: %v", shape, err)
		}
		if !slices.Equal(gshape, shape) || !slices.Equal(got, vals) || descr != "<f4" {
			t.Errorf("shape %v: read back %v %v %q", shape, gshape, got, descr)
		}
	}
	if err := WriteNPY(&bytes.Buffer{}, []int{2, 2}, []float32{1}); err == nil {
		t.Error("a shape that does not fit the values was written")
	}
}

func TestWriteNPYInt32RoundTrip(t *testing.T) {
	vals := []int32{0, -1, 5, 1 << 20, 7, 8}
	var buf bytes.Buffer
	if err := WriteNPYInt32(&buf, []int{3, 2}, vals); err != nil {
		t.Fatal(err)
	}
	got, shape, descr, err := ReadNPY(bytes.NewReader(buf.Bytes()), "e.npy")
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{0, -1, 5, 1 << 20, 7, 8}
	if !slices.Equal(shape, []int{3, 2}) || !slices.Equal(got, want) || descr != "<i4" {
		t.Errorf("read back %v %v %q", shape, got, descr)
	}
}
