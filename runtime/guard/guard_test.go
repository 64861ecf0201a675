package guard

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A clash is found whichever comes first, the read or the declaration, and through a
// symbolic link, a hard link or an unclean path.
func TestClashEitherOrder(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "d.csv")
	write(t, data)
	os.Symlink(data, filepath.Join(dir, "sym.csv"))
	os.Link(data, filepath.Join(dir, "hard.csv"))
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	for _, out := range []string{data, filepath.Join(dir, "sym.csv"), filepath.Join(dir, "hard.csv"), filepath.Join(dir, "sub", "..", "d.csv")} {
		Begin()
		if err := Read(data, "a data file"); err != nil {
			t.Fatal(err)
		}
		err := Output("-o", out, Options{})
		if _, ok := errors.AsType[*Clash](err); !ok {
			t.Errorf("read then declare %s: got %v, want a clash", out, err)
		}
		End()
		Begin()
		if err := Output("-o", out, Options{}); err != nil {
			t.Fatal(err)
		}
		err = Read(data, "a data file")
		if _, ok := errors.AsType[*Clash](err); !ok {
			t.Errorf("declare %s then read: got %v, want a clash", out, err)
		}
		End()
	}
}

// Writable refuses a recorded input unless an output said it replaces it; a cache the
// process maintains may be rewritten.
func TestWritable(t *testing.T) {
	dir := t.TempDir()
	in, cache, ckpt := filepath.Join(dir, "in"), filepath.Join(dir, "cache"), filepath.Join(dir, "w")
	for _, p := range []string{in, cache, ckpt} {
		write(t, p)
	}
	Begin()
	defer End()
	Read(in, "a data file")
	ReadCache(cache, "the MNIST cache")
	if err := Output("--save", ckpt, Options{Replaces: true}); err != nil {
		t.Fatal(err)
	}
	Read(ckpt, "a checkpoint")
	if err := Writable(in); err == nil || !strings.Contains(err.Error(), "is a data file") {
		t.Errorf("Writable(input): %v", err)
	}
	if err := Writable(cache); err != nil {
		t.Errorf("Writable(cache): %v", err)
	}
	if err := Writable(ckpt); err != nil {
		t.Errorf("Writable(checkpoint it replaces): %v", err)
	}
	if err := Output("--metrics", cache, Options{}); err == nil {
		t.Errorf("an output over the cache was accepted")
	}
}

// An output is locked while declared: a second declaration of it (another process, here
// another open file description) is refused, and End removes the lock file.
func TestLock(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.jsonl")
	l, err := acquire(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acquire(out); err == nil || !strings.Contains(err.Error(), "in use by another dlc process (pid") {
		t.Errorf("second lock: %v", err)
	}
	l.release()
	Begin()
	if err := Output("--metrics", out, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lockPath(out)); err != nil {
		t.Errorf("no lock file while declared: %v", err)
	}
	End()
	if _, err := os.Stat(lockPath(out)); !os.IsNotExist(err) {
		t.Errorf("lock file left after End: %v", err)
	}
}

// Outputs are checked writable before any work.
func TestOutputDirectories(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	write(t, file)
	for out, want := range map[string]string{
		filepath.Join(dir, "no", "x"): "does not exist",
		filepath.Join(file, "x"):      "is not a directory",
		dir:                           "is a directory",
	} {
		if err := Output("-o", out, Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Output(%s): %v, want %q", out, err, want)
		}
	}
}
