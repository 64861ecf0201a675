// Package atomicfile replaces a file all at once: a reader of the target
// sees either the old contents or the new, never a half-written file, and
// a failed or interrupted write leaves the old file as it was.
//
// The new contents go to a temporary file in the target's directory (the
// same file system, so the final rename is atomic), named
// ".NAME.tmpDIGITS" after the target NAME. The file is synced before the
// rename, so a crash cannot leave the target name pointing at data that
// never reached the disk, and the directory is synced after it. On any
// error the temporary file is removed.
//
// On Linux the temporary file has no name while it is written (O_TMPFILE):
// it is linked under the ".NAME.tmpDIGITS" name only for the instant of
// the rename, so a process killed mid-write (SIGKILL, a power cut) leaves
// nothing behind. Where that is not supported, a named temporary file is
// written instead; a killed write cannot remove it, so each write first
// removes the stale ones a killed earlier write of the same target left:
// files of exactly that pattern, for that target name only, that nobody
// has modified for staleAfter. A write still under way in another process
// keeps its file's modification time fresh and is left alone.
//
// Every write asks runtime/guard first, and refuses to replace a file the
// process has read. Abort, called on a signal, removes every named
// temporary file of the writes under way and stops new ones, so a process
// that exits on SIGINT or SIGTERM leaves no temporary file either.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dlc-lang/dlc/runtime/guard"
)

// staleAfter is how long a temporary file must sit unmodified before a
// later write of the same target takes it for a leftover of a killed one.
// Writers here write continuously, so a live one never goes this long
// without touching its file.
const staleAfter = 30 * time.Second

// Write replaces path with what write produces, with permissions perm.
// write gets a buffered writer; Write flushes it. Errors name path, the
// path the caller gave, never the temporary file.
func Write(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if base == "" {
		return fmt.Errorf("%s: want a file name, not a directory", path)
	}
	if err := guard.Writable(path); err != nil {
		return err
	}
	RemoveStale(path)
	tmp, err := create(dir, base)
	if err != nil {
		return fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	defer func() {
		if err != nil {
			tmp.discard()
		}
	}()
	w := bufio.NewWriterSize(tmp.f, 1<<20)
	if err := write(w); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("%s: writing: %w", path, unwrapPath(err))
	}
	// A temporary file is private (0600); the caller says what the finished
	// file should be.
	if err := tmp.f.Chmod(perm); err != nil {
		return fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	if err := tmp.f.Sync(); err != nil {
		return fmt.Errorf("%s: syncing: %w", path, unwrapPath(err))
	}
	if testHookBeforeRename != nil {
		if err := testHookBeforeRename(tmp.f.Name()); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := tmp.publish(path); err != nil {
		if fi, serr := os.Stat(path); serr == nil && fi.IsDir() {
			return fmt.Errorf("%s: is a directory", path)
		}
		return fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	syncDir(dir)
	return nil
}

// WriteFile replaces path with b, with permissions perm.
func WriteFile(path string, b []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// CheckWritable reports, before any work is done, whether Write(path)
// could succeed: path is not a directory and a temporary file can be
// created beside it (the directory exists and is writable). A command
// calls it on each output path before an hour of training, not after.
func CheckWritable(path string) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if base == "" {
		return fmt.Errorf("%s: want a file name, not a directory", path)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s: is a directory", path)
	}
	tmp, err := os.CreateTemp(dir, tempPrefix(base)+"*")
	if err != nil {
		return fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	tmp.Close()
	os.Remove(tmp.Name())
	return nil
}

// testHookBeforeRename, set by tests, runs once the temporary file is
// complete, to fail at the last moment.
var testHookBeforeRename func(tmp string) error

func tempPrefix(base string) string { return "." + base + ".tmp" }

// IsTemp reports whether name (a base name) is one of the temporary files
// Write makes for the target base name target: ".TARGET.tmp" followed by
// one or more digits, the random suffix os.CreateTemp puts for "*".
func IsTemp(name, target string) bool {
	digits, ok := strings.CutPrefix(name, tempPrefix(target))
	if !ok || digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// RemoveStale removes the temporary files of path left by writes that were
// killed: those IsTemp matches for path's base name, regular files not
// modified for staleAfter. It is best effort and reports nothing, since a
// leftover it cannot remove harms nobody but the disk.
func RemoveStale(path string) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	now := time.Now()
	for _, e := range entries {
		if !IsTemp(e.Name(), base) || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil || now.Sub(fi.ModTime()) < staleAfter {
			continue
		}
		os.Remove(filepath.Join(dir, e.Name()))
	}
}

// syncDir makes the rename itself durable. It is best effort: some
// systems cannot sync a directory, and the data is already safe.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// unwrapPath drops the *PathError wrapper, whose path is the temporary
// file's, keeping the cause ("permission denied", "no space left").
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	if le, ok := err.(*os.LinkError); ok {
		return le.Err
	}
	return err
}
