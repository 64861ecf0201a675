//go:build !unix

package data

import (
	"errors"
	"os"
)

// mapFile is not available here; the cache is read into memory instead.
func mapFile(*os.File, int) ([]byte, error) { return nil, errors.New("no mmap") }

func unmapFile([]byte) {}
