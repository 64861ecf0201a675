package data

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"
)

// WriteNPY writes values as a C-order little-endian float32 .npy array (format version
// 1.0) of the given shape. The header is padded so that the data starts at a multiple of
// 64 bytes, as NumPy writes it.
func WriteNPY(w io.Writer, shape []int, values []float32) error {
	buf, err := npyPreamble("<f4", shape, len(values))
	if err != nil {
		return err
	}
	for _, v := range values {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
	}
	_, err = w.Write(buf)
	return err
}

// WriteNPYInt32 is WriteNPY for an int32 array (dtype <i4), such as an edge list or a
// list of node ids.
func WriteNPYInt32(w io.Writer, shape []int, values []int32) error {
	buf, err := npyPreamble("<i4", shape, len(values))
	if err != nil {
		return err
	}
	for _, v := range values {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(v))
	}
	_, err = w.Write(buf)
	return err
}

// npyPreamble checks that shape holds n values and returns the magic, version and
// header of a 4-byte dtype, with room for the data after them.
func npyPreamble(descr string, shape []int, n int) ([]byte, error) {
	count := 1
	dims := make([]string, len(shape))
	for i, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("npy: negative dimension in shape %v", shape)
		}
		count *= d
		dims[i] = fmt.Sprint(d)
	}
	if count != n {
		return nil, fmt.Errorf("npy: shape %v holds %d values, got %d", shape, count, n)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tuple)
	pad := 64 - (10+len(header)+1)%64
	if pad == 64 {
		pad = 0
	}
	header += strings.Repeat(" ", pad) + "\n"
	if len(header) > math.MaxUint16 {
		return nil, fmt.Errorf("npy: header of %d bytes is too long for format 1.0", len(header))
	}
	buf := make([]byte, 10, 10+len(header)+4*n)
	copy(buf, "\x93NUMPY\x01\x00")
	binary.LittleEndian.PutUint16(buf[8:], uint16(len(header)))
	return append(buf, header...), nil
}
