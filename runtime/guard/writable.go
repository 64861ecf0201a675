package guard

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// checkWritable refuses, before any work, an output path that is a directory or whose
// directory is missing or not writable: an hour of training must not end in "cannot
// write".
func checkWritable(flag, path string) error {
	dir, base := filepath.Split(path)
	if base == "" {
		return fmt.Errorf("%s %s: want a file name, not a directory", flag, path)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s %s: is a directory", flag, path)
	}
	if dir == "" {
		dir = "."
	}
	if err := checkDir(flag, dir); err != nil {
		return fmt.Errorf("%s %s: %v", flag, path, errors.Unwrap(err))
	}
	return nil
}

// checkDir refuses a directory that is missing, not a directory or not writable, by
// making and removing a file in it.
func checkDir(flag, dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &dirError{flag, fmt.Errorf("directory %s does not exist", filepath.Clean(dir))}
	case errors.Is(err, syscall.ENOTDIR):
		return &dirError{flag, fmt.Errorf("%s is not a directory", filepath.Clean(dir))}
	case err != nil:
		return &dirError{flag, fmt.Errorf("directory %s: %v", filepath.Clean(dir), unwrapPath(err))}
	case !fi.IsDir():
		return &dirError{flag, fmt.Errorf("%s is not a directory", filepath.Clean(dir))}
	}
	f, err := os.CreateTemp(dir, ".dlc-writable-*")
	if err != nil {
		return &dirError{flag, fmt.Errorf("directory %s is not writable: %v", filepath.Clean(dir), unwrapPath(err))}
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// dirError is checkDir's refusal, printed "FLAG DIR-PROBLEM"; Unwrap gives the problem
// alone, for a message that names the file instead.
type dirError struct {
	flag string
	err  error
}

func (e *dirError) Error() string { return e.flag + ": " + e.err.Error() }
func (e *dirError) Unwrap() error { return e.err }

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
