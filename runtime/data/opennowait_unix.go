//go:build unix

package data

import (
	"os"
	"syscall"
)

// openNoWait opens path for reading without blocking: a FIFO with no writer would
// otherwise hang open(2) until one came.
func openNoWait(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
