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
	n := 1
	dims := make([]string, len(shape))
	for i, d := range shape {
		if d < 0 {
			return fmt.Errorf("npy: negative dimension in shape %v", shape)
		}
		n *= d
		dims[i] = fmt.Sprint(d)
	}
	if n != len(values) {
		return fmt.Errorf("npy: shape %v holds %d values, got %d", shape, n, len(values))
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", tuple)
	pad := 64 - (10+len(header)+1)%64
	if pad == 64 {
		pad = 0
	}
	header += strings.Repeat(" ", pad) + "\n"
	if len(header) > math.MaxUint16 {
		return fmt.Errorf("npy: header of %d bytes is too long for format 1.0", len(header))
	}
	buf := make([]byte, 10, 10+len(header)+4*len(values))
	copy(buf, "\x93NUMPY\x01\x00")
	binary.LittleEndian.PutUint16(buf[8:], uint16(len(header)))
	buf = append(buf, header...)
	for _, v := range values {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
	}
	_, err := w.Write(buf)
	return err
}
