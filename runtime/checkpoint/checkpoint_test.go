package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// bitsEqual compares floats by bit pattern, so NaNs compare equal.
var bitsEqual = cmp.Comparer(func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) })

func TestRoundTrip(t *testing.T) {
	tensors := map[string]Tensor{
		"Enc.dense0.weight": {Shape: []int{3, 2}, Data: []float32{1, -2, 3.5, 0, math.MaxFloat32, -math.SmallestNonzeroFloat32}},
		"Enc.dense0.bias":   {Shape: []int{2}, Data: []float32{0.25, -0.125}},
		"step":              {Shape: nil, Data: []float32{7}},
		"empty":             {Shape: []int{0, 4}, Data: nil},
	}
	meta := map[string]string{"epoch": "3", "source": "mnist_ae.dl"}
	path := filepath.Join(t.TempDir(), "w.safetensors")
	if err := Save(path, tensors, meta); err != nil {
		t.Fatal(err)
	}
	gotT, gotM, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tensors, gotT, bitsEqual, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("tensors (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(meta, gotM); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}

	// Saving the same tensors again gives the same bytes.
	first, _ := os.ReadFile(path)
	path2 := filepath.Join(t.TempDir(), "w.safetensors")
	if err := Save(path2, tensors, meta); err != nil {
		t.Fatal(err)
	}
	if second, _ := os.ReadFile(path2); !bytes.Equal(first, second) {
		t.Error("two saves of the same tensors differ")
	}
	if n := binary.LittleEndian.Uint64(first); n%8 != 0 {
		t.Errorf("header length %d, want a multiple of 8", n)
	}
}

// TestSaveBytes pins Save's output to the layout in the safetensors spec.
func TestSaveBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.safetensors")
	err := Save(path, map[string]Tensor{
		"b": {Shape: []int{1}, Data: []float32{-2}},
		"a": {Shape: []int{2}, Data: []float32{1, 0.5}},
	}, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	header := `{"__metadata__":{"k":"v"},` +
		`"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},` +
		`"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`
	header += strings.Repeat(" ", (8-len(header)%8)%8)
	want := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	want = append(want, header...)
	want = append(want, 0x00, 0x00, 0x80, 0x3f) // 1
	want = append(want, 0x00, 0x00, 0x00, 0x3f) // 0.5
	want = append(want, 0x00, 0x00, 0x00, 0xc0) // -2
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestLoadHandWritten reads a file assembled byte by byte from the spec,
// with the dtypes Load converts and the header in no particular order.
func TestLoadHandWritten(t *testing.T) {
	header := `{"h":{"dtype":"F16","shape":[4],"data_offsets":[16,24]},` +
		`"d":{"dtype":"F64","shape":[1,2],"data_offsets":[0,16]},` +
		`"bf":{"dtype":"BF16","shape":[2],"data_offsets":[24,28]},` +
		`"f":{"dtype":"F32","shape":[],"data_offsets":[28,32]}, "__metadata__": {"format": "pt"}}  `
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(0.1))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(-3))
	// binary16: 1.0, -2.0, the smallest subnormal 2^-24, the largest 65504.
	for _, h := range []uint16{0x3c00, 0xc000, 0x0001, 0x7bff} {
		b = binary.LittleEndian.AppendUint16(b, h)
	}
	// bfloat16: 1.0, -0.5.
	b = binary.LittleEndian.AppendUint16(b, 0x3f80)
	b = binary.LittleEndian.AppendUint16(b, 0xbf00)
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(42))
	path := filepath.Join(t.TempDir(), "hand.safetensors")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}

	tensors, meta, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Tensor{
		"d":  {Shape: []int{1, 2}, Data: []float32{0.1, -3}},
		"h":  {Shape: []int{4}, Data: []float32{1, -2, 1.0 / (1 << 24), 65504}},
		"bf": {Shape: []int{2}, Data: []float32{1, -0.5}},
		"f":  {Shape: []int{}, Data: []float32{42}},
	}
	if diff := cmp.Diff(want, tensors); diff != "" {
		t.Errorf("tensors (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"format": "pt"}, meta); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
}

func TestHalfToFloat32(t *testing.T) {
	for _, tc := range []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0}, {0x3c00, 1}, {0x3555, 0.333251953125}, {0x7bff, 65504},
		{0x0400, 1.0 / (1 << 14)}, {0x03ff, 1023.0 / (1 << 24)}, {0xfc00, float32(math.Inf(-1))},
	} {
		if got := halfToFloat32(tc.h); got != tc.want {
			t.Errorf("halfToFloat32(%#04x) = %v, want %v", tc.h, got, tc.want)
		}
	}
	if got := halfToFloat32(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("halfToFloat32(0x7e00) = %v, want NaN", got)
	}
	if got := halfToFloat32(0x8000); math.Float32bits(got) != 0x80000000 {
		t.Errorf("halfToFloat32(0x8000) = %v, want -0", got)
	}
}

