package data

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCSV(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		opts CSVOptions
		want *Set
	}{
		{
			name: "no header, no label",
			in:   "1,2\n3,4.5\n",
			want: &Set{X: []float32{1, 2, 3, 4.5}, XShape: []int{2, 2}},
		},
		{
			name: "auto header, label by name",
			in:   "a, b, class\n0.5, -1, 1\n2e3, 0, 0\n1, 1, 2\n",
			opts: CSVOptions{LabelColumn: "class"},
			want: &Set{
				X: []float32{0.5, -1, 2000, 0, 1, 1}, XShape: []int{3, 2},
				Y: []float32{0, 1, 0, 1, 0, 0, 0, 0, 1}, YShape: []int{3, 3},
				Labels: []int{1, 0, 2},
			},
		},
		{
			name: "label by index, fixed class count",
			in:   "1,5\n0,6\n",
			opts: CSVOptions{LabelColumn: "0", Classes: 4},
			want: &Set{
				X: []float32{5, 6}, XShape: []int{2, 1},
				Y: []float32{0, 1, 0, 0, 1, 0, 0, 0}, YShape: []int{2, 4},
				Labels: []int{1, 0},
			},
		},
		{
			name: "regression, semicolons",
			in:   "x;y\n1;0.25\n2;0.5\n",
			opts: CSVOptions{LabelColumn: "y", Regression: true, Comma: ';'},
			want: &Set{X: []float32{1, 2}, XShape: []int{2, 1}, Y: []float32{0.25, 0.5}, YShape: []int{2, 1}},
		},
		{
			name: "numeric header forced",
			in:   "1,2\n3,4\n",
			opts: CSVOptions{Header: HeaderPresent, LabelColumn: "-1"},
			want: &Set{X: []float32{3, 4}, XShape: []int{1, 2}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CSV(writeTemp(t, "d.csv", []byte(tc.in)), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("set (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCSVErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		opts CSVOptions
		want string
	}{
		{"empty", "", CSVOptions{}, "no data rows"},
		{"header only", "a,b\n", CSVOptions{}, "no data rows"},
		{"bad field", "a,b\n1,2\n3,x\n", CSVOptions{}, `:3: field 2 ("b"): got "x", want a number`},
		{"bad field, no header", "1,2\n3,\n", CSVOptions{Header: HeaderAbsent}, `:2: field 2: got "", want a number`},
		{"header not numeric when absent", "a,b\n", CSVOptions{Header: HeaderAbsent}, `:1: field 1: got "a", want a number`},
		{"nan", "1,NaN\n", CSVOptions{}, `:1: field 2: got "NaN", want a finite float32`},
		{"overflows float32", "1,1e39\n", CSVOptions{Header: HeaderAbsent}, `:1: field 2: got "1e39", want a finite float32`},
		{"ragged", "1,2\n3\n", CSVOptions{}, ":2: got 1 fields, want 2 like the first row"},
		{"bad quote", "1,2\n3,\"4\n", CSVOptions{}, `:2:6: extraneous or missing " in quoted-field`},
		{"unknown label name", "a,b\n1,2\n", CSVOptions{LabelColumn: "c"}, `label column "c" not in header ["a" "b"]`},
		{"label name without header", "1,2\n", CSVOptions{LabelColumn: "c"}, `label column "c": the file has no header row, want a column index`},
		{"label index out of range", "1,2\n", CSVOptions{LabelColumn: "2"}, "label column 2 out of range, the file has 2 columns"},
		{"fractional label", "a,y\n1,0.5\n", CSVOptions{LabelColumn: "y"}, `:2: label field 2 ("y"): got "0.5", want a class index (an integer >= 0); set Regression for real-valued targets`},
		{"negative label", "1,-1\n", CSVOptions{LabelColumn: "1"}, `:1: label field 2: got "-1", want a class index (an integer >= 0); set Regression for real-valued targets`},
		{"label over class count", "1,3\n", CSVOptions{LabelColumn: "1", Classes: 3}, `:1: label field 2: got "3", want a class index below 3`},
		{"label over the class cap", "1,70000\n", CSVOptions{LabelColumn: "1"}, `:1: label field 2: got "70000", want a class index below 65536`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "bad.csv", []byte(tc.in))
			_, err := CSV(path, tc.opts)
			sep := ": "
			if tc.want[0] == ':' {
				sep = ""
			}
			want := "data: " + path + sep + tc.want
			if err == nil || err.Error() != want {
				t.Errorf("got error  %v\nwant error %s", err, want)
			}
		})
	}
}

func TestCSVMissingFile(t *testing.T) {
	_, err := CSV(filepath.Join(t.TempDir(), "nope.csv"), CSVOptions{})
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got error %v, want a not-exist error", err)
	}
}

