package data

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/dlc-lang/dlc/runtime/atomicfile"
	"github.com/dlc-lang/dlc/runtime/parallel"
)

// The MNIST cache holds a split exactly as MNIST returns it, so a run
// reads 188 MB of float32 instead of inflating and converting 10 MB of
// gzip. It lives in $DLC_CACHE_DIR, or else dlc/ under the user's cache
// directory (os.UserCacheDir: $XDG_CACHE_HOME or ~/.cache on Linux), as
// mnist/SPLIT-KEY.f32, where KEY starts the SHA-256 of the two source
// files. A cache file is trusted only if every check passes:
//
//	magic   8 bytes  "DLCMNST\x02"
//	key    32 bytes  SHA-256 of the images file then the labels file
//	n       4 bytes  samples (little-endian uint32)
//	row     4 bytes  values per sample
//	pixels  4·n·row  float32, little-endian
//	labels  n bytes  one digit per sample
//	crcs    4·(b+1)  CRC-32C of the pixels of each block of 4096 samples
//	                 (b = ⌈n/4096⌉ blocks, the last maybe shorter), then of
//	                 the labels
//
// and its size must be exactly what n and row say. Anything else (a
// truncated write, another version, a flipped bit) falls back to the
// source files, whose decoded copy then replaces the cache atomically.
//
// The checksum is per block so that both cores read and verify it: one
// CRC over the 188 MB training set took 105 ms of every run's start and
// two halves take 60. (Version 1 had one CRC.) The cache is read, never
// memory-mapped: readMNISTCache says why.

const mnistCacheMagic = "DLCMNST\x02"

// mnistCacheBlock is the samples per checksummed block.
const mnistCacheBlock = 4096

// cacheBlocks is the number of pixel blocks of n samples.
func cacheBlocks(n int) int { return (n + mnistCacheBlock - 1) / mnistCacheBlock }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// mnistCachePath returns where the split's cache lives, or "" when there
// is no cache directory (no home directory, say).
func mnistCachePath(split, key string) string {
	dir := os.Getenv("DLC_CACHE_DIR")
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(base, "dlc")
	}
	return filepath.Join(dir, "mnist", split+"-"+key[:16]+".f32")
}