// file assembles a safetensors file from a header and a data section.
func file(header string, data int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, make([]byte, data)...)
}

func TestLoadErrors(t *testing.T) {
	const one = `"dtype":"F32","shape":[2],"data_offsets":[0,8]`
	good := file(`{"a":{`+one+`}}`, 8)
	nan := file(`{"a":{`+one+`}}`, 8)
	binary.LittleEndian.PutUint32(nan[len(nan)-4:], math.Float32bits(float32(math.NaN())))
	big := file(`{"d":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}`, 8)
	binary.LittleEndian.PutUint64(big[len(big)-8:], math.Float64bits(1e300))
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "file is 0 bytes, want at least 8 for the header length"},
		{"short", []byte{1, 2, 3}, "file is 3 bytes, want at least 8 for the header length"},
		{"header too long", binary.LittleEndian.AppendUint64(nil, 1<<40), "header length 1099511627776, want at most 104857600"},
		{"header past end", good[:20], "header length 54, but only 12 bytes follow"},
		{"truncated data", good[:len(good)-1], `tensor "a": data_offsets [0, 8] run past the 7-byte data section`},
		{"trailing data", append(good, 0), "data section is 9 bytes, tensors cover only 8"},
		{"bad json", file(`{"a":{`+one+`}`, 8), "header: unexpected EOF"},
		{"not an object", file(`[1,2]`, 0), "header is not a JSON object"},
		{"junk after object", file(`{"a":{`+one+`}} x`, 8), "header has data after its JSON object"},
		{"second object", file(`{"a":{`+one+`}}{}`, 8), "header has data after its JSON object"},
		{"duplicate name", file(`{"a":{`+one+`},"a":{`+one+`}}`, 8), `header names "a" twice`},
		{"bad metadata", file(`{"__metadata__":{"k":1}}`, 0), "__metadata__: want an object of strings: json: cannot unmarshal number into Go value of type string"},
		{"entry not object", file(`{"a":3}`, 0), `tensor "a": json: cannot unmarshal number into Go value of type checkpoint.entry`},
		{"int dtype", file(`{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, 8), `tensor "a": dtype "I64" not supported, want F32, F64, F16 or BF16`},
		{"missing shape", file(`{"a":{"dtype":"F32","data_offsets":[0,8]}}`, 8), `tensor "a": missing shape`},
		{"one offset", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[8]}}`, 8), `tensor "a": data_offsets [8], want [begin, end]`},
		{"reversed offsets", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}`, 8), `tensor "a": data_offsets [8, 0], want 0 <= begin <= end`},
		{"negative shape", file(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, 8), `tensor "a": shape [-2] has a negative dimension or too many values`},
		{"huge shape", file(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, 8), `tensor "a": shape [4294967296, 4294967296] has a negative dimension or too many values`},
		{"shape mismatch", file(`{"Enc.dense0.weight":{"dtype":"F32","shape":[784,256],"data_offsets":[0,100]}}`, 100),
			`tensor "Enc.dense0.weight": data_offsets [0, 100] hold 25 values, shape [784, 256] needs 200704`},
		{"partial value", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,7]}}`, 7),
			`tensor "a": data_offsets [0, 7] hold 7 bytes, not a whole number of F32 values, shape [2] needs 2`},
		{"overlap", file(`{"a":{`+one+`},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8),
			`tensor "b": data_offsets [4, 8] overlap tensor "a", which ends at 8`},
		{"nan", nan, `tensor "a": value 1 is NaN, want finite values`},
		{"f64 overflows float32", big, `tensor "d": value 0 is +Inf, want finite values`},
		{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8),
			`tensor "a": data_offsets [4, 8] leave bytes [0, 4) of the data section unused`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "w.safetensors")
			if err := os.WriteFile(path, tc.in, 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := Load(path)
			want := "checkpoint: " + path + ": " + tc.want
			if err == nil || err.Error() != want {
				t.Errorf("got error  %v\nwant error %s", err, want)
			}
		})
	}
}

func TestLoadMissing(t *testing.T) {
	_, _, err := Load(filepath.Join(t.TempDir(), "none.safetensors"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got error %v, want not-exist", err)
	}
}

func TestSaveErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tensors map[string]Tensor
		want    string
	}{
		{"short data", map[string]Tensor{"w": {Shape: []int{2, 2}, Data: []float32{1}}}, `tensor "w": shape [2, 2] needs 4 values, got 1`},
		{"negative dim", map[string]Tensor{"w": {Shape: []int{-1}}}, `tensor "w": invalid shape [-1]`},
		{"reserved name", map[string]Tensor{"__metadata__": {Data: []float32{1}}}, `tensor name "__metadata__" is reserved`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "w.safetensors")
			err := Save(path, tc.tensors, nil)
			want := "checkpoint: " + path + ": " + tc.want
			if err == nil || err.Error() != want {
				t.Errorf("got error  %v\nwant error %s", err, want)
			}
		})
	}
}

// TestSaveFailureKeepsOldFile checks the atomic replace: whatever goes
// wrong, the previous checkpoint survives and no temporary file is left.
func TestSaveFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	old := map[string]Tensor{"w": {Shape: []int{1}, Data: []float32{1}}}
	if err := Save(path, old, nil); err != nil {
		t.Fatal(err)
	}
	oldBytes, _ := os.ReadFile(path)
	next := map[string]Tensor{"w": {Shape: []int{1}, Data: []float32{2}}}

	t.Run("failure part-way", func(t *testing.T) {
		testHookWrite = func(w io.Writer) io.Writer { return &failingWriter{w: w, left: 12} }
		defer func() { testHookWrite = nil }()
		err := Save(path, next, nil)
		if want := "checkpoint: " + path + ": disk on fire"; err == nil || err.Error() != want {
			t.Errorf("got error %v, want %q", err, want)
		}
	})
	t.Run("non-finite weights", func(t *testing.T) {
		bad := map[string]Tensor{"w": {Shape: []int{2}, Data: []float32{1, float32(math.NaN())}}}
		err := Save(path, bad, nil)
		if want := "checkpoint: " + path + `: tensor "w": value 1 is NaN, refusing to save it`; err == nil || err.Error() != want {
			t.Errorf("got error %v, want %q", err, want)
		}
	})
	t.Run("invalid tensor", func(t *testing.T) {
		if err := Save(path, map[string]Tensor{"w": {Shape: []int{3}}}, nil); err == nil {
			t.Error("got no error")
		}
	})
	t.Run("target is a directory", func(t *testing.T) {
		sub := filepath.Join(dir, "sub")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, "keep"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Save(sub, next, nil); err == nil {
			t.Error("got no error saving over a non-empty directory")
		}
	})
	t.Run("directory missing", func(t *testing.T) {
		if err := Save(filepath.Join(dir, "no", "w.safetensors"), next, nil); err == nil {
			t.Error("got no error")
		}
	})

	if got, _ := os.ReadFile(path); !bytes.Equal(got, oldBytes) {
		t.Error("old checkpoint changed after failed saves")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "w.safetensors" && e.Name() != "sub" {
			t.Errorf("left behind %s", e.Name())
		}
	}
	if err := Save(path, next, nil); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := Load(path); got["w"].Data[0] != 2 {
		t.Errorf("after a good save got %v, want 2", got["w"].Data)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("checkpoint mode %v, want 0644", fi.Mode().Perm())
	}
}

// failingWriter passes left bytes through and then fails.
type failingWriter struct {
	w    io.Writer
	left int
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.left {
		n, _ := f.w.Write(p[:f.left])
		f.left = 0
		return n, errors.New("disk on fire")
	}
	f.left -= len(p)
	return f.w.Write(p)
}

func FuzzLoad(f *testing.F) {
	var buf bytes.Buffer
	header, names, _ := encodeHeader("seed", map[string]Tensor{
		"a": {Shape: []int{2}, Data: []float32{1, 2}},
		"b": {Shape: []int{1, 1}, Data: []float32{3}},
	}, map[string]string{"k": "v"})
	writeBody(&buf, header, names, map[string]Tensor{
		"a": {Shape: []int{2}, Data: []float32{1, 2}},
		"b": {Shape: []int{1, 1}, Data: []float32{3}},
	})
	f.Add(buf.Bytes())
	f.Add(file(`{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"d":{"dtype":"F64","shape":[],"data_offsets":[2,10]}}`, 10))
	f.Add(file(`{"a":{"dtype":"BF16","shape":[0],"data_offsets":[0,0]}}`, 0))
	f.Add(file(`{}`, 0))
	f.Add(file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,8]}}`, 8))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		tensors, meta, err := decode("fuzz", in)
		if err != nil {
			return
		}
		// Whatever loads must save and load back to the same values.
		header, names, err := encodeHeader("fuzz", tensors, meta)
		if err != nil {
			t.Fatalf("loaded tensors do not save: %v", err)
		}
		var out bytes.Buffer
		if err := writeBody(&out, header, names, tensors); err != nil {
			t.Fatal(err)
		}
		again, meta2, err := decode("fuzz", out.Bytes())
		if err != nil {
			t.Fatalf("saved tensors do not load: %v", err)
		}
		if diff := cmp.Diff(tensors, again, bitsEqual, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(meta, meta2, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("metadata round trip (-want +got):\n%s", diff)
		}
	})
}
