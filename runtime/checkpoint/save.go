package checkpoint

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/dlc-lang/dlc/runtime/atomicfile"
)

// testHookWrite, set by tests, wraps the writer Save writes through, to
// fail or slow down a save part-way.
var testHookWrite func(io.Writer) io.Writer

// Save writes tensors and meta to path as a safetensors file of F32
// tensors. meta may be nil. The file is replaced atomically
// (runtime/atomicfile): on any error, or if the process is killed
// mid-save, the old file at path is left as it was. A tensor holding NaN
// or an infinity is refused, so a run gone bad cannot overwrite a good
// checkpoint with a useless one.
func Save(path string, tensors map[string]Tensor, meta map[string]string) error {
	header, names, err := encodeHeader(path, tensors, meta)
	if err != nil {
		return err
	}
	err = atomicfile.Write(path, 0o644, func(w io.Writer) error {
		if testHookWrite != nil {
			w = testHookWrite(w)
		}
		return writeBody(w, header, names, tensors)
	})
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// encodeHeader checks the tensors and returns the padded JSON header and
// the tensor names in the order their data follows.
func encodeHeader(path string, tensors map[string]Tensor, meta map[string]string) ([]byte, []string, error) {
	names := make([]string, 0, len(tensors))
	for name := range tensors {
		names = append(names, name)
	}
	slices.Sort(names)
	hdr := make(map[string]any, len(tensors)+1)
	var offset int64
	for _, name := range names {
		t := tensors[name]
		if name == metadataKey {
			return nil, nil, errorf(path, "tensor name %q is reserved", name)
		}
		n, ok := numElements(t.Shape, math.MaxInt64/4)
		if !ok {
			return nil, nil, errorf(path, "tensor %q: invalid shape %s", name, shapeString(t.Shape))
		}
		if n != int64(len(t.Data)) {
			return nil, nil, errorf(path, "tensor %q: shape %s needs %d values, got %d", name, shapeString(t.Shape), n, len(t.Data))
		}
		if err := checkFinite(t.Data); err != nil {
			return nil, nil, errorf(path, "tensor %q: %v, refusing to save it", name, err)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{} // a scalar is "shape": [], never null
		}
		hdr[name] = entry{Dtype: "F32", Shape: shape, DataOffsets: []int64{offset, offset + 4*n}}
		offset += 4 * n
	}
	if len(meta) > 0 {
		hdr[metadataKey] = meta
	}
	// encoding/json sorts map keys, so the header is deterministic too.
	b, err := json.Marshal(hdr)
	if err != nil {
		return nil, nil, errorf(path, "encoding header: %v", err)
	}
	// The spec pads with spaces so the data section is 8-byte aligned.
	for len(b)%8 != 0 {
		b = append(b, ' ')
	}
	return b, names, nil
}

// writeBody writes the header length, the header and the tensors' values
// through a small reused buffer, one chunk of values per Write.
func writeBody(w io.Writer, header []byte, names []string, tensors map[string]Tensor) error {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(header); err != nil {
		return err
	}
	const chunk = 16 << 10 // values per Write
	buf := make([]byte, 0, 4*chunk)
	for _, name := range names {
		data := tensors[name].Data
		for len(data) > 0 {
			m := min(len(data), chunk)
			buf = buf[:0]
			for _, v := range data[:m] {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
			data = data[m:]
		}
	}
	return nil
}
