package data

import (
	"os"
	"path/filepath"
	"testing"
)

// Every reader refuses, with the file's name, what is not a file of its
// kind or is too big, before it buffers or allocates for it.
func TestReaderInputs(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sparse := os.Truncate(big, MaxFileBytes+1) == nil // a sparse file: no disk used
	readers := map[string]func(path string) error{
		"csv": func(p string) error { _, err := CSV(p, CSVOptions{}); return err },
		"npy": func(p string) error { _, _, err := NPY(p); return err },
		"idx": func(p string) error { _, _, err := readFile(p, ReadIDXImages); return err },
	}
	devZero := map[string]string{
		"csv": "data: /dev/zero: line 1 is longer than 16777216 bytes",
		"npy": `data: /dev/zero: bad magic "\x00\x00\x00\x00\x00\x00", want "\x93NUMPY": not a .npy file`,
		"idx": "data: /dev/zero: bad magic 0x00000000, want 0x00000803",
	}
	for name, read := range readers {
		for _, tc := range []struct{ path, want string }{
			{"", "data: no file name given"},
			{"/", "data: /: is a directory, want a file"},
			{"/dev/zero", devZero[name]},
			{big, "data: " + big + ": file is 4294967297 bytes, want at most 4294967296"},
		} {
			if tc.path == big && !sparse {
				continue
			}
			if err := read(tc.path); err == nil || err.Error() != tc.want {
				t.Errorf("%s(%q): got error %v\nwant %s", name, tc.path, err, tc.want)
			}
		}
	}
}
