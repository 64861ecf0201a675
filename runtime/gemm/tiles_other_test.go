//go:build !amd64

package gemm

func allKernels() []*kernel { return nil }
