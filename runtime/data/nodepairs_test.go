package data

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A CSV of pairs written by NodePairsCSV reads back as the same pairs, as does the same
// pairs' integer array; a bad line is named by its line.
func TestReadNodePairs(t *testing.T) {
	dir := t.TempDir()
	p := Pairs{Src: []int32{0, 3, 9}, Dst: []int32{1, 2, 0}}
	csvPath := filepath.Join(dir, "p.csv")
	if err := os.WriteFile(csvPath, NodePairsCSV(p, false), 0o644); err != nil {
		t.Fatal(err)
	}
	var npy bytes.Buffer
	if err := WriteNPYInt32(&npy, []int{3, 2}, []int32{0, 1, 3, 2, 9, 0}); err != nil {
		t.Fatal(err)
	}
	npyPath := filepath.Join(dir, "p.npy")
	if err := os.WriteFile(npyPath, npy.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{csvPath, npyPath} {
		got, err := ReadNodePairs(path, 10)
		if err != nil || !cmp.Equal(got.Src, p.Src) || !cmp.Equal(got.Dst, p.Dst) {
			t.Errorf("%s: %v, %v; want %v", path, got, err, p)
		}
	}
	if _, err := ReadNodePairs(csvPath, 5); err == nil || !strings.Contains(err.Error(), "p.csv:4: src 9 is not a node of the graph, want [0, 5)") {
		t.Errorf("a node out of range: %v", err)
	}
	labelled := NodePairsCSV(Pairs{Src: []int32{1}, Dst: []int32{2}, Label: []float32{1}}, true)
	if string(labelled) != "src,dst,label\n1,2,1\n" {
		t.Errorf("labelled CSV %q", labelled)
	}
}

// FuzzReadNodePairs: a pairs file never panics the reader, and what it accepts is in range.
func FuzzReadNodePairs(f *testing.F) {
	for _, s := range []string{"src,dst\n0,1\n", "src,dst\n0\n", "src,dst\n-1,2\n", "0,1\n", "src,dst\n\"3\",4\n", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, read := range []func(io.Reader, string, int) (Pairs, error){readNodePairsCSV, readNodePairsNPY} {
			p, err := read(bytes.NewReader(b), "f", 10)
			if err != nil {
				continue
			}
			for i := range p.Src {
				if p.Src[i] < 0 || p.Src[i] >= 10 || p.Dst[i] < 0 || p.Dst[i] >= 10 {
					t.Fatalf("pair %d (%d, %d) accepted for 10 nodes", i, p.Src[i], p.Dst[i])
				}
			}
		}
	})
}
