package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
)

// IDX magic numbers: two zero bytes, a type code (0x08 = unsigned byte)
// and the number of dimensions.
const (
	idxImagesMagic = 0x00000803
	idxLabelsMagic = 0x00000801
)

// maxIDXBytes bounds the body an IDX header may claim, so a corrupt header
// is reported instead of driving a huge read: every byte becomes a float32,
// so the bound is MaxValues. MNIST train is 47 MB.
const maxIDXBytes = MaxValues

// ReadIDXImages reads an IDX3 unsigned-byte image file (gzipped or not;
// gzip is detected by its magic bytes) and returns the pixels scaled to
// [0, 1] with shape [N, rows, cols]. name is used only in error messages.
func ReadIDXImages(r io.Reader, name string) (x []float32, shape []int, err error) {
	dims, body, err := readIDX(r, name, idxImagesMagic)
	if err != nil {
		return nil, nil, err
	}
	if dims[1] == 0 || dims[2] == 0 {
		return nil, nil, errorf(name, "image size %dx%d, want both dimensions > 0", dims[1], dims[2])
	}
	x = make([]float32, len(body))
	for i, b := range body {
		x[i] = float32(b) / 255
	}
	return x, dims, nil
}

// ReadIDXLabels reads an IDX1 unsigned-byte label file (gzipped or not)
// and returns one label per sample. name is used only in error messages.
func ReadIDXLabels(r io.Reader, name string) ([]int, error) {
	_, body, err := readIDX(r, name, idxLabelsMagic)
	if err != nil {
		return nil, err
	}
	labels := make([]int, len(body))
	for i, b := range body {
		labels[i] = int(b)
	}
	return labels, nil
}

// readIDX checks the header against want and returns the dimensions and
// exactly the body they describe; short or over-long bodies are errors
// because either means the file is not what its header says.
func readIDX(r io.Reader, name string, want uint32) (dims []int, body []byte, err error) {
	r, err = maybeGunzip(r, name)
	if err != nil {
		return nil, nil, err
	}
	if dims, err = readIDXDims(r, name, want); err != nil {
		return nil, nil, err
	}
	total, ok := checkedCount(dims, maxIDXBytes)
	if !ok {
		return nil, nil, errorf(name, "dimensions %v hold more than %d bytes", dims, maxIDXBytes)
	}
	body, err = readExactly(r, total)
	if err != nil {
		return nil, nil, errorf(name, "reading data: %v", err)
	}
	if len(body) < total {
		return nil, nil, errorf(name, "truncated data: got %d bytes, want %d for dimensions %v", len(body), total, dims)
	}
	if len(body) > total {
		return nil, nil, errorf(name, "trailing bytes after the %d that dimensions %v describe", total, dims)
	}
	return dims, body, nil
}

// readIDXDims reads an IDX header from r (gunzipped): its magic, checked against want, and
// its dimensions, leaving r at the data.
func readIDXDims(r io.Reader, name string, want uint32) ([]int, error) {
	var hdr [4]byte
	if n, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, readErr(name, "header", err, n, len(hdr))
	}
	magic := binary.BigEndian.Uint32(hdr[:])
	if magic != want {
		return nil, errorf(name, "bad magic 0x%08x, want 0x%08x", magic, want)
	}
	ndims := int(magic & 0xff)
	raw := make([]byte, 4*ndims)
	if n, err := io.ReadFull(r, raw); err != nil {
		return nil, readErr(name, "dimensions", err, n, len(raw))
	}
	dims := make([]int, ndims)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(raw[4*i:]))
	}
	return dims, nil
}

// readExactly reads up to n+1 bytes, so the caller can tell a short body
// from an over-long one. The buffer grows with the data actually present,
// so a lying header cannot force a large allocation.
func readExactly(r io.Reader, n int) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(io.LimitReader(r, int64(n)+1))
	return buf.Bytes(), err
}

func readErr(name, what string, err error, got, want int) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errorf(name, "truncated %s: got %d bytes, want %d", what, got, want)
	}
	return errorf(name, "reading %s: %v", what, err)
}

// maybeGunzip returns a reader of the decompressed stream when r starts
// with the gzip magic bytes 1f 8b, and r itself otherwise, so callers need
// not know whether the file on disk is compressed.
func maybeGunzip(r io.Reader, name string) (io.Reader, error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, errorf(name, "gzip: %v", err)
	}
	return zr, nil
}
