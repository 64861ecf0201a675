// Command flops prints the arithmetic of each model's training epoch, counted from its IR
// (ir.TrainFlops: every op's shapes are known once the batch is), and the floor it sets: the
// epoch's time at the machine's measured multiply-add peak. The peak is measured here, on
// one core and on all of them, by a loop of independent AVX-512 FMAs on registers
// (gemm.FMAPeak), unless -peak gives one; the GEMM's micro-kernel on data in L1 (gemm.Peak)
// is printed beside it. The machine is shared: measure when it is quiet, or pass -peak.
//
//	go run ./bench/flops examples/gan/dcgan.dl examples/autoencoder/conv.dl
//	go run ./bench/flops -peak 652 -samples 60000 examples/classifier/mlp.dl
//
// An epoch is ⌊samples/B⌋ batches of B and one of the rest; each batch runs every phase's
// step (Repeat times). Products (matmul, dense, convolutions and their gradients) count
// 2·m·n·k; the rest (elementwise, reductions) one per element, and is memory-bound, so the
// floor is that of the products alone, with the rest's share printed beside it. The
// optimiser's update is not counted.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/gemm"
)

func main() {
	peak := flag.Float64("peak", 0, "the machine's peak in GFLOP/s (0: measure it)")
	samples := flag.Int("samples", 60000, "training samples per epoch (MNIST's 60,000)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: flops [-peak GFLOPS] [-samples N] FILE.dl...")
		os.Exit(2)
	}
	if *samples < 1 {
		fmt.Fprintln(os.Stderr, "flops: -samples must be at least 1")
		os.Exit(2)
	}
	if *peak <= 0 {
		one, all := gemm.FMAPeak(500*time.Millisecond, false), gemm.FMAPeak(500*time.Millisecond, true)
		fmt.Printf("peak (AVX-512 FMAs on registers): %.0f GFLOP/s on one core, %.0f on all\n", one, all)
		k1, kall := gemm.Peak(500*time.Millisecond, false), gemm.Peak(500*time.Millisecond, true)
		fmt.Printf("GEMM micro-kernel (%s) in L1: %.0f GFLOP/s on one core, %.0f on all\n", gemm.Kernel(), k1, kall)
		*peak = all
		if *peak <= 0 {
			fmt.Fprintln(os.Stderr, "flops: no AVX-512 here to measure the peak with; give -peak")
			os.Exit(1)
		}
	}
	fmt.Printf("floor at %.0f GFLOP/s, %d samples an epoch\n", *peak, *samples)
	fmt.Printf("%-34s %5s %14s %14s %12s %8s\n", "model", "batch", "TFLOP/epoch", "products", "other", "floor s")
	failed := false
	for _, file := range flag.Args() {
		if err := report(file, *samples, *peak); err != nil {
			fmt.Fprintf(os.Stderr, "flops: %s: %v\n", file, err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

func report(file string, samples int, peak float64) error {
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	m, _, err := compiler.Compile(file, src, compiler.Options{Optimize: true})
	if err != nil {
		return err
	}
	if m.Train == nil {
		return fmt.Errorf("no train block")
	}
	b := m.Train.Batch
	if m.Train.Task != ir.TaskSamples {
		return fmt.Errorf("a %s task: its shapes follow from the graph's data, not the batch", m.Train.Task)
	}
	epoch, err := batchFlops(m, b)
	if err != nil {
		return err
	}
	epoch = epoch.Scale(float64(samples / b))
	if rest := samples % b; rest > 0 {
		last, err := batchFlops(m, rest)
		if err != nil {
			return err
		}
		epoch = epoch.Add(last)
	}
	fmt.Printf("%-34s %5d %14.3f %14.3f %12.3f %8.2f\n", file, b, epoch.Total()/1e12,
		epoch.Products/1e12, epoch.Other/1e12, epoch.Products/(peak*1e9))
	return nil
}

// batchFlops is the arithmetic of one batch of n samples: every phase's step, Repeat times.
func batchFlops(m *ir.Module, n int) (ir.Flops, error) {
	phases, err := ir.TrainFlops(m, n)
	if err != nil {
		return ir.Flops{}, err
	}
	var sum ir.Flops
	for _, p := range phases {
		sum = sum.Add(p.Step.Scale(float64(p.Repeat)))
	}
	return sum, nil
}
