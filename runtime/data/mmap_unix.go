//go:build unix

package data

import (
	"os"
	"syscall"
)

// mapFile maps size bytes of f read-only, for the MNIST cache: the kernel then hands over
// its page cache with no read copy. The mapping is a source to copy from, not where the
// data lives: verifyBlocks says why.
func mapFile(f *os.File, size int) ([]byte, error) {
	return syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_PRIVATE)
}

// unmapFile releases a mapping.
func unmapFile(b []byte) { syscall.Munmap(b) }
