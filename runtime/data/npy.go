package data

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The .npy format (numpy/lib/format.py): the magic "\x93NUMPY", a major
// and minor version byte, a little-endian header length (uint16 in v1,
// uint32 in v2 and v3), then a Python dict literal such as
//
//	{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
//
// padded with spaces and ended by '\n', then the raw array.
//
// The reader is our own rather than github.com/sbinet/npyio (v0.6.0),
// measured against it: npyio takes 1.3–1.7× our time to read a 60000×784
// float32 file (buffered; unbuffered it makes a read call per value and
// takes minutes), returns no error for a truncated body (the missing values
// are left zero), panics on a header without a newline, reads no
// version 3 files, converts no <f8 to float32, and allocates whatever
// shape a header claims before reading a byte of it.

const npyMagic = "\x93NUMPY"

// maxNPYHeader bounds the header length so a corrupt file cannot make us
// allocate gigabytes for it; real headers are well under 1 KB.
const maxNPYHeader = 1 << 20

// npyDtype is a descriptor NPY accepts: its item size and how to convert
// a run of items to float32.
type npyDtype struct {
	size    int
	convert func(dst []float32, src []byte)
}

var npyDtypes = map[string]npyDtype{
	"<f4": {4, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	}},
	"<f8": {8, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
		}
	}},
	"<i4": {4, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float32(int32(binary.LittleEndian.Uint32(src[4*i:])))
		}
	}},
	"<i8": {8, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float32(int64(binary.LittleEndian.Uint64(src[8*i:])))
		}
	}},
	"|u1": {1, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float32(src[i])
		}
	}},
}

// NPY reads a .npy file (format version 1, 2 or 3) of dtype <f4, <f8, <i4,
// <i8 or |u1 in C order, converting its values to float32. A 0-d array
// has shape [] and one value. The array may hold at most MaxValues values
// and MaxFileBytes bytes; NaN and infinities (also from a float64 too big
// for float32) are refused.
func NPY(path string) (data []float32, shape []int, err error) {
	data, shape, _, err = readNPYFile(path)
	return data, shape, err
}

func readNPYFile(path string) (data []float32, shape []int, descr string, err error) {
	f, size, err := openInput(path)
	if err != nil {
		return nil, nil, "", err
	}
	defer f.Close()
	return readNPY(f, path, size)
}

// ReadNPY is NPY on a stream; name is used only in error messages. It also
// returns the dtype descriptor, such as "<i8", since the float32 values
// alone do not say whether the array held integers.
func ReadNPY(r io.Reader, name string) (data []float32, shape []int, descr string, err error) {
	return readNPY(r, name, -1)
}

// readNPY reads from r, whose size in bytes is size, or -1 if unknown.
// Knowing it lets the body be checked against the header before anything
// is allocated for it, and then read straight into its final array.
func readNPY(r io.Reader, name string, size int64) (data []float32, shape []int, descr string, err error) {
	h, err := readNPYHeader(r, name)
	if err != nil {
		return nil, nil, "", err
	}
	shape, descr, dt := h.shape, h.descr, h.dt
	count, ok := checkedCount(shape, MaxValues)
	if !ok || count*dt.size > MaxFileBytes {
		return nil, nil, "", errorf(name, "shape %v holds more than %d values or %d bytes", shape, MaxValues, MaxFileBytes)
	}
	want := int64(count * dt.size)
	if size >= 0 {
		switch got := size - h.size; {
		case got < want:
			return nil, nil, "", errorf(name, "truncated data: got %d bytes, want the %d that shape %v of %s describes", got, want, shape, descr)
		case got > want:
			return nil, nil, "", errorf(name, "trailing bytes after the %d that shape %v of %s describes", want, shape, descr)
		}
	}
	data, err = readNPYBody(r, dt, count, size >= 0)
	if err != nil {
		return nil, nil, "", errorf(name, "%v that shape %v of %s describes", err, shape, descr)
	}
	if err := checkFinite(name, data, shape); err != nil {
		return nil, nil, "", err
	}
	return data, shape, descr, nil
}

// npyMeta is what a .npy file's header says: the array's shape and dtype, and the
// header's size in bytes (where the data starts).
type npyMeta struct {
	shape []int
	descr string
	dt    npyDtype
	size  int64
}

