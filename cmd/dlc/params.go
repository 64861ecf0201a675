package main

import (
	"fmt"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/runtime/train"
	"github.com/spf13/cobra"
)

func newParamsCmd(s *session) *cobra.Command {
	return command("params FILE", func(c *cobra.Command, file string) error {
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