// sourceKey hashes the source files, so a cache is used only with the
// very files it was made from.
func sourceKey(paths ...string) (string, error) {
	h := sha256.New()
	for _, p := range paths {
		f, _, err := openInput(p)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, &boundedReader{r: f, left: MaxFileBytes})
		f.Close()
		if err != nil {
			return "", errorf(p, "reading: %v", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

const mnistCacheHeader = len(mnistCacheMagic) + sha256.Size + 8

// readMNISTCache reads and verifies the cache at path. It is read into memory, never
// mapped: another process may rewrite the file in place (cp does), and a mapped page that
// is truncated away kills the reader with SIGBUS, while a read only comes up short or
// fails its checksum, and the set is then decoded from the source files. Anything but a
// regular file (a FIFO, a device) is no cache, and is opened without waiting for a writer.
func readMNISTCache(path, key string) (s *Set, err error) {
	f, err := openNoWait(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("cache is not a regular file")
	}
	var hdr [mnistCacheHeader]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return nil, err
	}
	wantKey, _ := hex.DecodeString(key)
	if string(hdr[:8]) != mnistCacheMagic || !bytes.Equal(hdr[8:40], wantKey) {
		return nil, errors.New("cache is of another format or other source files")
	}
	n := int(binary.LittleEndian.Uint32(hdr[40:]))
	row := int(binary.LittleEndian.Uint32(hdr[44:]))
	count, ok := checkedCount([]int{n, row}, MaxValues)
	blocks := cacheBlocks(n)
	size := mnistCacheHeader + 4*count + n + 4*(blocks+1)
	if !ok || n == 0 || row == 0 || fi.Size() != int64(size) {
		return nil, errors.New("cache has the wrong size")
	}
	pixels, free := residentBytes(4 * count)
	defer func() {
		if err != nil {
			free() // the set is decoded from the source files instead
		}
	}()
	tail := make([]byte, n+4*(blocks+1)+1) // the labels, the sums and one byte more
	m, err := f.ReadAt(tail, int64(mnistCacheHeader+4*count))
	if m != len(tail)-1 || (err != nil && err != io.EOF) {
		return nil, errors.New("cache changed while it was read")
	}
	lb, sums := tail[:n], tail[n:len(tail)-1]
	if !readBlocks(f, pixels, lb, sums, 4*row*mnistCacheBlock) {
		return nil, errors.New("cache checksum mismatch")
	}
	labels := make([]int, n)
	for i, b := range lb {
		labels[i] = int(b)
	}
	return mnistSet(float32s(pixels), []int{n, row}, labels, path)
}

// readBlocks reads the pixels from f, a block of step bytes at a time on both cores, and
// checks each block, and the labels, against their CRC-32C in sums; a short read is a
// mismatch. A block is checked just after it is read, while it is in the CPU's caches.
//
// The pixels go to anonymous memory (residentBytes) rather than staying in a mapping of
// the file because of what a training step does to memory: between two batches the
// model's weights and activations evict the caches, and then each of a batch's 128 rows,
// read from a file mapping, costs a walk of the page tables in memory. Measured on this
// project's virtual machine, a batch took 400–600 µs to gather from a mapping and 90 µs
// from anonymous memory (huge pages or not), about a fifth of an MNIST classifier's step.
func readBlocks(f *os.File, pixels, labels, sums []byte, step int) bool {
	blocks := (len(pixels) + step - 1) / step
	var bad atomic.Bool
	parallel.For(blocks+1, 1, func(lo, hi int) {
		for i := lo; i < hi && !bad.Load(); i++ {
			if i == blocks {
				if crc32.Checksum(labels, castagnoli) != binary.LittleEndian.Uint32(sums[4*i:]) {
					bad.Store(true)
				}
				continue
			}
			dst := pixels[i*step : min((i+1)*step, len(pixels))]
			crc := uint32(0)
			for off := 0; off < len(dst); off += 1 << 18 {
				piece := dst[off:min(off+1<<18, len(dst))]
				if n, _ := f.ReadAt(piece, int64(mnistCacheHeader+i*step+off)); n != len(piece) {
					bad.Store(true)
					return
				}
				crc = crc32.Update(crc, castagnoli, piece)
			}
			if crc != binary.LittleEndian.Uint32(sums[4*i:]) {
				bad.Store(true)
			}
		}
	})
	return !bad.Load()
}

// float32s views little-endian float32 bytes as floats: without a copy
// where the machine is little-endian (the bytes are then 4-byte aligned,
// at a multiple of 4 past a page boundary or in a fresh allocation).
func float32s(b []byte) []float32 {
	if nativeLittleEndian {
		return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
	}
	x := make([]float32, len(b)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x
}

var nativeLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// writeMNISTCache stores s at path, atomically, and removes the split's
// caches made from other source files. Errors are returned for tests;
// MNIST ignores them.
func writeMNISTCache(path, key string, s *Set) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	n, row := s.Len(), s.XRow()
	err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		var hdr [mnistCacheHeader]byte
		copy(hdr[:], mnistCacheMagic)
		raw, _ := hex.DecodeString(key)
		copy(hdr[8:40], raw)
		binary.LittleEndian.PutUint32(hdr[40:], uint32(n))
		binary.LittleEndian.PutUint32(hdr[44:], uint32(row))
		if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
		var sums []byte
		buf := make([]byte, 0, 256<<10)
		for b := range cacheBlocks(n) {
			crc := uint32(0)
			x := s.X[b*mnistCacheBlock*row : min((b+1)*mnistCacheBlock, n)*row]
			for len(x) > 0 {
				m := min(len(x), cap(buf)/4)
				buf = buf[:0]
				for _, v := range x[:m] {
					buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
				}
				crc = crc32.Update(crc, castagnoli, buf)
				if _, err := w.Write(buf); err != nil {
					return err
				}
				x = x[m:]
			}
			sums = binary.LittleEndian.AppendUint32(sums, crc)
		}
		lb := make([]byte, n)
		for i, l := range s.Labels {
			lb[i] = byte(l)
		}
		sums = binary.LittleEndian.AppendUint32(sums, crc32.Checksum(lb, castagnoli))
		if _, err := w.Write(lb); err != nil {
			return err
		}
		_, err := w.Write(sums)
		return err
	})
	if err != nil {
		return err
	}
	// Caches of this split made from other source files are dead weight.
	split, _, _ := strings.Cut(filepath.Base(path), "-")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, split+"-") && strings.HasSuffix(name, ".f32") && name != filepath.Base(path) && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, name))
		}
	}
	return nil
}
