package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/dlc-lang/dlc/runtime/guard"
)

// What a command reads and writes goes through runtime/guard: the sources are recorded as
// they are read (readSource), and a command's outputs, the names it derives included, are
// declared by declareOutputs at the start of its body, before any work. The guard refuses
// an output that is one of the files read, whichever comes first.

// maxSourceBytes bounds a .dl file, so that a wrong path (/dev/zero, a disk image) is an
// error, not an out-of-memory death. The largest example is a few kilobytes.
const maxSourceBytes = 16 << 20

// readSource reads a .dl file, the main one or an import, for the compiler, recording it
// as read (what it is: "the .dl source", "an imported file").
func readSource(what string) func(path string) ([]byte, error) {
	return func(path string) ([]byte, error) {
		if err := guard.Read(path, what); err != nil {
			return nil, err
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			return nil, &os.PathError{Op: "read", Path: path, Err: errors.New("is a directory")}
		}
		b, err := io.ReadAll(io.LimitReader(f, maxSourceBytes+1))
		if err != nil {
			return nil, err
		}
		if len(b) > maxSourceBytes {
			return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("longer than %d MiB, the limit for a .dl file", maxSourceBytes>>20)}
		}
		return b, nil
	}
}

// output is one file a command writes: the flag (or derived name) that names it in
// messages, its path, and whether the command reads it whole before replacing it.
type output struct {
	flag, path string
}

// declareOutputs declares a command's outputs before any work (guard.Output): each is
// writable, none is one of its inputs or another of its outputs, and no other dlc process
// is writing one.
func declareOutputs(outs ...output) error {
	for _, o := range outs {
		if err := guard.Output(o.flag, o.path, guard.Options{}); err != nil {
			return err
		}
	}
	return nil
}
