package ir

import "fmt"

// Fused message passing: a gather straight into a segment reduction.
//
// A mean-aggregation layer as lowered is m = gather(h, src), [E, F], then
// segment_mean(m, dst){n: [N]}. At a million edges m is 256 MB at 64 features: the gather
// writes it, the reduction reads it back in the order of the targets, that is at random,
// and the backward pass makes another one of the same size (gather of the gradient along
// the targets, then segment_sum onto the sources). Each pair is one sparse-dense product
// with the adjacency matrix, out[s] = Σ over entries e with sidx[e] = s of h[gidx[e]],
// which needs no [E, F] value at all: gather_segment_sum(h, gidx, sidx){n} reads the rows
// of h, an [N, F] array a tenth the size, and writes each output row once. The fusion rule
// makes it whenever the gathered value has no other user (max and min keep theirs: their
// gradient reads it).
//
// Its gradient is the same op with the two indices swapped, onto h's rows: the transposed
// adjacency. The mean divides each output row by its segment's size, as segment_mean does,
// and its gradient divides dy before the swapped product.

// gatherSegmentShape: (h [M, ...], gidx i32[E], sidx i32[E]){n: [N]} → [N, ...].
func gatherSegmentShape(args []Type, a Attrs) (Shape, error) {
	_, rest, err := rowsOf("h", args[0].Shape)
	if err != nil {
		return nil, err
	}
	if !args[1].Shape[0].Equal(args[2].Shape[0]) {
		return nil, fmt.Errorf("gather index %v and segment index %v differ in length", args[1].Shape, args[2].Shape)
	}
	n, err := SegmentCount(a)
	if err != nil {
		return nil, err
	}
	return withRows(n, rest), nil
}

// fuseGatherSegment: segment_sum|segment_mean(gather(h, g), s){n} →
// gather_segment_sum|gather_segment_mean(h, g, s){n}, when the gather has no other user.
func fuseGatherSegment(r *Rewriter, o *Op) *Op {
	g := o.Args[0]
	if g.Kind != "gather" || !r.Uses.Only(g, o) {
		return nil
	}
	return r.Op("gather_"+o.Kind, Attrs{"n": o.Attrs["n"]}, g.Args[0], g.Args[1], o.Args[1])
}

func init() {
	const made = "made by the fusion pass from segment_sum or segment_mean of a gather with no other user"
	def(&OpDef{Kind: "gather_segment_sum", Arity: 3, Class: Fused, IndexArgs: []int{1, 2}, Attrs: segmentsAttr,
		Shape: gatherSegmentShape, IROnly: made,
		Doc: "(h [M, …], gidx i32[E], sidx i32[E]) → [n, …]: segment_sum(gather(h, gidx), sidx) without the [E, …] value",
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			h, gidx, sidx := op.Args[0], op.Args[1], op.Args[2]
			return []*Op{b.Op("gather_segment_sum", Attrs{"n": Shape{h.Type.Shape[0]}}, dy, sidx, gidx), nil, nil}
		}})
	def(&OpDef{Kind: "gather_segment_mean", Arity: 3, Class: Fused, IndexArgs: []int{1, 2}, Attrs: segmentsAttr,
		Shape: gatherSegmentShape, IROnly: made,
		Doc: "(h [M, …], gidx i32[E], sidx i32[E]) → [n, …]: segment_mean(gather(h, gidx), sidx) without the [E, …] value",
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			h, gidx, sidx := op.Args[0], op.Args[1], op.Args[2]
			return []*Op{b.Op("gather_segment_sum", Attrs{"n": Shape{h.Type.Shape[0]}}, overCount(b, op, dy, sidx), sidx, gidx), nil, nil}
		}})
}
