package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/report"
	"github.com/dlc-lang/dlc/runtime/train"
	"github.com/spf13/cobra"
)

// newTraverseCmd is dlc traverse FILE: a latent traversal of an autoencoder, a picture of
// what each code dimension means. It is a command of its own, not a flag of sample or
// apply: it takes a code to start from, dimensions and a span of values, none of which
// those commands have, and its picture is a table (a row per dimension, a column per
// value) rather than a grid of samples.
func newTraverseCmd(s *session) *cobra.Command {
	var init, out, dims, span, from, valueRange, dataDir string
	var steps int
	c := command("traverse FILE", func(c *cobra.Command, file string) error {
		if steps < 2 || steps > train.MaxTraverseSteps {
			return usagef("--steps %d, want 2 to %d", steps, train.MaxTraverseSteps)
		}
		lo, hi, err := parsePair("--span", span)
		if err != nil {
			return err
		}
		r, err := parseRange(valueRange)
		if err != nil {
			return err
		}
		var ds []int
		if dims != "" {
			if ds, err = parseLabels("--dims", dims); err != nil {
				return err
			}
		}
		which, row, err := parseFrom(from)
		if err != nil {
			return err
		}
		if err := declareOutputs(output{"-o", out}); err != nil {
			return err
		}
		tr, err := s.loadTrained(file, init, "traverse")
		if err != nil {
			return err
		}
		var base []float32
		start := "the others 0"
		if which != "" {
			if base, err = tr.EncodeOne(file, which, row, train.DataOptions{MNISTDir: dataDir}); err != nil {
				return fmt.Errorf("--from %s: %v", from, err)
			}
			start = fmt.Sprintf("the others those of %s sample %d", which, row)
		}
		tv, err := tr.Traverse(base, ds, lo, hi, steps)
		if err != nil {
			return err
		}
		dlo, dhi := tr.DataRange()
		if fn, err := tr.RoleFunc(ir.RoleDecode); err == nil {
			if l, h, ok := tr.OutputRange(fn); ok {
				dlo, dhi = l, h
			}
		}
		if r != nil {
			dlo, dhi = r[0], r[1]
		}
		cells := tv.Images.Cells(float32(dlo), float32(dhi))
		sheet := report.Sheet{Title: fmt.Sprintf("code dimensions from %g to %g, %s", lo, hi, start)}
		for _, v := range tv.Values {
			sheet.ColLabels = append(sheet.ColLabels, strconv.FormatFloat(v, 'g', 3, 64))
		}
		for i, d := range tv.Dims {
			sheet.RowLabels = append(sheet.RowLabels, fmt.Sprintf("z%d", d))
			sheet.Rows = append(sheet.Rows, cells[i*len(tv.Values):(i+1)*len(tv.Values)])
		}
		if err := report.WriteSheet(out, sheet); err != nil {
			return err
		}
		fmt.Fprintf(s.stdout, "wrote a traversal of %d code dimensions over %d values to %s\n", len(tv.Dims), len(tv.Values), out)
		return nil
	})
	fs := c.Flags()
	addInit(fs, &init, "the autoencoder's checkpoint `FILE` (from dlc run --save)")
	addOutput(fs, &out, "traverse.png", "the picture `FILE` (PNG)")
	fs.StringVar(&dims, "dims", "", "the code dimensions to vary, `0,1,2` (default all)")
	fs.StringVar(&span, "span", "-3,3", "the values each dimension goes through, from `LO,HI`")
	fs.IntVar(&steps, "steps", 9, "how many values from LO to HI (2 to 64)")
	fs.StringVar(&from, "from", "", "start from the code of a sample, `SET:I` (test:0, train:12), instead of the zero code (a VAE prior's mean)")
	addRange(fs, &valueRange)
	addDataDir(fs, &dataDir)
	return c
}

// parsePair reads two numbers LO,HI with LO < HI for flag.
func parsePair(flag, s string) (float64, float64, error) {
	r, err := parseRange(s)
	if err != nil || r == nil {
		return 0, 0, usagef("%s %q: want LO,HI, two finite numbers with LO < HI (e.g. -3,3)", flag, s)
	}
	return r[0], r[1], nil
}

// parseFrom reads --from SET:I, "" for none.
func parseFrom(s string) (string, int, error) {
	if s == "" {
		return "", 0, nil
	}
	which, idx, ok := strings.Cut(s, ":")
	i, err := strconv.Atoi(idx)
	if !ok || err != nil || i < 0 || (which != "train" && which != "test") {
		return "", 0, usagef("--from %q: want SET:I, a data set (train or test) and a sample's index ≥ 0, e.g. test:0", s)
	}
	return which, i, nil
}
