package gemm

import "golang.org/x/sys/cpu"

// allKernels lists every generated tile this CPU can run, the ones in use first.
func allKernels() []*kernel {
	var ks []*kernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, avx512Kernel, avx512Kernel.narrow,
			&kernel{name: "avx512 14x32", mr: 14, nr: 32, rows: kernAVX512_14x32Rows, cols: kernAVX512_14x32Cols, copyPanel: copyPanel32},
			&kernel{name: "avx512 8x48", mr: 8, nr: 48, rows: kernAVX512_8x48Rows, cols: kernAVX512_8x48Cols, copyPanel: copyPanel48},
			&kernel{name: "avx512 12x32", mr: 12, nr: 32, rows: kernAVX512_12x32Rows, cols: kernAVX512_12x32Cols, copyPanel: copyPanel32},
			&kernel{name: "avx512 10x32", mr: 10, nr: 32, rows: kernAVX512_10x32Rows, cols: kernAVX512_10x32Cols, copyPanel: copyPanel32},
			&kernel{name: "avx512 6x64", mr: 6, nr: 64, rows: kernAVX512_6x64Rows, cols: kernAVX512_6x64Cols, copyPanel: copyPanel64})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx2Kernel,
			&kernel{name: "avx2 4x24", mr: 4, nr: 24, rows: kernAVX2_4x24Rows, cols: kernAVX2_4x24Cols, copyPanel: copyPanel24})
	}
	return ks
}
