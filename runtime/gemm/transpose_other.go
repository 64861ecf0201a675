//go:build !amd64

package gemm

// transposeBlocks transposes n 8×8 blocks: dst[(8q+p)*ldd+j] = src[j*lds+8q+p] for j, p
// in 0…7 and q < n. Without assembly kernels nothing packs, but it stays correct.
func transposeBlocks(n int, src []float32, lds int, dst []float32, ldd int) {
	for j := 0; j < 8; j++ {
		for p := 0; p < 8*n; p++ {
			dst[p*ldd+j] = src[j*lds+p]
		}
	}
}
