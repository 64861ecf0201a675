// Package guard keeps one process's record of the files it reads and the files it is
// about to write, so that no output of a command replaces one of its inputs.
//
// Every reader of outside input (the .dl source and its imports, data files, MNIST's IDX
// files and cache, checkpoints, node pairs) calls Read where it opens a file; every
// command declares its outputs, derived names included, with Output before any work; and
// the one writer, runtime/atomicfile, asks Writable before it replaces a file. Whichever
// of a read and a declaration comes second finds the clash, so a data file named as
// --save is refused when the data is loaded, before the first step, and a picture that
// was never declared is still refused at the moment it would be written.
//
// Two paths are one file when their cleaned absolute paths are equal or when they name
// the same file on disk (os.SameFile: device and inode), which catches symbolic and hard
// links. A declared output is also locked (an advisory flock on ".NAME.lock" beside it),
// so a second dlc process writing the same file is refused rather than interleaving.
//
// The record is off until Begin: library code and its tests run unguarded, and a command
// line (cmd/dlc) turns it on for its own run. End forgets everything and releases the
// locks.
package guard

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// An input is a file read: what names it in messages ("a data file"), its cleaned
// absolute path, and its identity on disk when it could be stat'ed.
type input struct {
	what string
	path string // as given
	abs  string
	fi   os.FileInfo
	own  bool // a cache the process itself maintains: rewriting it is no clash
}

// An output is a file a command will write: the flag that names it, its path (or, for a
// pattern, a glob of the names it may write), and the identities of the files already
// there under its name.
type output struct {
	flag    string
	path    string // as given, for messages
	abs     string
	pattern bool
	dir     string // a pattern's directory, as given
	fis     []os.FileInfo
	// replaces: the command reads this file whole before it replaces it (dlc run
	// --resume W --save W), which is no clash.
	replaces bool
	lock     *lock
}

var (
	mu      sync.Mutex
	on      bool
	inputs  []input
	outputs []*output
)

// Begin starts recording, for one command line.
func Begin() {
	mu.Lock()
	defer mu.Unlock()
	releaseLocked()
	on = true
}

// End stops recording, forgets the record and releases every lock.
func End() {
	mu.Lock()
	defer mu.Unlock()
	releaseLocked()
	on = false
}

func releaseLocked() {
	for _, o := range outputs {
		if o.lock != nil {
			o.lock.release()
		}
	}
	inputs, outputs = nil, nil
}

// A Clash is an output that is one of the command's inputs, or another of its outputs.
type Clash struct {
	Flag, Path string // the output
	What       string // the input it is ("a data file"), or "" for another output
	Other      string // the other output's flag
	// Dir and Input, for an output pattern: the directory it writes in and the input
	// its names match.
	Dir, Input string
}

func (c *Clash) Error() string {
	switch {
	case c.What == "":
		return fmt.Sprintf("%s %s and %s name one file; give each output its own", c.Other, c.Path, c.Flag)
	case c.Input != "":
		return fmt.Sprintf("%s %s would write %s, and %s is %s this command reads; refusing to overwrite it", c.Flag, c.Dir, c.Path, c.Input, c.What)
	}
	return fmt.Sprintf("%s %s is %s this command reads; refusing to overwrite it", c.Flag, c.Path, c.What)
}

// clash is the Clash of output o with input in.
func (o *output) clash(in input) *Clash {
	c := &Clash{Flag: o.flag, Path: o.path, What: in.what}
	if o.pattern {
		c.Dir, c.Input = o.dir, in.path
	}
	return c
}

// Read records path as read by the process; what says what it is ("a data file"). It
// fails when path is one of the declared outputs: the command would destroy what it reads.
func Read(path, what string) error {
	return read(path, what, false)
}

// ReadCache records path as a cache the process reads and itself rewrites when it is
// stale: no output may name it, but the process's own rewrite is allowed.
func ReadCache(path, what string) error {
	return read(path, what, true)
}

func read(path, what string, own bool) error {
	mu.Lock()
	defer mu.Unlock()
	if !on || path == "" {
		return nil
	}
	in := input{what: what, path: path, abs: absPath(path), own: own}
	if fi, err := os.Stat(path); err == nil {
		in.fi = fi
	}
	for _, o := range outputs {
		if !o.replaces && o.names(in) {
			return o.clash(in)
		}
	}
	inputs = append(inputs, in)
	return nil
}

