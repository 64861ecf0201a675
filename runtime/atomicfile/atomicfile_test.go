package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	if err := WriteFile(path, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "two" {
		t.Errorf("got %q, %v, want \"two\"", got, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	assertOnly(t, dir, "out.txt")
}

// A relative path writes in the current directory.
func TestWriteRelative(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := WriteFile("rel.txt", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile("rel.txt"); string(got) != "x" {
		t.Errorf("got %q, want \"x\"", got)
	}
	assertOnly(t, ".", "rel.txt")
}

// Whatever fails, the old file survives whole and no temporary file is left.
func TestWriteFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.bin")
	if err := WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"write fails", func() error {
			return Write(path, 0o644, func(w io.Writer) error {
				w.Write([]byte("half"))
				return errors.New("encoder broke")
			})
		}, path + ": encoder broke"},
		{"rename hook fails", func() error {
			testHookBeforeRename = func(string) error { return errors.New("disk on fire") }
			defer func() { testHookBeforeRename = nil }()
			return WriteFile(path, []byte("new"), 0o644)
		}, path + ": disk on fire"},
		{"missing directory", func() error {
			return WriteFile(filepath.Join(dir, "no", "w.bin"), []byte("new"), 0o644)
		}, filepath.Join(dir, "no", "w.bin") + ": no such file or directory"},
		{"target is a directory", func() error {
			sub := filepath.Join(dir, "sub")
			os.Mkdir(sub, 0o755)
			os.WriteFile(filepath.Join(sub, "keep"), nil, 0o644)
			return WriteFile(sub, []byte("new"), 0o644)
		}, filepath.Join(dir, "sub") + ": is a directory"},
		{"trailing slash", func() error {
			return WriteFile(dir+"/", []byte("new"), 0o644)
		}, dir + "/: want a file name, not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || err.Error() != tc.want {
				t.Errorf("got error %v\nwant error %s", err, tc.want)
			}
		})
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("old file now holds %q", got)
	}
	assertOnly(t, dir, "sub", "w.bin")
}

func TestIsTemp(t *testing.T) {
	for _, tc := range []struct {
		name, target string
		want         bool
	}{
		{".w.bin.tmp123", "w.bin", true},
		{".w.bin.tmp0", "w.bin", true},
		{".w.bin.tmp", "w.bin", false},
		{".w.bin.tmp12a", "w.bin", false},
		{".w.bin.tmp-12", "w.bin", false},
		{"w.bin.tmp123", "w.bin", false},
		{".w.bin2.tmp123", "w.bin", false},
		{".x.w.bin.tmp123", "w.bin", false},
		{".w.tmp123", "w.bin", false},
		{"w.bin", "w.bin", false},
	} {
		if got := IsTemp(tc.name, tc.target); got != tc.want {
			t.Errorf("IsTemp(%q, %q) = %v, want %v", tc.name, tc.target, got, tc.want)
		}
	}
}

// A write removes the leftovers of killed writes of the same target, and
// only those: not another target's, not a live writer's fresh file, not a
// name that merely looks similar.
func TestWriteRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.bin")
	old := time.Now().Add(-2 * staleAfter)
	mk := func(name string, mtime time.Time) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	mk(".w.bin.tmp111", old)                             // stale: removed
	mk(".w.bin.tmp222", old)                             // stale: removed
	mk(".w.bin.tmp333", time.Now())                      // a live writer's: kept
	mk(".other.bin.tmp444", old)                         // another target's: kept
	mk(".w.bin.tmp555x", old)                            // not the pattern: kept
	mk("notes.w.bin.tmp666", old)                        // not the pattern: kept
	os.Mkdir(filepath.Join(dir, ".w.bin.tmp777"), 0o755) // a directory: kept
	if err := WriteFile(path, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir, ".other.bin.tmp444", ".w.bin.tmp333", ".w.bin.tmp555x", ".w.bin.tmp777", "notes.w.bin.tmp666", "w.bin")
}

func assertOnly(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("directory holds %s, want %s", strings.Join(got, " "), strings.Join(want, " "))
	}
}

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "new.bin"), ""},
		{sub, sub + ": is a directory"},
		{dir + "/", dir + "/: want a file name, not a directory"},
		{filepath.Join(dir, "no", "x.bin"), filepath.Join(dir, "no", "x.bin") + ": no such file or directory"},
		{filepath.Join(ro, "x.bin"), filepath.Join(ro, "x.bin") + ": permission denied"},
	} {
		if tc.path == filepath.Join(ro, "x.bin") && os.Geteuid() == 0 {
			continue // root writes anywhere
		}
		err := CheckWritable(tc.path)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || err.Error() != tc.want) {
			t.Errorf("CheckWritable(%s): got %v, want %q", tc.path, err, tc.want)
		}
	}
	assertOnly(t, dir, "ro", "sub")
}
