package main

import (
	"io"
	"strings"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/runtime/train"
	"github.com/spf13/cobra"
)

func newCompileCmd(s *session) *cobra.Command {
	var out, show string
	c := command("compile FILE", func(c *cobra.Command, file string) error {
		if show != "before" && show != "after" && show != "both" && show != "phases" {
			return usagef("--show %q, want before, after, both or phases", show)
		}
		if err := declareOutputs(output{"-o", out}); err != nil {
			return err
		}
		text, err := s.compileText(file, show)
		if err != nil {
			return err
		}
		if out == "" {
			_, err := io.WriteString(s.stdout, text)
			return err
		}
		return writeFileAtomic(out, []byte(text))
	})
	addOutput(c.Flags(), &out, "", "write the IR to `FILE` instead of standard output")
	c.Flags().StringVar(&show, "show", "after", "`WHICH` IR to print: before (as lowered), after (optimised) or both; or phases: how the file trains, phase by phase, in the language")
	return c
}

// compileText is the IR text of file that dlc compile --show prints.
func (s *session) compileText(file, show string) (string, error) {
	var sb strings.Builder
	m, err := s.compileFile(file, false)
	if err != nil {
		return "", err
	}
	if show == "phases" {
		return s.prog.Phases(m), nil
	}
	if show != "after" {
		if show == "both" {
			sb.WriteString("# before optimisation\n")
		}
		sb.WriteString(m.String())
	}
	if show == "before" {
		return sb.String(), nil
	}
	if err := compiler.Optimize(m); err != nil {
		return "", err
	}
	if show == "both" {
		sb.WriteString("\n# after optimisation\n")
	}
	sb.WriteString(m.String())
	if m.Train != nil {
		// What a run of this IR holds, as a comment the IR reader skips.
		e, err := train.EstimateMemory(m, 0)
		if err != nil {
			return "", err
		}
		sb.WriteString("# " + memoryLine(e) + "\n")
	}
	return sb.String(), nil
}
