package main

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/train"
	"github.com/spf13/cobra"
)

func newScoreCmd(s *session) *cobra.Command {
	var init, clsFile, clsInit, label, maxMemory string
	var n int
	var seed int64
	c := command("score FILE", func(c *cobra.Command, file string) error {
		if clsFile == "" {
			return usagef("want --classifier FILE --classifier-init CHECKPOINT and -n ≥ 1")
		}
		gen, labels, err := s.loadGenerator(file, init, label, "score")
		if err != nil {
			return err
		}
		if fn, ok := gen.Spec.Role(ir.RoleSample); ok && gen.Module.Func(fn) != nil {
			if err := checkRowsMemory(gen, fn, n, maxMemory); err != nil {
				return err
			}
		}
		cls, err := s.loadTrained(clsFile, clsInit, "score")
		if err != nil {
			return err
		}
		if fn, ok := gen.Spec.Role(ir.RoleSample); labels == nil && ok && gen.Module.Func(fn) != nil && len(gen.Module.Func(fn).Inputs) == 2 {
			labels = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
		}
		res, err := train.Score(gen, cls, n, rand.New(rand.NewPCG(uint64(seed), 0x73636f72)), labels)
		if err != nil {
			return err
		}
		s.printScore(res, labels != nil)
		return nil
	})
	fs := c.Flags()
	addInit(fs, &init, "the generator's checkpoint `FILE`")
	fs.StringVar(&clsFile, "classifier", "", "the classifier's .dl `FILE` (a model trained with cross_entropy)")
	fs.StringVar(&clsInit, "classifier-init", "", "the classifier's checkpoint `FILE`")
	addCount(fs, &n, 10000, "how many samples to classify")
	addSeed(fs, &seed, 1, "seed of the noise")
	addMaxMemory(fs, &maxMemory, "refuse -n samples whose values alone exceed this `SIZE`")
	addLabel(fs, &label, "for a conditional generator: the classes `K` to request, cycled (default: every class in turn)")
	return c
}

// printScore prints what dlc score measured.
func (s *session) printScore(res train.ScoreResult, labelled bool) {
	fmt.Fprintf(s.stdout, "samples %d  mean confidence %.4f\n", res.N, res.Confidence)
	lo, hi := 1.0, 0.0
	for c, share := range res.Shares {
		fmt.Fprintf(s.stdout, "class %d  %.2f%%\n", c, 100*share)
		lo, hi = min(lo, share), max(hi, share)
	}
	fmt.Fprintf(s.stdout, "share min %.2f%%  max %.2f%%\n", 100*lo, 100*hi)
	if labelled {
		fmt.Fprintf(s.stdout, "classified as the requested label %.2f%%\n", 100*res.Agree)
	}
}
