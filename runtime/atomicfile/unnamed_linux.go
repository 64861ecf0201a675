package atomicfile

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// openUnnamed opens a file without a name in dir (O_TMPFILE): it vanishes if the process
// dies before linkUnnamed.
func openUnnamed(dir string) (*os.File, error) {
	return os.OpenFile(dir, os.O_RDWR|unix.O_TMPFILE, 0o600)
}

// linkUnnamed gives the unnamed file f the name name, through its /proc/self/fd link
// (which, unlike AT_EMPTY_PATH, needs no privilege).
func linkUnnamed(f *os.File, name string) error {
	err := unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), unix.AT_FDCWD, name, unix.AT_SYMLINK_FOLLOW)
	if err != nil {
		return &os.LinkError{Op: "link", Old: f.Name(), New: name, Err: err}
	}
	return nil
}