// readNPYHeader reads the header of a .npy file from r, leaving r at the data.
func readNPYHeader(r io.Reader, name string) (npyMeta, error) {
	fail := func(err error) (npyMeta, error) { return npyMeta{}, err }
	var pre [10]byte
	if n, err := io.ReadFull(r, pre[:8]); err != nil {
		return fail(readErr(name, "npy preamble", err, n, 8))
	}
	if string(pre[:6]) != npyMagic {
		return fail(errorf(name, "bad magic %q, want %q: not a .npy file", pre[:6], npyMagic))
	}
	major, minor := pre[6], pre[7]
	var hlen int
	switch major {
	case 1:
		if n, err := io.ReadFull(r, pre[8:10]); err != nil {
			return fail(readErr(name, "npy header length", err, n, 2))
		}
		hlen = int(binary.LittleEndian.Uint16(pre[8:10]))
	case 2, 3:
		var b [4]byte
		if n, err := io.ReadFull(r, b[:]); err != nil {
			return fail(readErr(name, "npy header length", err, n, 4))
		}
		v := binary.LittleEndian.Uint32(b[:])
		if v > maxNPYHeader {
			return fail(errorf(name, "npy header length %d, want at most %d", v, maxNPYHeader))
		}
		hlen = int(v)
	default:
		return fail(errorf(name, "npy format version %d.%d, want 1.0, 2.0 or 3.0", major, minor))
	}
	hdr := make([]byte, hlen)
	if n, err := io.ReadFull(r, hdr); err != nil {
		return fail(readErr(name, "npy header", err, n, hlen))
	}
	if major < 3 {
		for _, c := range hdr {
			if c >= 0x80 {
				return fail(errorf(name, "npy header is not ASCII (only version 3 allows UTF-8)"))
			}
		}
	} else if !utf8.Valid(hdr) {
		return fail(errorf(name, "npy header is not valid UTF-8"))
	}
	descr, fortran, shape, err := parseNPYHeader(string(hdr))
	if err != nil {
		return fail(errorf(name, "npy header %q: %v", strings.TrimSpace(string(hdr)), err))
	}
	dt, ok := npyDtypes[descr]
	if !ok {
		return fail(errorf(name, "dtype %q not supported, want one of <f4, <f8, <i4, <i8, |u1", descr))
	}
	if fortran {
		return fail(errorf(name, "fortran_order is True, want C order (save with np.ascontiguousarray)"))
	}
	size := int64(len(npyMagic)+2) + int64(hlen)
	if major == 1 {
		size += 2
	} else {
		size += 4
	}
	return npyMeta{shape: shape, descr: descr, dt: dt, size: size}, nil
}

// readNPYBody reads count items of dt, converting a chunk at a time. When
// the size was checked beforehand (known), the result is allocated once;
// otherwise it grows with the data actually present, so a header that
// lies about its shape cannot force a large allocation.
func readNPYBody(r io.Reader, dt npyDtype, count int, known bool) ([]float32, error) {
	const chunk = 64 << 10 // bytes per read, a multiple of every item size
	buf := make([]byte, chunk)
	var out []float32
	if known {
		out = make([]float32, count)
	}
	for done := 0; done < count; {
		n := min(count-done, chunk/dt.size)
		got, err := io.ReadFull(r, buf[:n*dt.size])
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, fmt.Errorf("truncated data: got %d bytes, want the %d", done*dt.size+got, count*dt.size)
			}
			return nil, fmt.Errorf("reading data: %v; want the %d bytes", err, count*dt.size)
		}
		if !known {
			out = append(out, make([]float32, n)...)
		}
		dt.convert(out[done:done+n], buf[:n*dt.size])
		done += n
	}
	if n, _ := io.ReadFull(r, buf[:1]); n > 0 {
		return nil, fmt.Errorf("trailing bytes after the %d", count*dt.size)
	}
	return out, nil
}

// parseNPYHeader parses the dict literal numpy writes. It accepts exactly
// the keys descr, fortran_order and shape, as numpy's own reader does.
//
//	header = '{' { key ':' value ',' } [ key ':' value ] '}'
//	value  = string | 'True' | 'False' | '(' [ int { ',' int } [ ',' ] ] ')'
func parseNPYHeader(h string) (descr string, fortran bool, shape []int, err error) {
	p := &dictParser{s: h}
	if !p.eat('{') {
		return "", false, nil, fmt.Errorf("want '{' at offset %d", p.i)
	}
	seen := map[string]bool{}
	for !p.eat('}') {
		key, err := p.str()
		if err != nil {
			return "", false, nil, err
		}
		if seen[key] {
			return "", false, nil, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		if !p.eat(':') {
			return "", false, nil, fmt.Errorf("want ':' after key %q", key)
		}
		switch key {
		case "descr":
			descr, err = p.str()
		case "fortran_order":
			fortran, err = p.boolean()
		case "shape":
			shape, err = p.tuple()
		default:
			return "", false, nil, fmt.Errorf("unknown key %q, want descr, fortran_order and shape", key)
		}
		if err != nil {
			return "", false, nil, fmt.Errorf("%s: %v", key, err)
		}
		if !p.eat(',') {
			if !p.eat('}') {
				return "", false, nil, fmt.Errorf("want ',' or '}' at offset %d", p.i)
			}
			break
		}
	}
	if rest := strings.TrimSpace(p.s[p.i:]); rest != "" {
		return "", false, nil, fmt.Errorf("unexpected %q after the dict", rest)
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return "", false, nil, fmt.Errorf("missing key %q", k)
		}
	}
	return descr, fortran, shape, nil
}

