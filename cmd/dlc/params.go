package main

import (
	"fmt"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/runtime/report"
	"github.com/dlc-lang/dlc/runtime/train"
	"github.com/spf13/cobra"
)

func newParamsCmd(s *session) *cobra.Command {
	var init, filters, out string
	var n int
	c := command("params FILE", func(c *cobra.Command, file string) error {
		if filters != "" || given(c.Flags(), "o") || given(c.Flags(), "n") {
			return s.drawFilters(file, init, filters, out, n)
		}
		if init != "" {
			return usagef("--init: dlc params reads a checkpoint only to draw --filters NAME")
		}
		m, err := s.compileFile(file, false)
		if err != nil {
			return err
		}
		ps := m.Params()
		width := len("name")
		for _, p := range ps {
			width = max(width, len(p.Attrs.String("name")))
		}
		fmt.Fprintf(s.stdout, "%-*s  %-14s  %10s  %s\n", width, "name", "shape", "count", "init")
		total := 0
		for _, p := range ps {
			n := p.Type.Shape.NumElements().Coef
			fmt.Fprintf(s.stdout, "%-*s  %-14s  %10d  %s\n", width, p.Attrs.String("name"), p.Type.Shape, n, p.Attrs.String("init"))
			total += n
		}
		fmt.Fprintf(s.stdout, "%-*s  %-14s  %10d\n", width, "total", "", total)
		if m.Train == nil {
			return nil
		}
		// The estimate follows what dlc run executes: the optimised IR.
		if err := compiler.Optimize(m); err != nil {
			return err
		}
		e, err := train.EstimateMemory(m, 0)
		if err != nil {
			return err
		}
		fmt.Fprintln(s.stdout, memoryLine(e))
		return nil
	})
	fs := c.Flags()
	addInit(fs, &init, "with --filters: the trained weights, a checkpoint `FILE` (from dlc run --save)")
	fs.StringVar(&filters, "filters", "", "draw the trained parameter `NAME` as images, one a unit (a dense layer's weight: each unit's input weights; a convolution's: its kernels), or a layer's name (Enc.dense0: its weight)")
	addOutput(fs, &out, "filters.png", "with --filters: the picture `FILE` (PNG)")
	addCount(fs, &n, 64, "with --filters: draw the first n units")
	return c
}

// drawFilters is dlc params --filters NAME: the trained weights of a dense or
// convolutional layer, a unit to a picture. It belongs to params, which names the
// parameters, rather than to a command of its own: the picture is of one of them.
func (s *session) drawFilters(file, init, name, out string, n int) error {
	if name == "" {
		return usagef("-o and -n draw filters: give --filters NAME (a parameter dlc params lists)")
	}
	if err := declareOutputs(output{"-o", out}); err != nil {
		return err
	}
	tr, err := s.loadTrained(file, init, "params --filters")
	if err != nil {
		return err
	}
	if _, ok := tr.Vars[name]; !ok {
		if _, ok := tr.Vars[name+".weight"]; ok {
			name += ".weight"
		}
	}
	cells, err := tr.FilterCells(name, n)
	if err != nil {
		return fmt.Errorf("--filters %s: %v", name, err)
	}
	sheet := report.Blocks([][]report.Cell{cells}, nil, 16)
	sheet.GroupRows = 0
	sheet.Title = fmt.Sprintf("%s: %d units, each over [-max|w|, max|w|]", name, len(cells))
	if err := report.WriteSheet(out, sheet); err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "wrote %d filters of %s to %s\n", len(cells), name, out)
	return nil
}

// memoryLine describes a training run's memory estimate in one line.
func memoryLine(e train.MemoryEstimate) string {
	if e.Graph {
		return fmt.Sprintf("memory before the data: parameters %s, state %s, optimiser %s; the activations grow with the graph's nodes and edges, and dlc run reports them once the graph is loaded",
			train.FormatBytes(e.Params), train.FormatBytes(e.State), train.FormatBytes(e.Optim))
	}
	return fmt.Sprintf("memory at batch %d: %s (parameters %s, state %s, optimiser %s, activations %s), before the data",
		e.Batch, train.FormatBytes(e.Total()), train.FormatBytes(e.Params), train.FormatBytes(e.State),
		train.FormatBytes(e.Optim), train.FormatBytes(e.Activ))
}
