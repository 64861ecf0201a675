package checkpoint

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
)

// testHookBeforeRename, when set by a test, runs after the temporary file
// is complete and before it replaces the target, to simulate a failure at
// the last moment.
var testHookBeforeRename func(tmp string) error

// Save writes tensors and meta to path as a safetensors file of F32
// tensors. meta may be nil. The file is first written beside path and then
// renamed over it, so on any error the old file at path is left as it was.
func Save(path string, tensors map[string]Tensor, meta map[string]string) error {
	header, names, err := encodeHeader(path, tensors, meta)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := writeBody(tmp, header, names, tensors); err != nil {
		return errorf(path, "writing %s: %v", tmp.Name(), err)
	}
	// Sync before rename: otherwise a crash can leave the new name
	// pointing at a file whose data never reached the disk.
	if err := tmp.Sync(); err != nil {
		return errorf(path, "syncing %s: %v", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return errorf(path, "closing %s: %v", tmp.Name(), err)
	}
	// CreateTemp makes the file private; a checkpoint is ordinary data.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if testHookBeforeRename != nil {
		if err := testHookBeforeRename(tmp.Name()); err != nil {
			return errorf(path, "%v", err)
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	ok = true
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes the rename itself durable. It is best effort: some
// systems cannot sync a directory, and the data is already safe.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
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

func writeBody(f io.Writer, header []byte, names []string, tensors map[string]Tensor) error {
	w := bufio.NewWriterSize(f, 1<<20)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	w.Write(n[:])
	w.Write(header)
	var buf [4]byte
	for _, name := range names {
		for _, v := range tensors[name].Data {
			binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
			w.Write(buf[:])
		}
	}
	return w.Flush()
}