func TestBatch(t *testing.T) {
	s := &Set{
		X: []float32{0, 1, 10, 11, 20, 21}, XShape: []int{3, 2},
		Y: []float32{0, 1, 2}, YShape: []int{3, 1},
	}
	x, y := s.Batch(nil, nil, []int{2, 0})
	if diff := cmp.Diff([]float32{20, 21, 0, 1}, x); diff != "" {
		t.Errorf("x (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float32{2, 0}, y); diff != "" {
		t.Errorf("y (-want +got):\n%s", diff)
	}
	x2, _ := s.Batch(x, y, []int{1})
	if &x2[0] != &x[0] {
		t.Error("Batch allocated although dstX had the capacity")
	}
	if diff := cmp.Diff([]float32{10, 11}, x2); diff != "" {
		t.Errorf("x (-want +got):\n%s", diff)
	}

	unlabelled := &Set{X: s.X, XShape: s.XShape}
	if _, y := unlabelled.Batch(nil, nil, []int{0}); y != nil {
		t.Errorf("got y %v for an unlabelled set, want nil", y)
	}

	defer func() {
		if r := recover(); r != "data: batch index 3 out of range [0, 3)" {
			t.Errorf("got panic %v", r)
		}
	}()
	s.Batch(nil, nil, []int{3})
}

func TestBoundedReaders(t *testing.T) {
	read := func(r io.Reader) (string, error) {
		b, err := io.ReadAll(iotest.OneByteReader(r))
		return string(b), err
	}
	if got, err := read(&boundedReader{r: strings.NewReader("abcd"), left: 4}); got != "abcd" || err != nil {
		t.Errorf("at the limit: got %q, %v", got, err)
	}
	if _, err := read(&boundedReader{r: strings.NewReader("abcde"), left: 4}); err != errTooLarge {
		t.Errorf("past the limit: got %v, want errTooLarge", err)
	}
	if got, err := read(&lineBoundedReader{r: strings.NewReader("abc\nabc\n\nab"), max: 3, num: 1}); got != "abc\nabc\n\nab" || err != nil {
		t.Errorf("lines at the limit: got %q, %v", got, err)
	}
	_, err := read(&lineBoundedReader{r: strings.NewReader("abc\nabcd\n"), max: 3, num: 1})
	if err == nil || err.Error() != "line 2 is longer than 3 bytes" {
		t.Errorf("long line: got %v", err)
	}
	// The same over reads that span lines, as bufio makes them.
	_, err = io.ReadAll(&lineBoundedReader{r: strings.NewReader("ab\nabc\nabcd"), max: 3, num: 1})
	if err == nil || err.Error() != "line 3 is longer than 3 bytes" {
		t.Errorf("long last line: got %v", err)
	}
}

func TestOneHotLimits(t *testing.T) {
	for _, tc := range []struct {
		labels []int
		k      int
		want   string
	}{
		{[]int{0, 70000}, 0, "data: f: sample 1 has label 70000, want a class index in [0, 65536)"},
		{[]int{0, 5}, 3, "data: f: sample 1 has label 5, want < 3 classes"},
		{[]int{0}, 1 << 17, "data: f: 131072 classes, want 1 to 65536"},
		{make([]int, 1<<15), 1 << 16, "data: f: one-hot targets for 32768 samples of 65536 classes exceed 1073741824 values"},
	} {
		if _, _, err := oneHot("f", tc.labels, tc.k); err == nil || err.Error() != tc.want {
			t.Errorf("oneHot(%d labels, %d): got error %v\nwant %s", len(tc.labels), tc.k, err, tc.want)
		}
	}
}

func FuzzCSV(f *testing.F) {
	f.Add([]byte("a,b,class\n0.5,-1,1\n2e3,0,0\n"), "class", false, uint8(0), 0)
	f.Add([]byte("1,2\n3,4.5\n"), "", false, uint8(2), 0)
	f.Add([]byte("x;y\n1;0.25\n"), "y", true, uint8(0), 0)
	f.Add([]byte("1,5\n0,6\n"), "0", false, uint8(2), 4)
	f.Add([]byte("1,\"2\"\n3,\"4\n"), "1", false, uint8(0), 0)
	f.Add([]byte("a,b\n1,NaN\n"), "-1", false, uint8(1), 0)
	f.Add([]byte("\xef\xbb\xbfa,b\n1,2\n"), "b", false, uint8(0), 2)
	f.Fuzz(func(t *testing.T, in []byte, label string, regression bool, header uint8, classes int) {
		opts := CSVOptions{LabelColumn: label, Regression: regression, Header: HeaderMode(header % 3), Classes: classes}
		if bytes.Contains(in, []byte(";")) {
			opts.Comma = ';'
		}
		s, err := readCSV(bytes.NewReader(in), "fuzz", opts)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "data: fuzz") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		n := s.Len()
		if n == 0 || len(s.X) != n*s.XRow() {
			t.Fatalf("X of shape %v holds %d values", s.XShape, len(s.X))
		}
		if firstNonFinite(s.X) >= 0 || firstNonFinite(s.Y) >= 0 {
			t.Fatalf("non-finite values accepted")
		}
		if s.Y != nil && len(s.Y) != n*s.YRow() {
			t.Fatalf("Y of shape %v holds %d values", s.YShape, len(s.Y))
		}
		for i, l := range s.Labels {
			if l < 0 || l >= s.YShape[1] || s.Y[i*s.YShape[1]+l] != 1 {
				t.Fatalf("label %d of sample %d does not fit one-hot Y %v", l, i, s.YShape)
			}
		}
	})
}

