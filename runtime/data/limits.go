package data

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/dlc-lang/dlc/runtime/guard"
)

// Limits on outside input. Every reader checks them before it allocates
// for what a file claims, so a wrong path (/dev/zero, a disk image) or a
// hostile header is an error naming the file, never an out-of-memory
// death. They are far above any data set this CPU runtime trains on:
// MNIST's training images are 47 MB as IDX and 188 MB as float32.
const (
	// MaxFileBytes bounds one data file, after gunzip for IDX.
	MaxFileBytes = 4 << 30
	// MaxValues bounds the values of one array (X, Y or a one-hot
	// table), 4 GiB as float32.
	MaxValues = 1 << 30
	// MaxClasses bounds class indices: a label must be below it, so one
	// stray huge label cannot build a giant one-hot table.
	MaxClasses = 1 << 16
	// MaxCSVLine bounds one CSV line, so a file with no newline (a binary
	// file given by mistake) is refused before it is buffered whole.
	MaxCSVLine = 16 << 20
)

// errTooLarge is what a bounded reader returns past its limit; callers
// wrap it with the file's name.
var errTooLarge = fmt.Errorf("larger than %d bytes (the limit for a data file)", MaxFileBytes)

// openInput opens a data file, refusing an empty name, a directory and a
// regular file over MaxFileBytes. size is the file's size, or -1 when it
// cannot be known in advance (a pipe, a device).
func openInput(path string) (f *os.File, size int64, err error) {
	if path == "" {
		return nil, 0, errors.New("data: no file name given")
	}
	if err := guard.Read(path, "a data file"); err != nil {
		return nil, 0, err
	}
	f, err = os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("data: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("data: %w", err)
	}
	switch {
	case fi.IsDir():
		f.Close()
		return nil, 0, errorf(path, "is a directory, want a file")
	case !fi.Mode().IsRegular():
		return f, -1, nil
	case fi.Size() > MaxFileBytes:
		f.Close()
		return nil, 0, errorf(path, "file is %d bytes, want at most %d", fi.Size(), MaxFileBytes)
	}
	return f, fi.Size(), nil
}

// boundedReader fails with errTooLarge, instead of ending quietly, once
// more than left bytes come from r, so a reader never takes a cut-off
// stream for a complete one.
type boundedReader struct {
	r    io.Reader
	left int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, errTooLarge
	}
	return n, err
}

// lineBoundedReader fails once a line runs past max bytes without a
// newline.
type lineBoundedReader struct {
	r    io.Reader
	max  int
	line int // bytes since the last newline
	num  int // 1-based number of the current line
}

func (l *lineBoundedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	chunk := p[:n]
	for {
		i := bytes.IndexByte(chunk, '\n')
		if i < 0 {
			break
		}
		if l.line+i > l.max {
			return 0, fmt.Errorf("line %d is longer than %d bytes", l.num, l.max)
		}
		l.line, l.num, chunk = 0, l.num+1, chunk[i+1:]
	}
	l.line += len(chunk)
	if l.line > l.max {
		return 0, fmt.Errorf("line %d is longer than %d bytes", l.num, l.max)
	}
	return n, err
}

// checkedCount returns the product of dims, or false if it exceeds limit
// (which it checks before each multiplication, so nothing overflows).
func checkedCount(dims []int, limit int) (int, bool) {
	n := 1
	for _, d := range dims {
		if d < 0 || d != 0 && n > limit/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// firstNonFinite returns the index of the first NaN or infinity in v, or -1.
func firstNonFinite(v []float32) int {
	for i, x := range v {
		// x-x is 0 for finite x and NaN for NaN and ±Inf.
		if x-x != 0 {
			return i
		}
	}
	return -1
}

// checkFinite reports the first non-finite value of an array of the given
// shape, by sample and position, so the user can find it in the file.
func checkFinite(name string, v []float32, shape []int) error {
	i := firstNonFinite(v)
	if i < 0 {
		return nil
	}
	where := fmt.Sprintf("value %d", i)
	if row := rowSize(shape); len(shape) > 1 && row > 0 {
		where = fmt.Sprintf("sample %d, value %d", i/row, i%row)
	}
	return errorf(name, "%s is %v, want finite numbers", where, v[i])
}

// oneHot checks labels against k classes and encodes them as rows of k
// values, 1 at the label and 0 elsewhere. k = 0 infers the count as the
// largest label plus one. Labels must be below MaxClasses and the table
// within MaxValues; name is the file the labels came from.
func oneHot(name string, labels []int, k int) ([]float32, int, error) {
	if k < 0 || k > MaxClasses {
		return nil, 0, errorf(name, "%d classes, want 1 to %d", k, MaxClasses)
	}
	inferred := k == 0
	for i, l := range labels {
		switch {
		case l < 0 || l >= MaxClasses:
			return nil, 0, errorf(name, "sample %d has label %d, want a class index in [0, %d)", i, l, MaxClasses)
		case inferred:
			k = max(k, l+1)
		case l >= k:
			return nil, 0, errorf(name, "sample %d has label %d, want < %d classes", i, l, k)
		}
	}
	if len(labels) > 0 && k > MaxValues/len(labels) {
		return nil, 0, errorf(name, "one-hot targets for %d samples of %d classes exceed %d values", len(labels), k, MaxValues)
	}
	y := make([]float32, len(labels)*k)
	for i, l := range labels {
		y[i*k+l] = 1
	}
	return y, k, nil
}
