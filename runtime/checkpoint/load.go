package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	"github.com/dlc-lang/dlc/runtime/guard"
)

// dtypeSizes lists the dtypes Load converts to float32, by bytes per value.
var dtypeSizes = map[string]int64{"F32": 4, "F64": 8, "F16": 2, "BF16": 2}

// Load reads a safetensors file and returns its tensors, converted to
// float32 from F32, F64, F16 or BF16, and its metadata (nil if none).
//
// A file over MaxFileBytes is refused before anything is allocated for
// it. The length and JSON header are read first, and they say how large
// the data section must be, so a file whose size cannot be known in
// advance (a pipe, /dev/zero) is read no further than its header claims.
// A tensor holding NaN or an infinity (after conversion to float32) is
// refused with its name: training from it could only produce NaN.
func Load(path string) (map[string]Tensor, map[string]string, error) {
	if err := guard.Read(path, "a checkpoint"); err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	if fi.IsDir() {
		return nil, nil, errorf(path, "is a directory, want a safetensors file")
	}
	regular := fi.Mode().IsRegular()
	if regular && fi.Size() > MaxFileBytes {
		return nil, nil, errorf(path, "file is %d bytes, want at most %d", fi.Size(), int64(MaxFileBytes))
	}
	var buf bytes.Buffer
	if regular {
		buf.Grow(int(fi.Size()))
	}
	b, err := readPrefix(&buf, f, path, regular)
	if err != nil {
		return nil, nil, err
	}
	return decode(path, b)
}

// readPrefix reads the length, the header and as much data as the header
// claims (plus one byte, so trailing data is seen) into buf, and returns
// what it got; decode then checks it all and reports any inconsistency.
// A regular file, whose size is already known to be within bounds, is
// read whole.
func readPrefix(buf *bytes.Buffer, r io.Reader, path string, regular bool) ([]byte, error) {
	read := func(n int64) (bool, error) {
		got, err := io.CopyN(buf, r, n)
		if err != nil && err != io.EOF {
			return false, errorf(path, "reading: %v", err)
		}
		return got == n, nil
	}
	if regular {
		_, err := read(MaxFileBytes + 1)
		return buf.Bytes(), err
	}
	if ok, err := read(8); !ok || err != nil {
		return buf.Bytes(), err
	}
	n := binary.LittleEndian.Uint64(buf.Bytes())
	if n > maxHeader {
		return buf.Bytes(), nil
	}
	if ok, err := read(int64(n)); !ok || err != nil {
		return buf.Bytes(), err
	}
	entries, _, _, err := parseHeader(path, buf.Bytes()[8:])
	if err != nil {
		return buf.Bytes(), nil
	}
	var end int64
	for _, e := range entries {
		end = max(end, e.DataOffsets[1])
	}
	if end > MaxFileBytes-8-int64(n) {
		return nil, errorf(path, "header describes %d bytes of data, want at most %d in all", end, int64(MaxFileBytes))
	}
	_, err = read(end + 1)
	return buf.Bytes(), err
}

func decode(path string, b []byte) (map[string]Tensor, map[string]string, error) {
	if what := foreign(b); what != "" {
		return nil, nil, errorf(path, "%s, not a safetensors file; save its state_dict with safetensors.torch.save_file(model.state_dict(), \"T.safetensors\") (or the train.py of dlc export), then dlc import T.safetensors --like FILE -o W.safetensors", what)
	}
	if len(b) < 8 {
		return nil, nil, errorf(path, "file is %d bytes, want at least 8 for the header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeader {
		return nil, nil, errorf(path, "header length %d, want at most %d", n, maxHeader)
	}
	if n > uint64(len(b)-8) {
		return nil, nil, errorf(path, "header length %d, but only %d bytes follow", n, len(b)-8)
	}
	entries, names, meta, err := parseHeader(path, b[8:8+n])
	if err != nil {
		return nil, nil, err
	}
	data := b[8+n:]
	if err := checkLayout(path, entries, names, int64(len(data))); err != nil {
		return nil, nil, err
	}
	tensors := make(map[string]Tensor, len(entries))
	for _, name := range names {
		e := entries[name]
		t := Tensor{
			Shape: e.Shape,
			Data:  toFloat32(data[e.DataOffsets[0]:e.DataOffsets[1]], e.Dtype),
		}
		if err := checkFinite(t.Data); err != nil {
			return nil, nil, errorf(path, "tensor %q: %v, want finite values", name, err)
		}
		tensors[name] = t
	}
	return tensors, meta, nil
}

// foreign names the format of a file that is a PyTorch checkpoint rather than a
// safetensors one: torch.save writes a zip archive (since 1.6) or a bare pickle.
func foreign(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return "a zip archive (torch.save's format, a .pt or .pth file)"
	case len(b) >= 2 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5 && (len(b) < 9 || b[8] != '{'):
		// A header length can begin 80 02 too; a safetensors header then opens with {.
		return "a Python pickle (torch.save's legacy format)"
	}
	return ""
}

