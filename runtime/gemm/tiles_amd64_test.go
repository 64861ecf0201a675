package gemm

import "golang.org/x/sys/cpu"

// allKernels lists every generated tile this CPU can run, the ones in use first.
func allKernels() []*kernel {
	var ks []*kernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, avx512Kernel,
			&kernel{name: "avx512 14x32", mr: 14, nr: 32, rows: kernAVX512_14x32Rows, cols: kernAVX512_14x32Cols},
			&kernel{name: "avx512 8x48", mr: 8, nr: 48, rows: kernAVX512_8x48Rows, cols: kernAVX512_8x48Cols},
			&kernel{name: "avx512 8x32", mr: 8, nr: 32, rows: kernAVX512_8x32Rows, cols: kernAVX512_8x32Cols})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx2Kernel,
			&kernel{name: "avx2 4x24", mr: 4, nr: 24, rows: kernAVX2_4x24Rows, cols: kernAVX2_4x24Cols})
	}
	return ks
}
