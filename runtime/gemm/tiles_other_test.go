//go:build !amd64

package gemm

// There are no assembly kernels here: the tests run gonum's fallback alone.
var avx512Kernel, avx2Kernel *kernel

func allKernels() []*kernel { return nil }
