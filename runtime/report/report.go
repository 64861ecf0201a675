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

	"github.com/dlc-lang/dlc/runtime/atomicfile"
)

func errorf(path, format string, args ...any) error {
	return fmt.Errorf("report: %s: "+format, append([]any{path}, args...)...)
}

// writeAtomic writes path through write, replacing any old file only once
// the new one is complete (runtime/atomicfile).
func writeAtomic(path string, write func(io.Writer) error) error {
	if err := atomicfile.Write(path, 0o644, write); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
