package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// FuzzCompile feeds arbitrary text to the whole front end: loading, resolution, shape
// inference, lowering, autodiff and the passes. Any input must give a module or an error,
// never a panic, and a module must verify (Compile runs the verifier).
func FuzzCompile(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txtar")
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, af := range ar.Files {
			if af.Name == "in.dl" {
				f.Add(string(af.Data))
			}
		}
	}
	examples, _ := filepath.Glob("../examples/*/*.dl")
	for _, ex := range examples {
		if b, err := os.ReadFile(ex); err == nil {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		_, _, err := Compile("fuzz.dl", []byte(src), Options{Optimize: true, ReadFile: func(string) ([]byte, error) {
			return nil, os.ErrNotExist
		}})
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatalf("compiler bug on\n%s\n%v", src, err)
		}
	})
}
