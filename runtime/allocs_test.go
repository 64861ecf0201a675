package runtime

import (
	goruntime "runtime"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

// TestStepAllocs: a training step of a dense autoencoder, as autodiff emits it and fused as
// dlc compiles it (dense layers, elementwise programs, the loss head, steps in pairs),
// allocates nothing in steady state: results go to planned buffers, the pool's jobs, the
// strided loops' scratch and the fused kernels' registers are reused, and scalars are kept
// by the program. The batch of 64 rows of 784 splits the elementwise programs over the pool.
func TestStepAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector")
	}
	logits := buildStep(t, []int{784, 64, 32, 64, 784}, []string{"relu", "relu", "relu", "none"}, "bce_logits")
	if err := ir.Optimize(&ir.Module{Funcs: []*ir.Func{logits}}); err != nil {
		t.Fatal(err)
	}
	p, err := Compile(logits)
	if err != nil {
		t.Fatal(err)
	}
	in, params := stepData(t, logits, 64, 1)
	if _, err := p.Run(in, params); err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(20, func() {
		if _, err := p.Run(in, params); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("bce_logits autoencoder: %.1f allocations per step, want 0", allocs)
	}
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

// allocsAtFullWidth is testing.AllocsPerRun without its GOMAXPROCS(1): the average number
// of heap allocations of f over runs calls, counted across every goroutine, with the pool
// at the machine's width, so that the work f hands to the workers is measured too
// (parallel.For runs serially at GOMAXPROCS 1).
func allocsAtFullWidth(runs int, f func()) float64 {
	f()
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	for range runs {
		f()
	}
	goruntime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / float64(runs)
}
