package gemm

// gatherPanel32 copies k rows of 32 floats, row p from src[rows[p]:], to dst with row
// stride 32: the packing of an implicit B panel (SgemmImplicit) for the AVX-512 kernel.
//
//go:noescape
func gatherPanel32(k int, src *float32, rows *int, dst *float32)

func init() { avx512Kernel.gatherPanel = gatherPanel32 }
