package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The help text: written here rather than by cobra's template so that it fits an
// 80-column terminal (descriptions wrap under their own column), shows -n and -o as the
// one-letter flags they are, and leaves out the defaults that stand for "as the train
// block says".

// width is the terminal width the help text is wrapped to.
const width = 80

// printUsage writes c's usage: its command line, what it does, its subcommands and flags.
func printUsage(w io.Writer, c *cobra.Command) {
	c.InitDefaultHelpFlag()
	if !c.HasParent() {
		c.InitDefaultVersionFlag()
		fmt.Fprintf(w, "usage: dlc COMMAND FILE [flags]\n\ndlc: %s.\n\ncommands:\n", c.Short)
		var rows [][2]string
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() || sub.Name() == "help" {
				rows = append(rows, [2]string{sub.Use, sub.Short})
			}
		}
		writeColumns(w, rows)
		fmt.Fprintf(w, "\nflags:\n")
		writeColumns(w, flagRows(c.Flags()))
		fmt.Fprintf(w, "\n%s\n", wrap("Exit codes: 0 success, 1 diagnostics or a failed run, 2 a usage error, 130 a run stopped by Ctrl-C.", width))
		return
	}
	fmt.Fprintf(w, "usage: dlc %s [flags]\n\n", c.Use)
	text := c.Long
	if text == "" {
		text = strings.ToUpper(c.Short[:1]) + c.Short[1:] + "."
	}
	for _, para := range strings.Split(text, "\n\n") {
		fmt.Fprintf(w, "%s\n\n", wrap(para, width))
	}
	fmt.Fprintf(w, "flags:\n")
	writeColumns(w, flagRows(c.Flags()))
}

// flagRows lists the visible flags of fs, each as its spelling and its description.
func flagRows(fs *pflag.FlagSet) [][2]string {
	var rows [][2]string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		meta, usage := pflag.UnquoteUsage(f)
		switch meta {
		case "int", "uint":
			meta = "N"
		case "float":
			meta = "X"
		case "string":
			meta = "VALUE"
		}
		left := flagName(f)
		if f.Shorthand != "" && f.Shorthand != f.Name {
			left = "-" + f.Shorthand + ", " + left
		}
		if meta != "" {
			left += " " + meta
		} else if f.Value.Type() == "bool" && f.DefValue == "true" {
			left += "=true|false" // on by default: only --name=false changes it
		}
		// A default of -1 or NaN stands for "not given", which the usage spells out.
		switch d := f.DefValue; {
		case d == "" || d == "0" || d == "false" || d == "-1" || d == "NaN":
		default:
			usage += " (default " + d + ")"
		}
		rows = append(rows, [2]string{left, usage})
	})
	return rows
}

// flagName is how a flag is spelled on the command line: -n for a one-letter name, else
// --name.
func flagName(f *pflag.Flag) string {
	if len(f.Name) == 1 {
		return "-" + f.Name
	}
	return "--" + f.Name
}

// writeColumns writes rows as two columns, indented by two spaces: the second wraps
// within the width, under itself; a first column too wide for it puts the second on the
// next line.
func writeColumns(w io.Writer, rows [][2]string) {
	col := 0
	for _, r := range rows {
		if len(r[0]) <= 22 {
			col = max(col, len(r[0]))
		}
	}
	indent := strings.Repeat(" ", col+5)
	for _, r := range rows {
		text := strings.ReplaceAll(wrap(r[1], width-len(indent)), "\n", "\n"+indent)
		if len(r[0]) > col {
			fmt.Fprintf(w, "  %s\n%s%s\n", r[0], indent, text)
			continue
		}
		fmt.Fprintf(w, "  %-*s   %s\n", col, r[0], text)
	}
}

// wrap breaks text at spaces into lines of at most n characters (a longer word has a
// line of its own).
func wrap(text string, n int) string {
	var b strings.Builder
	line := 0
	for _, word := range strings.Fields(text) {
		switch {
		case line == 0:
		case line+1+utf8.RuneCountInString(word) > n:
			b.WriteByte('\n')
			line = 0
		default:
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += utf8.RuneCountInString(word)
	}
	return b.String()
}
