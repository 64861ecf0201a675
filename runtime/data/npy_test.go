package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// npyFile builds a .npy file the way numpy's format.write_array does:
// header padded with spaces so the data starts on a 64-byte boundary.
func npyFile(version byte, header string, data any) []byte {
	pre := 10
	if version > 1 {
		pre = 12
	}
	pad := 64 - (pre+len(header)+1)%64
	header += strings.Repeat(" ", pad%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY")
	b.Write([]byte{version, 0})
	if version == 1 {
		binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint32(len(header)))
	}
	b.WriteString(header)
	if data != nil {
		binary.Write(&b, binary.LittleEndian, data)
	}
	return b.Bytes()
}

func npyHeader(descr string, shape string) string {
	return fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
}

func TestNPY(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        []byte
		wantData  []float32
		wantShape []int
	}{
		{"f4 2x3", npyFile(1, npyHeader("<f4", "(2, 3)"), []float32{1, 2, 3, 4, 5, 6.5}), []float32{1, 2, 3, 4, 5, 6.5}, []int{2, 3}},
		{"f8 vector", npyFile(1, npyHeader("<f8", "(3,)"), []float64{0.5, -1, 1e10}), []float32{0.5, -1, 1e10}, []int{3}},
		{"i4", npyFile(1, npyHeader("<i4", "(2,)"), []int32{-7, 1 << 20}), []float32{-7, 1 << 20}, []int{2}},
		{"i8", npyFile(1, npyHeader("<i8", "(1, 2)"), []int64{-3, 9}), []float32{-3, 9}, []int{1, 2}},
		{"u1", npyFile(1, npyHeader("|u1", "(2, 2)"), []uint8{0, 1, 254, 255}), []float32{0, 1, 254, 255}, []int{2, 2}},
		{"scalar", npyFile(1, npyHeader("<f4", "()"), []float32{42}), []float32{42}, []int{}},
		{"empty", npyFile(1, npyHeader("<f4", "(0, 5)"), []float32{}), []float32{}, []int{0, 5}},
		{"version 2", npyFile(2, npyHeader("<f4", "(1,)"), []float32{3}), []float32{3}, []int{1}},
		{"version 3", npyFile(3, npyHeader("<f4", "(1,)"), []float32{3}), []float32{3}, []int{1}},
		{"keys reordered, double quotes, python 2 longs",
			npyFile(1, `{"shape": (2L,), "fortran_order": False, "descr": "<f4"}`, []float32{1, 2}), []float32{1, 2}, []int{2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, shape, err := NPY(writeTemp(t, "a.npy", tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantShape, shape); diff != "" {
				t.Errorf("shape (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantData, data); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNPYNumpyBytes checks a file byte for byte as numpy 1.26 writes
// np.save("a.npy", np.array([[1, 2], [3, 4]], dtype=np.float32)).
func TestNPYNumpyBytes(t *testing.T) {
	in := []byte("\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }" +
		strings.Repeat(" ", 117-59) + "\n" +
		"\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40\x00\x00\x80\x40")
	if len(in) != 128+16 {
		t.Fatalf("test file is %d bytes, want 144", len(in))
	}
	data, shape, _, err := ReadNPY(bytes.NewReader(in), "a.npy")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]float32{1, 2, 3, 4}, data); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{2, 2}, shape); diff != "" {
		t.Errorf("shape (-want +got):\n%s", diff)
	}
}

func TestNPYErrors(t *testing.T) {
	good := npyFile(1, npyHeader("<f4", "(2, 3)"), make([]float32, 6))
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "truncated npy preamble: got 0 bytes, want 8"},
		{"not npy", []byte("PK\x03\x04 zip file"), `bad magic "PK\x03\x04 z", want "\x93NUMPY": not a .npy file`},
		{"version 4", []byte("\x93NUMPY\x04\x00\x00\x00"), "npy format version 4.0, want 1.0, 2.0 or 3.0"},
		{"truncated header length", good[:9], "truncated npy header length: got 1 bytes, want 2"},
		{"truncated header", good[:40], "truncated npy header: got 30 bytes, want 118"},
		{"huge header", []byte("\x93NUMPY\x02\x00\xff\xff\xff\xff"), "npy header length 4294967295, want at most 1048576"},
		{"truncated data", good[:len(good)-1], "truncated data: got 23 bytes, want the 24 that shape [2 3] of <f4 describes"},
		{"trailing data", append(good, 0), "trailing bytes after the 24 that shape [2 3] of <f4 describes"},
		{"big endian", npyFile(1, npyHeader(">f4", "(1,)"), []float32{1}), `dtype ">f4" not supported, want one of <f4, <f8, <i4, <i8, |u1`},
		{"complex", npyFile(1, npyHeader("<c8", "(1,)"), []float32{1, 2}), `dtype "<c8" not supported, want one of <f4, <f8, <i4, <i8, |u1`},
		{"fortran", npyFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", []float32{1}),
			"fortran_order is True, want C order (save with np.ascontiguousarray)"},
		{"missing key", npyFile(1, "{'descr': '<f4', 'shape': (1,), }", []float32{1}),
			`npy header "{'descr': '<f4', 'shape': (1,), }": missing key "fortran_order"`},
		{"unknown key", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", []float32{1}),
			`npy header "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}": unknown key "x", want descr, fortran_order and shape`},
		{"duplicate key", npyFile(1, "{'descr': '<f4', 'descr': '<f4'}", nil),
			`npy header "{'descr': '<f4', 'descr': '<f4'}": duplicate key "descr"`},
		{"negative dim", npyFile(1, npyHeader("<f4", "(-1,)"), nil),
			`npy header "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }": shape: want a dimension (a non-negative integer) at offset 51`},
		{"not a dict", npyFile(1, "[1, 2]", nil), `npy header "[1, 2]": want '{' at offset 0`},
		{"unterminated", npyFile(1, "{'descr", nil), `npy header "{'descr": unterminated string at offset 1`},
		{"trailing junk", npyFile(1, npyHeader("<f4", "()")+" x", []float32{1}),
			`npy header "{'descr': '<f4', 'fortran_order': False, 'shape': (), } x": unexpected "x" after the dict`},
		{"too many values", npyFile(1, npyHeader("<f4", "(100000, 100000)"), nil),
			"shape [100000 100000] holds more than 1073741824 values or 4294967296 bytes"},
		{"too many bytes", npyFile(1, npyHeader("<f8", "(1073741824,)"), nil),
			"shape [1073741824] holds more than 1073741824 values or 4294967296 bytes"},
		{"nan", npyFile(1, npyHeader("<f4", "(2, 3)"), []float32{0, 1, 2, 3, float32(math.NaN()), 5}),
			"sample 1, value 1 is NaN, want finite numbers"},
		{"float64 overflows float32", npyFile(1, npyHeader("<f8", "(2,)"), []float64{1, 1e300}),
			"value 1 is +Inf, want finite numbers"},
		{"non-ascii v1", npyFile(1, "{'descr': '<f4é'}", nil), "npy header is not ASCII (only version 3 allows UTF-8)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := ReadNPY(bytes.NewReader(tc.in), "a.npy")
			want := "data: a.npy: " + tc.want
			if err == nil || err.Error() != want {
				t.Errorf("stream: got error  %v\nwant error %s", err, want)
			}
			// A file, whose size is known, must say the same.
			path := writeTemp(t, "a.npy", tc.in)
			_, _, err = NPY(path)
			want = "data: " + path + ": " + tc.want
			if err == nil || err.Error() != want {
				t.Errorf("file: got error  %v\nwant error %s", err, want)
			}
		})
	}
}

