package runtime

import "golang.org/x/sys/cpu"

// graphAVX2 selects the assembly row loops of the graph kernels; tests turn it off to
// check the Go loops against them.
var graphAVX2 = cpu.X86.HasAVX2

// segmentsAVX2, gatherRowsAVX2 and argextRowsAVX2 are documented in kernels_graph_amd64.s. They take
// f8, a positive multiple of 8 no larger than f, and rows the caller has checked.

//go:noescape
func segmentsAVX2(op int, out, x *float32, perm, start *int32, s0, s1, entries, f8, f int)

//go:noescape
func gatherRowsAVX2(out, x *float32, idx *int32, n, avail, f8, f int)

//go:noescape
func argextRowsAVX2(out, x, y, dy *float32, pending *int32, perm *int32, n, avail, f8, f int)
