package runtime

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

// TestPairsMatchSerial compiles training steps with and without pairing and checks that
// each backward layer's dW and dh were paired, that the fused loss and its gradient were,
// and that every output is the same to the bit (the products and programs are the same
// computations, only run side by side), over several runs on reused buffers.
func TestPairsMatchSerial(t *testing.T) {
	tests := []struct {
		dims  []int
		acts  []string
		loss  string
		pairs int
	}{
		// 3 hidden layers' (dW, dh) pairs, and the loss head (mean and gradient).
		{[]int{784, 64, 32, 64, 784}, []string{"relu", "relu", "relu", "none"}, "bce_logits", 4},
		{[]int{30, 16, 8, 30}, []string{"tanh", "leaky_relu", "sigmoid"}, "mse", 2},
	}
	for _, tt := range tests {
		for _, batch := range []int{5, 64} {
			t.Run(fmt.Sprint(tt.dims, tt.loss, batch), func(t *testing.T) {
				f := buildStep(t, tt.dims, tt.acts, tt.loss)
				if err := ir.OptimizeVerified(&ir.Module{Funcs: []*ir.Func{f}}, ir.DefaultPasses(), ir.Verify); err != nil {
					t.Fatal(err)
				}
				paired, err := Compile(f)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for i, s := range paired.steps {
					if s.pair {
						n++
						t.Logf("pair: %%%s = %s ‖ %%%s = %s", s.op.Ref(), s.op.Kind, paired.steps[i+1].op.Ref(), paired.steps[i+1].op.Kind)
					}
				}
				if n < tt.pairs {
					t.Errorf("%d pairs, want at least %d", n, tt.pairs)
				}
				pairing = false
				serial, err := Compile(f)
				pairing = true
				if err != nil {
					t.Fatal(err)
				}
				in, params := stepData(t, f, batch, 3)
				for run := 0; run < 3; run++ {
					want, err := serial.Run(in, params)
					if err != nil {
						t.Fatal(err)
					}
					got, err := paired.Run(in, params)
					if err != nil {
						t.Fatal(err)
					}
					if err := sameBits(got, want); err != nil {
						t.Fatalf("run %d: %v", run, err)
					}
				}
			})
		}
	}
}

// BenchmarkPairs times the autoencoder's training step at batch 128 with pairs and with
// every step alone; run with -count to interleave the two on a shared machine.
func BenchmarkPairs(b *testing.B) {
	f := buildStep(b, []int{784, 256, 64, 256, 784}, []string{"relu", "relu", "relu", "none"}, "bce_logits")
	if err := ir.Optimize(&ir.Module{Funcs: []*ir.Func{f}}); err != nil {
		b.Fatal(err)
	}
	in, params := stepData(b, f, 128, 3)
	for _, on := range []bool{true, false} {
		pairing = on
		p, err := Compile(f)
		pairing = true
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("pairs=%v", on), func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := p.Run(in, params); err != nil {
					b.Fatal(err)
				}
			}
			// The process's CPU time per step: on a shared machine, where wall time swings
			// with the other load, the work both cores did (and spent waiting in spins).
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the process's user and system time so far, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
