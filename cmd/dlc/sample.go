package main

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/report"
	"github.com/dlc-lang/dlc/runtime/train"
	"github.com/spf13/cobra"
)

func newSampleCmd(s *session) *cobra.Command {
	var init, out, label, maxMemory, valueRange string
	var in []string
	var n int
	var seed int64
	c := command("sample FILE", func(c *cobra.Command, file string) error {
		outs := []output{{"-o", out}}
		lab := strings.TrimSuffix(out, ".npy") + "-labels.npy" // a conditional generator's labels
		if strings.HasSuffix(out, ".npy") {
			outs = append(outs, output{"the labels beside -o", lab})
		}
		if err := declareOutputs(outs...); err != nil {
			return err
		}
		r, err := parseRange(valueRange)
		if err != nil {
			return err
		}
		tr, labels, err := s.loadGenerator(file, init, label, "sample")
		if err != nil {
			return err
		}
		files := make([]train.InputFile, len(in))
		for i, v := range in {
			files[i] = train.ParseInputFile(v)
		}
		if len(files) > 0 && !given(c.Flags(), "n") {
			n = 0 // as many samples as the files have rows
		}
		if fn, ok := tr.Spec.Role(ir.RoleSample); ok && tr.Module.Func(fn) != nil {
			if err := checkRowsMemory(tr, fn, n, maxMemory); err != nil {
				return err
			}
		}
		imgs, err := tr.SampleFrom(n, rand.New(rand.NewPCG(uint64(seed), 0x73616d70)), labels, files)
		if err != nil {
			return err
		}
		n = imgs.T.Shape[0]
		if strings.HasSuffix(out, ".npy") {
			if err := writeNPYFile(out, imgs.T); err != nil {
				return err
			}
			fmt.Fprintf(s.stdout, "wrote %d samples %v to %s\n", n, imgs.T.Shape, out)
			if imgs.Labels == nil {
				return nil
			}
			if err := train.WriteLabelsNPY(lab, imgs.Labels); err != nil {
				return err
			}
			fmt.Fprintf(s.stdout, "wrote their labels (the class each was conditioned on, int32 [%d]) to %s\n", n, lab)
			return nil
		}
		if err := report.WriteSheet(out, tr.SampleSheet(imgs, labels, len(files) > 0, r)); err != nil {
			return err
		}
		fmt.Fprintf(s.stdout, "wrote %d samples to %s\n", n, out)
		return nil
	})
	fs := c.Flags()
	addInit(fs, &init, "the generator's checkpoint `FILE` (from dlc run --save)")
	addCount(fs, &n, 64, "how many samples")
	addOutput(fs, &out, "samples.png", "where to write them: a PNG grid, or a .npy array [n, …] when the `FILE` name ends in .npy")
	addSeed(fs, &seed, 1, "seed of the noise")
	addMaxMemory(fs, &maxMemory, "refuse -n samples whose values alone exceed this `SIZE`")
	addLabel(fs, &label, "for a conditional generator: the class `K` of every sample, or a list (0,1,2) to cycle through")
	addRange(fs, &valueRange)
	fs.StringArrayVar(&in, "in", nil, "feed the sample function's input NAME the rows of a .npy array, `NAME=FILE` (e.g. y=labels.npy: the conditions); its first n rows, or all of them without -n")
	return c
}
