package main

import (
	"fmt"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/lang"
	"github.com/dlc-lang/dlc/runtime/data"
	"github.com/dlc-lang/dlc/runtime/train"
	"github.com/spf13/cobra"
)

// newCheckCmd is dlc check FILE: the compiler's diagnostics, then every mismatch between
// the train block's data and the model that dlc run would hit, from the data files'
// headers (train.CheckDataFiles: the function dlc run uses on the loaded data), each at
// the data setting's line. --set overrides settings as dlc run's does.
func newCheckCmd(s *session) *cobra.Command {
	var dataDir string
	var sets []string
	c := command("check FILE", func(c *cobra.Command, file string) error {
		over, err := parseSets(sets)
		if err != nil {
			return err
		}
		m, err := s.compileWith(file, compiler.Options{Overrides: over})
		if err != nil {
			return err
		}
		errs := train.CheckDataFiles(m, data.Options{MNISTDir: dataDir})
		for _, e := range errs {
			le := &lang.Error{Pos: lang.Pos{Filename: e.Pos.File, Line: e.Pos.Line, Column: e.Pos.Col}, Msg: e.Msg}
			if !e.Pos.IsValid() {
				fmt.Fprintln(s.stderr, e.Msg)
				continue
			}
			fmt.Fprintln(s.stderr, render(le, s.prog, file, s.prog.Source(file)))
		}
		if len(errs) > 0 {
			return errReported
		}
		fmt.Fprintf(s.stdout, "%s: ok\n", file)
		return nil
	})
	addDataDir(c.Flags(), &dataDir)
	c.Flags().StringArrayVar(&sets, "set", nil, "check with a train-block setting overridden, `KEY=VALUE` as dlc run --set takes it; repeatable")
	return c
}
