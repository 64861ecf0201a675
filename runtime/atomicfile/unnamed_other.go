//go:build !linux

package atomicfile

import (
	"errors"
	"os"
)

var errNoUnnamed = errors.New("no unnamed temporary files")

func openUnnamed(string) (*os.File, error) { return nil, errNoUnnamed }
func linkUnnamed(*os.File, string) error   { return errNoUnnamed }
