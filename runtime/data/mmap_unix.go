//go:build unix

package data

import (
	"os"
	"syscall"
)

// mapFile maps size bytes of f into memory, for the MNIST cache: the
// kernel then pages the decoded images straight from its page cache, with
// no copy and no zero-filled pages of our own, which is most of the cost
// of reading 188 MB. The mapping is private and writable, so a caller
// that writes into the set gets its own copy of the page (copy on write)
// and the file never changes. It is never unmapped: the data set it holds
// lives as long as the process.
func mapFile(f *os.File, size int) ([]byte, error) {
	return syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
}

// unmapFile releases a mapping that turned out not to be usable.
func unmapFile(b []byte) { syscall.Munmap(b) }
