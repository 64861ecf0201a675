package ir

import "fmt"

// Graph ops: message passing as gathers and segment reductions.
//
// A graph reaches the IR as index tensors, i32[E] each: the source and target node of every
// edge, or the graph of every node in a disjoint union. A message-passing layer is then two
// ops around ordinary dense maths: gather(x, src) picks the source node's row for every
// edge, [N, F] → [E, F], and segment_REDUCE(m, dst){n: [N]} folds the edge rows back onto
// their target nodes, [E, F] → [N, F]. Readout is a segment reduction of the node rows by
// graph id, {n: [G]}. The number of segments n is an attribute holding one dimension,
// symbolic (N, G) or constant, because it cannot be read off the index's shape.
//
// Every reduction gives 0 for an empty segment (a node without incoming edges), max and min
// included, so a layer never sees an infinity. The gradients are the same two ops the other
// way round: gather's is segment_sum onto the index, segment_sum's is gather, and
// segment_mean's is gather of dy over the segment's size (at least 1). segment_max and
// segment_min send each output element's whole gradient to the first edge, in edge order,
// whose value is the result: segment_argext_grad finds it from x and y, so the forward pass
// keeps no argmax.
//
// An index value outside [0, n) cannot be caught here; the runtime's kernels refuse it.

// segmentsAttr is the one attribute of the segment ops: how many segments there are.
var segmentsAttr = []AttrDef{{Name: "n", Type: AttrShape}}

// SegmentCount returns the number of segments of a segment op: its attribute n, which must
// hold exactly one positive dimension.
func SegmentCount(a Attrs) (Dim, error) {
	s, ok := a["n"].(Shape)
	if !ok {
		return Dim{}, fmt.Errorf("attribute n is %v, want one dimension such as [N]", formatAttr(a["n"]))
	}
	if len(s) != 1 || s[0].Coef <= 0 {
		return Dim{}, fmt.Errorf("attribute n is %v, want one positive dimension such as [N]", s)
	}
	return s[0], nil
}

// rowsOf checks that x has rank ≥ 1 and returns its first dimension and the rest.
func rowsOf(what string, x Shape) (Dim, Shape, error) {
	if len(x) == 0 {
		return Dim{}, nil, fmt.Errorf("%s is a scalar, want rank ≥ 1 [rows, ...]", what)
	}
	return x[0], x[1:], nil
}

// withRows returns [rows, rest...].
func withRows(rows Dim, rest Shape) Shape { return append(Shape{rows}, rest...) }

// gather(x [N, ...], idx i32[E]) → [E, ...].
func gatherShape(args []Type, _ Attrs) (Shape, error) {
	_, rest, err := rowsOf("x", args[0].Shape)
	if err != nil {
		return nil, err
	}
	return withRows(args[1].Shape[0], rest), nil
}

// segment_REDUCE(x [E, ...], idx i32[E]){n: [N]} → [N, ...].
func segmentShape(args []Type, a Attrs) (Shape, error) {
	e, rest, err := rowsOf("x", args[0].Shape)
	if err != nil {
		return nil, err
	}
	if !e.Equal(args[1].Shape[0]) {
		return nil, fmt.Errorf("x %v has %v rows, index %v has %v entries, want equal", args[0].Shape, e, args[1].Shape, args[1].Shape[0])
	}
	n, err := SegmentCount(a)
	if err != nil {
		return nil, err
	}
	return withRows(n, rest), nil
}

// segment_count(idx i32[E]){n: [N]} → [N].
func segmentCountShape(args []Type, a Attrs) (Shape, error) {
	n, err := SegmentCount(a)
	if err != nil {
		return nil, err
	}
	return Shape{n}, nil
}

// segment_argext_grad(dy [N, ...], x [E, ...], y [N, ...], idx i32[E]) → [E, ...].
func segmentArgextGradShape(args []Type, _ Attrs) (Shape, error) {
	dy, x, y, idx := args[0].Shape, args[1].Shape, args[2].Shape, args[3].Shape
	if !dy.Equal(y) {
		return nil, fmt.Errorf("gradient %v and result %v differ", dy, y)
	}
	e, rest, err := rowsOf("x", x)
	if err != nil {
		return nil, err
	}
	if len(y) == 0 || !y[1:].Equal(rest) {
		return nil, fmt.Errorf("result %v does not reduce x %v", y, x)
	}
	if !e.Equal(idx[0]) {
		return nil, fmt.Errorf("x %v has %v rows, index %v has %v entries, want equal", x, e, idx, idx[0])
	}
	return x, nil
}

