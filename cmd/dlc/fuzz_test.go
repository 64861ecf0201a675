package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzCLI runs dlc check, compile and params on mutations of the examples: whatever the
// source, the command returns an exit code (0, 1 or 2) and never panics. The seeds are every
// example, so the corpus run in go test covers the whole pipeline up to the runtime's
// validation and the diagnostics' rendering.
func FuzzCLI(f *testing.F) {
	examples, _ := filepath.Glob("../../examples/*/*.dl")
	for i, p := range examples {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, which uint8) {
		dir := t.TempDir()
		file := filepath.Join(dir, "in.dl")
		if err := os.WriteFile(file, src, 0o644); err != nil {
			t.Fatal(err)
		}
		slow := time.AfterFunc(30*time.Second, func() { panic("dlc took over 30 s: a hang") })
		defer slow.Stop()
		cmd := [][]string{{"check", file}, {"compile", file}, {"params", file}}[int(which)%3]
		if code := mainErr(cmd, io.Discard, io.Discard); code != 0 && code != 1 && code != 2 {
			t.Fatalf("dlc %v: exit %d", cmd, code)
		}
	})
}
