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
	var init, out, label, valueRange string
	var in []string
	var n int
	var seed int64
	c := command("sample FILE", func(c *cobra.Command, file string) error {
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
			return nil
		}
		if err := report.WriteSheet(out, sampleSheet(tr, imgs, labels, len(files) > 0, r)); err != nil {
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
	addLabel(fs, &label, "for a conditional generator: the class `K` of every sample, or a list (0,1,2) to cycle through")
	addRange(fs, &valueRange)
	fs.StringArrayVar(&in, "in", nil, "feed the sample function's input NAME the rows of a .npy array, `NAME=FILE` (e.g. y=labels.npy: the conditions); its first n rows, or all of them without -n")
	return c
}

// sampleSheet lays out samples as a grid over the range r (nil: the sample function's
// tanh's or sigmoid's, else the data's). A conditional generator's samples, asked for
// their classes in turn (--label, or every class), are a column per class, labelled.
func sampleSheet(tr *train.Trainer, imgs train.Images, labels []int, fromFiles bool, r []float64) report.Sheet {
	lo, hi := tr.DataRange()
	fn, _ := tr.Spec.Role(ir.RoleSample)
	if l, h, ok := tr.OutputRange(fn); ok {
		lo, hi = l, h
	}
	if r != nil {
		lo, hi = r[0], r[1]
	}
	cells := imgs.Cells(float32(lo), float32(hi))
	cols, classes := 8, []int(nil)
	if f := tr.Module.Func(fn); f != nil && len(f.Inputs) == 2 && !fromFiles {
		classes = labels
		if classes == nil && f.Inputs[1].Type.Shape[1].IsConst() {
			for c := range f.Inputs[1].Type.Shape[1].Coef {
				classes = append(classes, c)
			}
		}
	}
	s := report.Sheet{Title: fmt.Sprintf("%d samples of %s", len(cells), fn)}
	switch {
	case len(classes) == 1:
		s.Title += fmt.Sprintf(", class %d", classes[0])
		classes = nil
	case len(classes) > 1 && len(classes) <= 16:
		cols = len(classes)
	default:
		classes = nil
	}
	for _, c := range classes {
		s.ColLabels = append(s.ColLabels, fmt.Sprint(c))
	}
	for b := 0; b < len(cells); b += cols {
		s.Rows = append(s.Rows, cells[b:min(b+cols, len(cells))])
	}
	return s
}
