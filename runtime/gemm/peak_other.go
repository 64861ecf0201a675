//go:build !amd64

package gemm

var fmaLoop func(n int) (flops float64)
