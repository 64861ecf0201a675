//go:build unix && !linux

package data

// populateRead has no portable equivalent outside Linux; the pages fault in as read.
func populateRead([]byte) {}
