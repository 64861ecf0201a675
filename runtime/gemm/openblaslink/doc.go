//go:build !openblas

// Package openblaslink links libopenblas into binaries built with -tags openblas; in the
// default build it is empty.
package openblaslink
