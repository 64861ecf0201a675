//go:build openblas

// Package openblaslink links libopenblas into binaries built with -tags openblas.
//
// gonum.org/v1/netlib's cgo bindings declare the CBLAS functions but leave the library
// to the linker flags; this package supplies them, so `go build -tags openblas` needs no
// CGO_LDFLAGS. It is separate from package gemm because a package using cgo cannot also
// hold Go assembly.
package openblaslink

// #cgo LDFLAGS: -lopenblas
import "C"