// The header rule cannot eat a data row: a first row with a typo in one field is data, and
// its field an error with its line; a row of names is a header; a byte-order mark is skipped.
func TestCSVHeaderRule(t *testing.T) {
	cases := []struct {
		name, text string
		rows       int
		err        string
	}{
		{"names", "a,b\n1,2\n3,4\n", 2, ""},
		{"numbers", "1,2\n3,4\n", 2, ""},
		{"typo in the first row", "1,2x\n3,4\n", 0, `data: t.csv:1: field 2: got "2x", want a number`},
		{"one name and a number", "a,2\n3,4\n", 0, `data: t.csv:1: field 1: got "a", want a number`},
		{"an empty field", "a,\n3,4\n", 0, `data: t.csv:1: field 1: got "a", want a number`},
		{"NaN in the first row", "NaN,x\n3,4\n", 0, `data: t.csv:1: field 1: got "NaN", want a finite float32`},
		{"byte-order mark, no header", "\ufeff1,2\n3,4\n", 2, ""},
		{"byte-order mark, header", "\ufeffa,b\n1,2\n", 1, ""},
	}
	for _, c := range cases {
		s, err := readCSV(strings.NewReader(c.text), "t.csv", CSVOptions{})
		switch {
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("%s: got error %v, want %s", c.name, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err == "" && s.Len() != c.rows:
			t.Errorf("%s: %d rows, want %d", c.name, s.Len(), c.rows)
		}
	}
	// A headerless edge list with a byte-order mark keeps its first edge.
	g := &Graph{N: 3}
	if _, err := readEdgeCSV(strings.NewReader("\ufeff0,1\n1,2\n"), "e.csv", g); err != nil || len(g.Src) != 2 {
		t.Errorf("edge list with a BOM: %v, %d edges, want 2", err, len(g.Src))
	}
}
