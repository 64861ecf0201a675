package atomicfile

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// The temporary files of the writes under way, by name, so that Abort can remove them.
var (
	liveMu  sync.Mutex
	live    = map[string]bool{}
	aborted bool
)

// errAborted is a write's error once Abort has run.
var errAborted = errors.New("interrupted")

// temp is a write's temporary file: unnamed (O_TMPFILE, name "") or named.
type temp struct {
	f    *os.File
	dir  string
	base string
	name string // the named file's path, "" while unnamed
}

// create makes the temporary file of dir/base: unnamed where the system allows it, else
// a named one, registered for Abort.
func create(dir, base string) (*temp, error) {
	liveMu.Lock()
	defer liveMu.Unlock()
	if aborted {
		return nil, errAborted
	}
	if f, err := openUnnamed(dir); err == nil {
		return &temp{f: f, dir: dir, base: base}, nil
	}
	f, err := os.CreateTemp(dir, tempPrefix(base)+"*")
	if err != nil {
		return nil, err
	}
	live[f.Name()] = true
	return &temp{f: f, dir: dir, base: base, name: f.Name()}, nil
}

// publish puts the finished file at path: an unnamed one is linked under a temporary name
// and renamed over path at once, under the lock Abort takes, so no signal finds it named.
func (t *temp) publish(path string) error {
	liveMu.Lock()
	defer liveMu.Unlock()
	if aborted {
		return errAborted
	}
	if t.name == "" {
		name := filepath.Join(t.dir, tempPrefix(t.base)+strconv.FormatUint(rand.Uint64()>>1, 10))
		if err := linkUnnamed(t.f, name); err != nil {
			return err
		}
		t.name = name
		live[name] = true
	}
	if err := t.f.Close(); err != nil {
		return err
	}
	err := os.Rename(t.name, path)
	if err == nil {
		delete(live, t.name)
		t.name = ""
	}
	return err
}

// discard drops a failed write's temporary file.
func (t *temp) discard() {
	t.f.Close()
	liveMu.Lock()
	defer liveMu.Unlock()
	if t.name != "" {
		os.Remove(t.name)
		delete(live, t.name)
	}
}

// Abort removes the temporary files of every write under way and makes every later write
// fail: a process about to exit on a signal calls it, so that it leaves no temporary file.
// A write that had already renamed its file into place is complete and stays.
func Abort() {
	liveMu.Lock()
	defer liveMu.Unlock()
	aborted = true
	for name := range live {
		os.Remove(name)
		delete(live, name)
	}
}
