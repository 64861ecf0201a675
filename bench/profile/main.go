// Command profile trains a .dl file's model for some epochs under the CPU profiler (and,
// on request, takes a heap profile at the end), so that where an epoch's time goes can be
// read with `go tool pprof`. Data loading and compilation are outside the profiled span.
//
//	go run ./bench/profile -cpuprofile /tmp/ae.prof examples/autoencoder/ae.dl
//	go tool pprof -top /tmp/ae.prof
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/runtime/train"
)

func main() {
	epochs := flag.Int("epochs", 1, "epochs to train")
	steps := flag.Int("steps", 0, "stop after this many optimiser steps (0: no limit)")
	cpu := flag.String("cpuprofile", "", "write the CPU profile of the training to this file")
	mem := flag.String("memprofile", "", "write a heap profile after the training to this file")
	noOpt := flag.Bool("O0", false, "do not optimise the IR")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: profile [flags] FILE.dl")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *epochs, *steps, *cpu, *mem, !*noOpt); err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		os.Exit(1)
	}
}

func run(file string, epochs, steps int, cpu, mem string, optimize bool) error {
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	m, _, err := compiler.Compile(file, src, compiler.Options{Optimize: optimize})
	if err != nil {
		return err
	}
	tr, err := train.NewTrainer(m)
	if err != nil {
		return err
	}
	o := train.RunOptions{Source: file, Epochs: epochs, Steps: steps, Seed: -1, Out: os.Stdout}
	// The data is loaded inside Train; load it once before so that the profile holds
	// training, not decoding.
	if err := train.Train(tr, train.RunOptions{Source: file, Epochs: 0, Seed: -1, Out: nopWriter{}}); err != nil {
		return err
	}
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	if err := train.Train(tr, o); err != nil {
		return err
	}
	fmt.Printf("trained in %.2fs\n", time.Since(start).Seconds())
	if mem != "" {
		f, err := os.Create(mem)
		if err != nil {
			return err
		}
		defer f.Close()
		return pprof.WriteHeapProfile(f)
	}
	return nil
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }
