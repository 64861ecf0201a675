package data

import (
	"syscall"
	"unsafe"
)

// madvPopulateRead is MADV_POPULATE_READ (Linux 5.14): fault the range in for reading, so a
// private writable mapping keeps sharing the page cache until a page is written.
const madvPopulateRead = 22

func populateRead(m []byte) {
	if len(m) == 0 {
		return
	}
	// An error (an older kernel) only means the pages fault in one by one as they are read.
	syscall.Syscall(syscall.SYS_MADVISE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), madvPopulateRead)
}
