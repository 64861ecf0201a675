// Package report draws the pictures left behind by a training run: the
// loss curve per epoch, and grids of images such as test digits beside
// their reconstructions, all as PNG files.
//
// Every file is written to a temporary name in the target directory and
// renamed into place, so a viewer never sees a half-written picture and a
// failed run never clobbers the pictures of the last good one.
package report

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func errorf(path, format string, args ...any) error {
	return fmt.Errorf("report: %s: "+format, append([]any{path}, args...)...)
}

// writeAtomic writes path through write, replacing any old file only once
// the new one is complete.
func writeAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return errorf(path, "%v", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	// CreateTemp makes the file private; a picture is for sharing.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	ok = true
	return nil
}
