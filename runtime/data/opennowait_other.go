//go:build !unix

package data

import "os"

// openNoWait opens path for reading; where there are no FIFOs it is os.Open.
func openNoWait(path string) (*os.File, error) { return os.Open(path) }
