package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/ir"
	"github.com/spf13/cobra"
)

func newSummaryCmd(s *session) *cobra.Command {
	return command("summary FILE", func(c *cobra.Command, file string) error {
		m, err := s.compileFile(file, false)
		if err != nil {
			return err
		}
		writeSummary(s.stdout, s.prog.Summary(m))
		return nil
	})
}

// writeSummary prints each network's calls as a table (the call, the block it calls, its
// line, the shape it returns, its parameter and state counts), a line of subtotals per
// network and the totals.
func writeSummary(w io.Writer, nets []compiler.NetworkSummary) {
	var trainable, state int
	for i, n := range nets {
		if i > 0 {
			fmt.Fprintln(w)
		}
		rows := [][]string{{"call", "block", "line", "output", "params", "state"}}
		for _, c := range n.Calls {
			rows = append(rows, []string{strings.Repeat("  ", c.Depth) + c.Name, c.Block,
				fmt.Sprintf("%d:%d", c.Pos.Line, c.Pos.Column), shapes(c.Results), count(c.Params), count(c.State)})
		}
		for _, o := range append(n.Params, n.State...) {
			name := strings.TrimPrefix(o.Attrs.String("name"), n.Name+".")
			if o.Kind == "param" {
				rows = append(rows, []string{name, "param", pos(o.Pos), o.Type.Shape.String(), count([]*ir.Op{o}), ""})
			} else {
				rows = append(rows, []string{name, "state", pos(o.Pos), o.Type.Shape.String(), "", count([]*ir.Op{o})})
			}
		}
		fmt.Fprintf(w, "%s (%s:%d)\n", n.Name, n.Pos.Filename, n.Pos.Line)
		writeTable(w, rows, "    rr")
		fmt.Fprintf(w, "%s: %s trainable, %s non-trainable parameters\n", n.Name, thousands(n.Trainable), thousands(n.NonTrainable))
		trainable += n.Trainable
		state += n.NonTrainable
	}
	if len(nets) > 1 {
		fmt.Fprintf(w, "\ntotal: %s trainable, %s non-trainable parameters\n", thousands(trainable), thousands(state))
	}
}

func pos(p ir.Pos) string {
	if !p.IsValid() {
		return ""
	}
	return fmt.Sprintf("%d:%d", p.Line, p.Col)
}

func shapes(ss []ir.Shape) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	return strings.Join(parts, ", ")
}

// count is the elements of ops, or "" for none.
func count(ops []*ir.Op) string {
	n := 0
	for _, o := range ops {
		n += o.Type.Shape.NumElements().Coef
	}
	if n == 0 {
		return ""
	}
	return thousands(n)
}

// thousands writes n with commas between groups of three digits, as Keras' summary does.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// writeTable writes rows in columns two spaces apart, each left-aligned or, where align
// has an r at the column's index, right-aligned; the first row is the header, indented
// like the rest by two spaces.
func writeTable(w io.Writer, rows [][]string, align string) {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		b.WriteString("  ")
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-len([]rune(c)))
			if i > 0 {
				b.WriteString("  ")
			}
			if i < len(align) && align[i] == 'r' {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// summaryFirst is w, with the summary of nets written before the first thing the run
// writes: a run refused before it trains (bad data, a checkpoint of another model) prints
// its error alone.
func summaryFirst(w io.Writer, nets []compiler.NetworkSummary) io.Writer {
	var b bytes.Buffer
	writeSummary(&b, nets)
	b.WriteString("\n")
	return &headed{w: w, head: b.Bytes()}
}

type headed struct {
	w    io.Writer
	head []byte // written before the first Write, then nil
}

func (h *headed) Write(p []byte) (int, error) {
	if h.head != nil {
		head := h.head
		h.head = nil
		if _, err := h.w.Write(head); err != nil {
			return 0, err
		}
	}
	return h.w.Write(p)
}
