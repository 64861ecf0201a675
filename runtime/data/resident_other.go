//go:build !linux

package data

// residentBytes returns n zeroed bytes from the Go heap; the huge-page and populate advice
// of the Linux version has no portable equivalent.
func residentBytes(n int) (b []byte, free func()) { return make([]byte, n), func() {} }

func populate([]byte) {}

func dropPages([]byte) {}
