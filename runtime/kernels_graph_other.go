//go:build !amd64

package runtime

// graphAVX2 is false off amd64: the graph kernels run their Go loops.
var graphAVX2 = false

func segmentsAVX2(op int, out, x *float32, perm, start *int32, s0, s1, entries, f8, f int) {
	panic("runtime: segmentsAVX2 without AVX2")
}

func gatherRowsAVX2(out, x *float32, idx *int32, n, avail, f8, f int) {
	panic("runtime: gatherRowsAVX2 without AVX2")
}

func argextRowsAVX2(out, x, y, dy *float32, pending *int32, perm *int32, n, avail, f8, f int) {
	panic("runtime: argextRowsAVX2 without AVX2")
}
