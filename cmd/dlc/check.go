package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newCheckCmd(s *session) *cobra.Command {
	return command("check FILE", func(c *cobra.Command, file string) error {
		if _, err := s.compileFile(file, false); err != nil {
			return err
		}
		fmt.Fprintf(s.stdout, "%s: ok\n", file)
		return nil
	})
}