// names reports whether the output o may write the input in.
func (o *output) names(in input) bool {
	if o.pattern {
		if ok, _ := filepath.Match(o.abs, in.abs); ok {
			return true
		}
	} else if o.abs == in.abs {
		return true
	}
	for _, fi := range o.fis {
		if in.fi != nil && os.SameFile(fi, in.fi) {
			return true
		}
	}
	return false
}

// Options of an output.
type Options struct {
	// Replaces says the command reads the file whole before replacing it (a run resumed
	// from the checkpoint it saves to).
	Replaces bool
	// NoLock leaves the output unlocked (pictures, which a run rewrites whole each time).
	NoLock bool
}

// Output declares path, named by flag in messages, as a file the command will write. It
// refuses, before any work: an output that is a file the command has read or another
// output; one whose directory is missing or not writable, or that is a directory; and one
// that another dlc process is writing (its lock is held).
func Output(flag, path string, o Options) error {
	if path == "" {
		return nil
	}
	if err := checkWritable(flag, path); err != nil {
		return err
	}
	return declare(&output{flag: flag, path: path, abs: absPath(path), replaces: o.Replaces}, !o.NoLock)
}

// OutputPattern declares that the command may write any file of dir whose name matches
// glob (filepath.Match), e.g. the pictures "ae-*.png" of dlc run --out DIR. The directory
// must exist and be writable.
func OutputPattern(flag, dir, glob string) error {
	if err := checkDir(flag, dir); err != nil {
		return err
	}
	pat := filepath.Join(absPath(dir), glob)
	o := &output{flag: flag, path: filepath.Join(dir, glob), abs: pat, pattern: true, dir: dir}
	matches, _ := filepath.Glob(filepath.Join(dir, glob))
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil {
			o.fis = append(o.fis, fi)
		}
	}
	return declare(o, false)
}

func declare(o *output, locked bool) error {
	mu.Lock()
	defer mu.Unlock()
	if !o.pattern {
		if fi, err := os.Stat(o.path); err == nil {
			o.fis = []os.FileInfo{fi}
		}
	}
	if on {
		for _, in := range inputs {
			if o.names(in) && !(o.replaces && !in.own) {
				return o.clash(in)
			}
		}
		for _, p := range outputs {
			if p.pattern || o.pattern {
				continue
			}
			if p.abs == o.abs || sameAny(p.fis, o.fis) {
				return &Clash{Flag: o.flag, Path: o.path, Other: p.flag}
			}
		}
	}
	if locked {
		l, err := acquire(o.path)
		if err != nil {
			return fmt.Errorf("%s %s: %v", o.flag, o.path, err)
		}
		o.lock = l
	}
	if !on {
		// Unrecorded, the lock would never be released: there is nothing to hold.
		if o.lock != nil {
			o.lock.release()
		}
		return nil
	}
	outputs = append(outputs, o)
	return nil
}

func sameAny(a, b []os.FileInfo) bool {
	for _, x := range a {
		for _, y := range b {
			if os.SameFile(x, y) {
				return true
			}
		}
	}
	return false
}

// Writable is asked by the writer just before it replaces path: it fails when path is a
// file the command has read (a cache it maintains excepted) and no declared output says
// the command may replace it.
func Writable(path string) error {
	mu.Lock()
	defer mu.Unlock()
	if !on {
		return nil
	}
	w := input{abs: absPath(path)}
	if fi, err := os.Stat(path); err == nil {
		w.fi = fi
	}
	for _, o := range outputs {
		if o.replaces && !o.pattern && o.names(w) {
			return nil
		}
	}
	for _, in := range inputs {
		if in.own {
			continue
		}
		if in.abs == w.abs || (in.fi != nil && w.fi != nil && os.SameFile(in.fi, w.fi)) {
			return fmt.Errorf("%s is %s this command reads; refusing to overwrite it", path, in.what)
		}
	}
	return nil
}

// absPath is path made absolute and cleaned, or path itself cleaned when that fails.
func absPath(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return filepath.Clean(path)
}
