package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"
	"github.com/dlc-lang/dlc/lang"
	"github.com/dlc-lang/dlc/runtime/atomicfile"
	"github.com/spf13/cobra"
)

// newFmtCmd is dlc fmt FILE…: lang.Format of each file (and of each .dl file under a
// directory), written back in place (atomically,
// and only when it changes), or with -d the diff, with -l the names of the files it would
// change. A file that does not parse is reported with its line and left as it was; the
// other files are still formatted, and the command exits 1.
func newFmtCmd(s *session) *cobra.Command {
	var diff, list bool
	c := &cobra.Command{
		Use:   "fmt FILE...",
		Short: docs["fmt"].short,
		Long:  docs["fmt"].long,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("dlc fmt: want at least one FILE")
			}
			for _, a := range args {
				if a == "" {
					return usagef("dlc fmt: FILE is an empty string, want the path of a .dl file")
				}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			failed := false
			files, err := dlFiles(args)
			if err != nil {
				return &runError{err}
			}
			for _, file := range files {
				if err := s.fmtFile(file, diff, list); err != nil {
					if !errors.Is(err, errReported) {
						fmt.Fprintf(s.stderr, "dlc fmt: %v\n", err)
					}
					failed = true
				}
			}
			if failed {
				return &runError{errReported}
			}
			return nil
		},
	}
	c.Flags().BoolVarP(&diff, "diff", "d", false, "print the changes as a unified diff instead of writing the files")
	c.Flags().BoolVarP(&list, "list", "l", false, "list the files whose formatting differs instead of writing them")
	return c
}

// dlFiles is the files args name: a file as it is, a directory as the .dl files under it,
// in lexical order.
func dlFiles(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		info, err := os.Stat(a)
		if err != nil || !info.IsDir() {
			files = append(files, a) // a missing file is reported when it is read
			continue
		}
		err = filepath.WalkDir(a, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(path, ".dl") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("cannot list %s: %v", a, unwrap(err))
		}
	}
	return files, nil
}

// fmtFile formats one file as the flags say.
func (s *session) fmtFile(file string, diff, list bool) error {
	src, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("cannot read %s: %v", file, unwrap(err))
	}
	out, err := lang.Format(file, src)
	if err != nil {
		fmt.Fprintln(s.stderr, render(err, nil, file, src))
		return errReported
	}
	if bytes.Equal(src, out) {
		return nil
	}
	if list {
		fmt.Fprintln(s.stdout, file)
	}
	if diff {
		io.WriteString(s.stdout, udiff.Unified(file+".orig", file, string(src), string(out)))
	}
	if list || diff {
		return nil
	}
	info, err := os.Stat(file)
	if err != nil {
		return fmt.Errorf("cannot stat %s: %v", file, unwrap(err))
	}
	// A link is followed, so that the rename replaces the file it names, not the link.
	target, err := filepath.EvalSymlinks(file)
	if err != nil {
		return fmt.Errorf("cannot resolve %s: %v", file, unwrap(err))
	}
	return atomicfile.Write(target, info.Mode().Perm(), func(w io.Writer) error {
		_, err := w.Write(out)
		return err
	})
}