// overCount returns dy / max(count, 1), the count of each segment of idx broadcast over
// the rows of op, a mean over segments whose gradient dy is.
func overCount(b *Builder, op, dy, idx *Op) *Op {
	c := b.Op("maximum", nil, b.Op("segment_count", segmentsOf(op), idx), b.Const(1))
	if rank := len(op.Type.Shape); rank > 1 {
		s := Shape{op.Type.Shape[0]}
		for range rank - 1 {
			s = append(s, Const(1))
		}
		c = b.Op("reshape", Attrs{"shape": s}, c)
	}
	return b.Op("div", nil, dy, c)
}

// segmentsOf returns the attribute n of the segment op whose gradient is taken.
func segmentsOf(op *Op) Attrs { return Attrs{"n": Shape{op.Type.Shape[0]}} }

func init() {
	const lowered = "lowered by the compiler from a layer block and from readout"
	def(&OpDef{Kind: "gather", Arity: 2, Class: Movement, IndexArgs: []int{1}, Shape: gatherShape, IROnly: lowered,
		Doc: "(x [N, …], idx i32[E]) → [E, …]: row idx[e] of x; an index outside [0, N) fails at run time",
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			x, idx := op.Args[0], op.Args[1]
			return []*Op{b.Op("segment_sum", Attrs{"n": Shape{x.Type.Shape[0]}}, dy, idx), nil}
		}})
	const segDoc = "(x [E, …], idx i32[E]) → [n, …]: the %s of the rows of x with idx = i, 0 for an empty segment"
	def(&OpDef{Kind: "segment_sum", Arity: 2, Class: Reduce, IndexArgs: []int{1}, Attrs: segmentsAttr, Shape: segmentShape,
		IROnly: lowered, Doc: fmt.Sprintf(segDoc, "sum"),
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			return []*Op{b.Op("gather", nil, dy, op.Args[1]), nil}
		}})
	def(&OpDef{Kind: "segment_mean", Arity: 2, Class: Reduce, IndexArgs: []int{1}, Attrs: segmentsAttr, Shape: segmentShape,
		IROnly: lowered, Doc: fmt.Sprintf(segDoc, "mean"),
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op { // gather(dy / max(count, 1), idx)
			idx := op.Args[1]
			return []*Op{b.Op("gather", nil, overCount(b, op, dy, idx), idx), nil}
		}})
	for _, k := range []string{"segment_max", "segment_min"} {
		what := map[string]string{"segment_max": "maximum", "segment_min": "minimum"}[k]
		def(&OpDef{Kind: k, Arity: 2, Class: Reduce, IndexArgs: []int{1}, Attrs: segmentsAttr, Shape: segmentShape,
			IROnly: lowered, Doc: fmt.Sprintf(segDoc, what) + "; the gradient goes to the first winning edge",
			Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
				x, idx := op.Args[0], op.Args[1]
				return []*Op{b.Op("segment_argext_grad", nil, dy, x, op, idx), nil}
			}})
	}
	def(&OpDef{Kind: "segment_count", Arity: 1, Class: Reduce, IndexArgs: []int{0}, Attrs: segmentsAttr, Shape: segmentCountShape,
		NoGrad: true, IROnly: lowered + " (degree normalisation)",
		Doc: "(idx i32[E]) → [n]: how many entries of idx equal i, as f32 (the in-degree when idx is the targets)"})
	def(&OpDef{Kind: "segment_argext_grad", Arity: 4, Class: Reduce, IndexArgs: []int{3}, Shape: segmentArgextGradShape,
		NoGrad: true, IROnly: "the gradient of segment_max and segment_min",
		Doc: "(dy [n, …], x [E, …], y [n, …], idx i32[E]) → [E, …]: dy at the first edge of each segment whose x equals y, else 0"})
}
