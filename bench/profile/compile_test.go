package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/train"
)

// BenchmarkCompileExamples times what `dlc compile` does with each example, in process:
// parse, check, lower, differentiate, optimise (the fusion passes), validate against the
// runtime and plan the memory estimate. The bound is 50 ms per example.
func BenchmarkCompileExamples(b *testing.B) {
	files, _ := filepath.Glob("../../examples/*/*.dl")
	if len(files) == 0 {
		b.Fatal("no examples found")
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(filepath.Dir(file))+"/"+filepath.Base(file), func(b *testing.B) {
			for b.Loop() {
				m, _, err := compiler.Compile(file, src, compiler.Options{Optimize: true})
				if err != nil {
					b.Fatal(err)
				}
				if err := train.Validate(m); err != nil {
					b.Fatal(err)
				}
				if _, err := runtime.EstimateMemory(m, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