type dictParser struct {
	s string
	i int
}

func (p *dictParser) skipSpace() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *dictParser) eat(c byte) bool {
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a quoted string; numpy never writes escapes in these headers.
func (p *dictParser) str() (string, error) {
	p.skipSpace()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", fmt.Errorf("want a quoted string at offset %d", p.i)
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string at offset %d", p.i)
	}
	v := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return v, nil
}

func (p *dictParser) boolean() (bool, error) {
	p.skipSpace()
	for _, w := range []string{"True", "False"} {
		if strings.HasPrefix(p.s[p.i:], w) {
			p.i += len(w)
			return w == "True", nil
		}
	}
	return false, fmt.Errorf("want True or False at offset %d", p.i)
}

func (p *dictParser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, fmt.Errorf("want '(' at offset %d", p.i)
	}
	shape := []int{}
	for !p.eat(')') {
		p.skipSpace()
		start := p.i
		for p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
			p.i++
		}
		digits := p.s[start:p.i]
		d, err := strconv.Atoi(digits)
		switch {
		case digits == "":
			return nil, fmt.Errorf("want a dimension (a non-negative integer) at offset %d", start)
		case err != nil || d > MaxValues:
			return nil, fmt.Errorf("dimension %s at offset %d is more than the limit of %d values an array", digits, start, MaxValues)
		}
		p.eat('L') // Python 2 numpy wrote longs as 3L.
		shape = append(shape, d)
		if !p.eat(',') {
			if !p.eat(')') {
				return nil, fmt.Errorf("want ',' or ')' at offset %d", p.i)
			}
			break
		}
	}
	return shape, nil
}

// NPYSet builds a Set from an .npy array of samples, [N, ...], and an
// optional .npy array of targets (yPath may be ""). A 1-d X is read as
// [N, 1]. A 1-d integer Y holds class indices and becomes Labels and a
// one-hot Y [N, max+1]; a 1-d float Y becomes [N, 1]; other Y keep their
// shape. Both arrays must have the same N.
func NPYSet(xPath, yPath string) (*Set, error) { return NPYSetClasses(xPath, yPath, 0) }

// NPYSetClasses is NPYSet with a declared class count k for integer
// targets: every label must be below it. k = 0 infers the count as the
// largest label plus one (at most MaxClasses).
func NPYSetClasses(xPath, yPath string, k int) (*Set, error) {
	x, xs, _, err := readNPYFile(xPath)
	if err != nil {
		return nil, err
	}
	if len(xs) == 0 {
		return nil, errorf(xPath, "0-d array, want samples [N, ...]")
	}
	if len(xs) == 1 {
		xs = []int{xs[0], 1}
	}
	s := &Set{X: x, XShape: xs}
	if yPath == "" {
		return s, nil
	}
	y, ys, descr, err := readNPYFile(yPath)
	if err != nil {
		return nil, err
	}
	if len(ys) == 0 {
		return nil, errorf(yPath, "0-d array, want targets [N, ...]")
	}
	if ys[0] != xs[0] {
		return nil, fmt.Errorf("data: %s has %d samples, %s has %d targets, want equal", xPath, xs[0], yPath, ys[0])
	}
	switch {
	case len(ys) > 1:
		s.Y, s.YShape = y, ys
	case descr[1] == 'f':
		s.Y, s.YShape = y, []int{ys[0], 1}
	default:
		labels := make([]int, len(y))
		for i, v := range y {
			// Labels are integers (the dtype says so), exact in float32
			// far beyond MaxClasses.
			if v < 0 || v >= MaxClasses {
				return nil, errorf(yPath, "label %v of sample %d, want a class index in [0, %d)", v, i, MaxClasses)
			}
			labels[i] = int(v)
		}
		oh, k, err := oneHot(yPath, labels, k)
		if err != nil {
			return nil, err
		}
		s.Labels, s.Y, s.YShape = labels, oh, []int{ys[0], k}
	}
	return s, nil
}