func TestNPYSet(t *testing.T) {
	x := writeTemp(t, "x.npy", npyFile(1, npyHeader("<f4", "(3, 2)"), []float32{1, 2, 3, 4, 5, 6}))
	for _, tc := range []struct {
		name string
		y    []byte
		want *Set
	}{
		{"no targets", nil, &Set{X: []float32{1, 2, 3, 4, 5, 6}, XShape: []int{3, 2}}},
		{"class indices", npyFile(1, npyHeader("<i8", "(3,)"), []int64{2, 0, 1}), &Set{
			X: []float32{1, 2, 3, 4, 5, 6}, XShape: []int{3, 2},
			Y: []float32{0, 0, 1, 1, 0, 0, 0, 1, 0}, YShape: []int{3, 3}, Labels: []int{2, 0, 1},
		}},
		{"real targets", npyFile(1, npyHeader("<f4", "(3,)"), []float32{0.5, 1, 2}), &Set{
			X: []float32{1, 2, 3, 4, 5, 6}, XShape: []int{3, 2}, Y: []float32{0.5, 1, 2}, YShape: []int{3, 1},
		}},
		{"2-d targets", npyFile(1, npyHeader("<f4", "(3, 1)"), []float32{0.5, 1, 2}), &Set{
			X: []float32{1, 2, 3, 4, 5, 6}, XShape: []int{3, 2}, Y: []float32{0.5, 1, 2}, YShape: []int{3, 1},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := ""
			if tc.y != nil {
				y = writeTemp(t, "y.npy", tc.y)
			}
			got, err := NPYSet(x, y)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("set (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNPYSetErrors(t *testing.T) {
	x := writeTemp(t, "x.npy", npyFile(1, npyHeader("<f4", "(3, 2)"), make([]float32, 6)))
	scalar := writeTemp(t, "s.npy", npyFile(1, npyHeader("<f4", "()"), []float32{1}))
	short := writeTemp(t, "short.npy", npyFile(1, npyHeader("<i4", "(2,)"), []int32{0, 1}))
	neg := writeTemp(t, "neg.npy", npyFile(1, npyHeader("<i4", "(3,)"), []int32{0, -1, 1}))
	for _, tc := range []struct {
		x, y, want string
	}{
		{scalar, "", "data: " + scalar + ": 0-d array, want samples [N, ...]"},
		{x, scalar, "data: " + scalar + ": 0-d array, want targets [N, ...]"},
		{x, short, "data: " + x + " has 3 samples, " + short + " has 2 targets, want equal"},
		{x, neg, "data: " + neg + ": label -1 of sample 1, want a class index in [0, 65536)"},
	} {
		_, err := NPYSet(tc.x, tc.y)
		if err == nil || err.Error() != tc.want {
			t.Errorf("NPYSet(%s, %s): got error %v\nwant %s", tc.x, tc.y, err, tc.want)
		}
	}
}

func FuzzNPY(f *testing.F) {
	f.Add(npyFile(1, npyHeader("<f4", "(2, 3)"), make([]float32, 6)))
	f.Add(npyFile(2, npyHeader("<f8", "(1,)"), []float64{math.Pi}))
	f.Add(npyFile(3, npyHeader("|u1", "()"), []uint8{7}))
	f.Add(npyFile(1, npyHeader("<i8", "(0,)"), nil))
	f.Add(npyFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", []float32{1}))
	f.Add([]byte("\x93NUMPY\x01\x00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		data, shape, descr, err := ReadNPY(bytes.NewReader(in), "fuzz")
		if err != nil {
			return
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		if n != len(data) {
			t.Fatalf("shape %v of %s does not match %d values", shape, descr, len(data))
		}
	})
}

// BenchmarkNPYMNISTSized reads a 60000×784 float32 .npy file, MNIST's
// training images as numpy would save them (188 MB).
func BenchmarkNPYMNISTSized(b *testing.B) {
	vals := make([]float32, 60000*784)
	for i := range vals {
		vals[i] = float32(i%255) / 255
	}
	path := filepath.Join(b.TempDir(), "x.npy")
	if err := os.WriteFile(path, npyFile(1, npyHeader("<f4", "(60000, 784)"), vals), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(4 * len(vals)))
	for b.Loop() {
		if _, _, err := NPY(path); err != nil {
			b.Fatal(err)
		}
	}
}
