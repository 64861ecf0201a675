package data

import (
	"syscall"
	"unsafe"
)

// The madvise advice values used here (Linux 5.14 for the populate ones).
const (
	madvDontNeed      = 4
	madvHugePage      = 14
	madvPopulateRead  = 22
	madvPopulateWrite = 23
	hugePage          = 2 << 20
)

// residentBytes returns n zeroed bytes of anonymous memory outside the Go heap, aligned to
// 2 MiB, backed by huge pages where the kernel has them, and faulted in by one call rather
// than page by page, and the function that gives them back. Kept, they hold a data set for
// the life of the process. Where anonymous mapping fails it falls back to the Go heap.
func residentBytes(n int) (b []byte, free func()) {
	if n == 0 {
		return nil, func() {}
	}
	raw, err := syscall.Mmap(-1, 0, n+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return make([]byte, n), func() {}
	}
	off := (hugePage - int(uintptr(unsafe.Pointer(&raw[0])))%hugePage) % hugePage
	b = raw[off : off+n : off+n]
	madvise(b, madvHugePage)
	madvise(b, madvPopulateWrite)
	return b, func() { syscall.Munmap(raw) }
}

// populate faults the pages of a read-only mapping that hold b in with one call. madvise
// wants a page-aligned start, so the range is widened to the page b starts in (the mapping
// begins on a page, so that page is mapped too).
func populate(b []byte) {
	if len(b) == 0 {
		return
	}
	lo := uintptr(unsafe.Pointer(&b[0]))
	back := lo % uintptr(syscall.Getpagesize())
	syscall.Syscall(syscall.SYS_MADVISE, lo-back, uintptr(len(b))+back, madvPopulateRead)
}

// dropPages gives back the whole pages inside b of a read-only file mapping: they leave the
// process's resident set (the page cache keeps them), so that copying a mapped file does
// not hold it twice at the peak.
func dropPages(b []byte) {
	if len(b) == 0 {
		return
	}
	page := syscall.Getpagesize()
	lo := int(uintptr(unsafe.Pointer(&b[0])))
	start := (page - lo%page) % page
	end := (lo + len(b)) / page * page
	if start >= end-lo {
		return
	}
	madvise(b[start:end-lo], madvDontNeed)
}

// madvise gives the kernel advice on b. Errors (an older kernel, no huge pages) only lose
// the speed-up: the memory works the same without the advice.
func madvise(b []byte, advice int) {
	syscall.Syscall(syscall.SYS_MADVISE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(advice))
}
