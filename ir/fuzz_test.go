package ir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds Parse arbitrary text. It must not panic, and whatever it accepts must
// print to text that parses again and prints the same: the printed form is a fixed point.
// The seeds are every testdata file, so the target also runs as an ordinary test.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"*.ir", "errors/*.ir"} {
		files, _ := filepath.Glob(filepath.Join("testdata", pattern))
		for _, path := range files {
			src, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		m, err := Parse("fuzz.ir", src)
		if err != nil {
			if strings.Contains(err.Error(), "panicked") {
				t.Fatalf("a shape rule panicked: %v", err)
			}
			return
		}
		text := m.String()
		m2, err := Parse("printed.ir", []byte(text))
		if err != nil {
			t.Fatalf("printed form does not parse: %v\n%s", err, text)
		}
		if text2 := m2.String(); text2 != text {
			t.Fatalf("printed form is not a fixed point:\n%s\nthen\n%s", text, text2)
		}
	})
}
