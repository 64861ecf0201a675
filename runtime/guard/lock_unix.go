//go:build unix

package guard

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// A lock is an advisory flock on ".NAME.lock" beside an output NAME, held while the
// command runs. The file holds the holder's process id, for the message of a refused
// second writer, and is removed on release.
type lock struct {
	f    *os.File
	path string
}

func lockPath(path string) string {
	dir, base := filepath.Split(path)
	return filepath.Join(dir, "."+base+".lock")
}

// acquire takes the lock of output path without waiting. A lock file removed by its
// holder between our open and our flock is a dead file; then it tries again on the new one.
func acquire(path string) (*lock, error) {
	lp := lockPath(path)
	for range 10 {
		f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("cannot make its lock file %s: %v", lp, unwrapPath(err))
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			b := make([]byte, 32)
			n, _ := f.ReadAt(b, 0)
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				who := "another dlc process"
				if pid, perr := strconv.Atoi(strings.TrimSpace(string(b[:n]))); perr == nil && pid > 0 {
					who += fmt.Sprintf(" (pid %d)", pid)
				}
				return nil, fmt.Errorf("in use by %s; refusing to write it at the same time", who)
			}
			return nil, fmt.Errorf("cannot lock %s: %v", lp, err)
		}
		// Still the file at that name? A holder that released it removed it.
		fi, err1 := f.Stat()
		li, err2 := os.Stat(lp)
		if err1 != nil || err2 != nil || !os.SameFile(fi, li) {
			f.Close()
			continue
		}
		f.Truncate(0)
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		return &lock{f: f, path: lp}, nil
	}
	return nil, fmt.Errorf("cannot lock %s: it keeps changing", lp)
}

// release removes the lock file while holding the lock (so no one else holds the name's
// file), then unlocks.
func (l *lock) release() {
	os.Remove(l.path)
	l.f.Close()
}
