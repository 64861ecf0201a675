package gemm

// transposeBlocks transposes n 8×8 blocks: dst[(8q+p)*ldd+j] = src[j*lds+8q+p] for j, p
// in 0…7 and q < n, with the AVX routine after checking the bounds it relies on.
func transposeBlocks(n int, src []float32, lds int, dst []float32, ldd int) {
	_ = src[7*lds+8*n-1]
	_ = dst[(8*n-1)*ldd+7]
	transpose8x8(n, &src[0], lds, &dst[0], ldd)
}
