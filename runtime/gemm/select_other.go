//go:build !amd64

package gemm

// pickKernel: there are no assembly kernels for this architecture, so gonum's blas32
// does the work.
func pickKernel() *kernel { return nil }
