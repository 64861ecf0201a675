package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkCompileExamples: `dlc compile` of each example in-process (parse, check, lower,
// differentiate, optimise, print), the part of the command's wall time that is dlc's own;
// the process start adds about 20 ms (`dlc help`). Issue 9 bounds the whole under 50 ms.
func BenchmarkCompileExamples(b *testing.B) {
	files, err := filepath.Glob("../../examples/*/*.dl")
	if err != nil || len(files) == 0 {
		b.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "../../examples/"), ".dl")
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if code := mainErr([]string{"compile", f}, io.Discard, io.Discard); code != 0 {
					b.Fatalf("dlc compile %s: exit %d", f, code)
				}
			}
		})
	}
}
