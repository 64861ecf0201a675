package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// idxFile builds an IDX file: magic, big-endian dims, body.
func idxFile(magic uint32, dims []uint32, body []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	binary.Write(&b, binary.BigEndian, dims)
	b.Write(body)
	return b.Bytes()
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestReadIDXImages(t *testing.T) {
	// Two 2x3 images.
	body := []byte{0, 51, 255, 102, 0, 0, 255, 255, 255, 0, 0, 0}
	want := make([]float32, len(body))
	for i, b := range body {
		want[i] = float32(b) / 255
	}
	good := idxFile(0x803, []uint32{2, 2, 3}, body)
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"raw", good},
		{"gzip", gzipped(good)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, shape, err := ReadIDXImages(bytes.NewReader(tc.in), "imgs")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]int{2, 2, 3}, shape); diff != "" {
				t.Errorf("shape (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, x); diff != "" {
				t.Errorf("pixels (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadIDXLabels(t *testing.T) {
	in := gzipped(idxFile(0x801, []uint32{4}, []byte{7, 2, 1, 0}))
	got, err := ReadIDXLabels(bytes.NewReader(in), "labels")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{7, 2, 1, 0}, got); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
}

func TestReadIDXErrors(t *testing.T) {
	good := idxFile(0x803, []uint32{2, 2, 3}, make([]byte, 12))
	for _, tc := range []struct {
		name   string
		in     []byte
		labels bool
		want   string
	}{
		{"empty", nil, false, "data: f: truncated header: got 0 bytes, want 4"},
		{"short header", []byte{0, 0, 8}, false, "data: f: truncated header: got 3 bytes, want 4"},
		{"labels as images", idxFile(0x801, []uint32{2}, []byte{1, 2}), false, "data: f: bad magic 0x00000801, want 0x00000803"},
		{"images as labels", good, true, "data: f: bad magic 0x00000803, want 0x00000801"},
		{"truncated dims", good[:9], false, "data: f: truncated dimensions: got 5 bytes, want 12"},
		{"truncated data", good[:len(good)-1], false, "data: f: truncated data: got 11 bytes, want 12 for dimensions [2 2 3]"},
		{"trailing data", append(good, 0), false, "data: f: trailing bytes after the 12 that dimensions [2 2 3] describe"},
		{"zero-size image", idxFile(0x803, []uint32{1, 0, 3}, nil), false, "data: f: image size 0x3, want both dimensions > 0"},
		{"huge dims", idxFile(0x803, []uint32{1 << 30, 1 << 30, 1 << 30}, nil), false, "data: f: dimensions [1073741824 1073741824 1073741824] hold more than 1073741824 bytes"},
		{"huge claim, little data", idxFile(0x803, []uint32{1 << 20, 28, 28}, make([]byte, 100)), false, "data: f: truncated data: got 100 bytes, want 822083584 for dimensions [1048576 28 28]"},
		{"truncated gzip", gzipped(good)[:20], false, "data: f: "},
		{"bad gzip header", []byte{0x1f, 0x8b, 0, 0}, false, "data: f: gzip: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.labels {
				_, err = ReadIDXLabels(bytes.NewReader(tc.in), "f")
			} else {
				_, _, err = ReadIDXImages(bytes.NewReader(tc.in), "f")
			}
			if err == nil {
				t.Fatalf("got no error, want %q", tc.want)
			}
			if strings.HasSuffix(tc.want, ": ") {
				if !strings.HasPrefix(err.Error(), tc.want) {
					t.Errorf("got error %q, want prefix %q", err, tc.want)
				}
			} else if err.Error() != tc.want {
				t.Errorf("got error  %q\nwant error %q", err, tc.want)
			}
		})
	}
}

func FuzzReadIDX(f *testing.F) {
	img := idxFile(0x803, []uint32{2, 2, 3}, make([]byte, 12))
	lab := idxFile(0x801, []uint32{3}, []byte{1, 2, 3})
	for _, seed := range [][]byte{img, lab, gzipped(img), gzipped(lab), img[:7], {0x1f, 0x8b}, nil,
		idxFile(0x803, []uint32{0xffffffff, 0xffffffff, 0xffffffff}, nil)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		x, shape, err := ReadIDXImages(bytes.NewReader(in), "fuzz")
		if err == nil {
			if len(shape) != 3 || len(x) != shape[0]*shape[1]*shape[2] {
				t.Fatalf("shape %v does not match %d values", shape, len(x))
			}
			for _, v := range x {
				if v < 0 || v > 1 {
					t.Fatalf("pixel %v outside [0, 1]", v)
				}
			}
		}
		labels, err := ReadIDXLabels(bytes.NewReader(in), "fuzz")
		if err == nil {
			for _, l := range labels {
				if l < 0 || l > 255 {
					t.Fatalf("label %d outside a byte", l)
				}
			}
		}
	})
}
