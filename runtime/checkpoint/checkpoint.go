// Package checkpoint saves and loads named float32 tensors as safetensors
// files (https://github.com/huggingface/safetensors), so a model trained
// by dlc can be read back by dlc or by PyTorch, JAX and friends.
//
// A safetensors file is an 8-byte little-endian header length N, N bytes
// of JSON mapping each tensor name to its dtype, shape and byte range in
// the data section, an optional "__metadata__" map of strings, and then
// the data section: raw little-endian values, tensors back to back.
//
// Save writes tensors in sorted name order so the same weights always give
// the same bytes, and replaces the target atomically so a crash mid-save
// never destroys the previous checkpoint. Load trusts nothing in the file:
// every length, offset and shape is checked against the bytes present
// before any value is read.
package checkpoint

import (
	"fmt"
	"math"
	"strings"
)

// Tensor is a dense float32 array in C order.
type Tensor struct {
	Shape []int
	Data  []float32
}

const metadataKey = "__metadata__"

// maxHeader is the largest JSON header Load accepts; the reference
// implementation uses the same bound to refuse hostile files.
const maxHeader = 100 << 20

// MaxFileBytes is the largest checkpoint Load reads, 4 GiB: a billion
// float32 parameters, far beyond what this CPU runtime trains, and small
// enough that a wrong path (a disk image, /dev/zero) is refused with a
// message instead of exhausting memory.
const MaxFileBytes = 4 << 30

// entry is one tensor's record in the JSON header.
type entry struct {
	Dtype       string  `json:"dtype"`
	Shape       []int   `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

func errorf(path, format string, args ...any) error {
	return fmt.Errorf("checkpoint: %s: "+format, append([]any{path}, args...)...)
}

// numElements returns the product of shape, or false if a dimension is
// negative or the product overflows limit.
func numElements(shape []int, limit int64) (int64, bool) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d != 0 && n > limit/int64(d) {
			return 0, false
		}
		n *= int64(d)
	}
	return n, true
}

func shapeString(shape []int) string {
	s := make([]string, len(shape))
	for i, d := range shape {
		s[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// checkFinite returns an error naming the first value that is NaN or an
// infinity, by its flat index.
func checkFinite(data []float32) error {
	for i, v := range data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("value %d is %v", i, v)
		}
	}
	return nil
}