// parseHeader decodes the JSON header key by key, rather than into a map,
// so that a duplicated tensor name is reported instead of silently
// keeping the last. names is sorted, to make later errors deterministic.
func parseHeader(path string, hdr []byte) (entries map[string]entry, names []string, meta map[string]string, err error) {
	dec := json.NewDecoder(bytes.NewReader(hdr))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, nil, errorf(path, "header is not a JSON object")
	}
	entries = map[string]entry{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, nil, headerErr(path, err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, nil, nil, errorf(path, "header: got %v, want a tensor name", tok)
		}
		if seen[name] {
			return nil, nil, nil, errorf(path, "header names %q twice", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, nil, errorf(path, "header: %q: %v", name, unexpectedEOF(err))
		}
		if name == metadataKey {
			if err := json.Unmarshal(raw, &meta); err != nil {
				return nil, nil, nil, errorf(path, "%s: want an object of strings: %v", metadataKey, err)
			}
			continue
		}
		var e entry
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, nil, nil, errorf(path, "tensor %q: %v", name, err)
		}
		if err := e.check(); err != nil {
			return nil, nil, nil, errorf(path, "tensor %q: %v", name, err)
		}
		entries[name] = e
		names = append(names, name)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, nil, headerErr(path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, nil, errorf(path, "header has data after its JSON object")
	}
	slices.Sort(names)
	return entries, names, meta, nil
}

func headerErr(path string, err error) error {
	return errorf(path, "header: %v", unexpectedEOF(err))
}

// unexpectedEOF turns the decoder's io.EOF, which inside an unfinished
// object means the header was cut short, into a message saying so.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// check validates one entry on its own; checkLayout relates it to the rest.
func (e *entry) check() error {
	if _, ok := dtypeSizes[e.Dtype]; !ok {
		return fmt.Errorf("dtype %q not supported, want F32, F64, F16 or BF16", e.Dtype)
	}
	if e.Shape == nil {
		return errors.New("missing shape")
	}
	if len(e.DataOffsets) != 2 {
		return fmt.Errorf("data_offsets %v, want [begin, end]", e.DataOffsets)
	}
	return nil
}

// checkLayout checks that each tensor's byte range is inside the data
// section and fits its shape, and that the ranges tile the data section
// exactly, with no gap, overlap or trailing bytes, as the spec requires.
func checkLayout(path string, entries map[string]entry, names []string, size int64) error {
	for _, name := range names {
		e := entries[name]
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		if begin < 0 || end < begin {
			return errorf(path, "tensor %q: data_offsets [%d, %d], want 0 <= begin <= end", name, begin, end)
		}
		if end > size {
			return errorf(path, "tensor %q: data_offsets [%d, %d] run past the %d-byte data section", name, begin, end, size)
		}
		width := dtypeSizes[e.Dtype]
		// The bound only keeps count*width from overflowing; the size
		// check below is what ties the shape to the bytes.
		count, ok := numElements(e.Shape, math.MaxInt64/8)
		if !ok {
			return errorf(path, "tensor %q: shape %s has a negative dimension or too many values", name, shapeString(e.Shape))
		}
		if got := end - begin; got != count*width {
			held := fmt.Sprintf("%d values", got/width)
			if got%width != 0 {
				held = fmt.Sprintf("%d bytes, not a whole number of %s values", got, e.Dtype)
			}
			return errorf(path, "tensor %q: data_offsets [%d, %d] hold %s, shape %s needs %d",
				name, begin, end, held, shapeString(e.Shape), count)
		}
	}
	order := slices.Clone(names)
	slices.SortStableFunc(order, func(a, b string) int {
		return compareInt64(entries[a].DataOffsets[0], entries[b].DataOffsets[0])
	})
	var next int64
	prev := ""
	for _, name := range order {
		begin, end := entries[name].DataOffsets[0], entries[name].DataOffsets[1]
		switch {
		case begin < next:
			return errorf(path, "tensor %q: data_offsets [%d, %d] overlap tensor %q, which ends at %d", name, begin, end, prev, next)
		case begin > next:
			return errorf(path, "tensor %q: data_offsets [%d, %d] leave bytes [%d, %d) of the data section unused", name, begin, end, next, begin)
		}
		next, prev = end, name
	}
	if next != size {
		return errorf(path, "data section is %d bytes, tensors cover only %d", size, next)
	}
	return nil
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func toFloat32(b []byte, dtype string) []float32 {
	le := binary.LittleEndian
	out := make([]float32, int64(len(b))/dtypeSizes[dtype])
	for i := range out {
		switch dtype {
		case "F32":
			out[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		case "F64":
			out[i] = float32(math.Float64frombits(le.Uint64(b[8*i:])))
		case "F16":
			out[i] = halfToFloat32(le.Uint16(b[2*i:]))
		case "BF16":
			// bfloat16 is the top half of a float32.
			out[i] = math.Float32frombits(uint32(le.Uint16(b[2*i:])) << 16)
		}
	}
	return out
}

// halfToFloat32 widens an IEEE 754 binary16 value exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0x1f: // infinity or NaN, payload kept
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case 0: // zero or subnormal: mant × 2⁻²⁴
		f := float32(mant) / (1 << 24)
		if sign != 0 {
			f = -f
		}
		return f
	}
	// Rebias the exponent from 15 to 127.
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}
