package runtime

import (
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

// TestStepAllocs: a training step of a dense autoencoder, fused as dlc compiles it, allocates
// nothing in steady state: results go to planned buffers, the pool's jobs and the strided
// loops' scratch are reused, and scalars are kept by the program.
func TestStepAllocs(t *testing.T) {
	for _, optimize := range []bool{false, true} {
		f := denseStack([]int{784, 64, 32, 64, 784})
		if optimize {
			if err := ir.Optimize(&ir.Module{Funcs: []*ir.Func{f}}); err != nil {
				t.Fatal(err)
			}
		}
		p, err := Compile(f)
		if err != nil {
			t.Fatal(err)
		}
		in, params := stepData(t, f, 64, 1)
		in["t"] = in["x"] // an autoencoder: the target is the input
		if _, err := p.Run(in, params); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(20, func() {
			if _, err := p.Run(in, params); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("optimize=%v: %.1f allocations per step, want 0", optimize, allocs)
		}
	}
}
