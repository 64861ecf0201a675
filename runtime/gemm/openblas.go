//go:build openblas

package gemm

// With -tags openblas every product goes to OpenBLAS's cblas_sgemm through
// gonum.org/v1/netlib (cgo). It is an option for comparison and for machines without
// AVX2, never a requirement: the default build has no cgo. On Debian the library comes
// from libopenblas-dev (libopenblas.so; netlib ships its own cblas.h), with gcc for cgo.
// OpenBLAS picks its kernels from the CPU unless OPENBLAS_CORETYPE says otherwise, and
// its thread count from OPENBLAS_NUM_THREADS.

import (
	"gonum.org/v1/netlib/blas/netlib"

	_ "github.com/dlc-lang/dlc/runtime/gemm/openblaslink" // -lopenblas
)

func init() { external = netlib.Implementation{} }
