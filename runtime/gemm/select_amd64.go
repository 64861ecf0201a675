package gemm

import "golang.org/x/sys/cpu"

//go:generate sh -c "cd asm && go run . -out ../kernels_amd64.s -stubs ../kernels_amd64.go -pkg gemm"

// The kernels in use, one per ISA; the other generated tiles are measured by
// BenchmarkKernels.
var (
	avx512Kernel = &kernel{name: "avx512 8x32", mr: 8, nr: 32, rows: kernAVX512_8x32Rows, cols: kernAVX512_8x32Cols, copyPanel: copyPanel32,
		narrow: &kernel{name: "avx512 8x16", mr: 8, nr: 16, rows: kernAVX512_8x16Rows, cols: kernAVX512_8x16Cols, copyPanel: copyPanel16}}
	avx2Kernel = &kernel{name: "avx2 6x16", mr: 6, nr: 16, rows: kernAVX2_6x16Rows, cols: kernAVX2_6x16Cols, copyPanel: copyPanel16}
)

// pickKernel chooses the widest kernel the CPU (and the OS, which must save the wider
// registers: x/sys/cpu checks that) supports.
func pickKernel() *kernel {
	switch {
	case cpu.X86.HasAVX512F:
		return avx512Kernel
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return avx2Kernel
	}
	return nil
}
