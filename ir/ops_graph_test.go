package ir

import (
	"strings"
	"testing"
)

func init() { goldenModules["graph"] = graphModule }

// graphModule is a two-layer message-passing network on a disjoint union of graphs with a
// max readout, and its training step: gather along the sources, mean and sum aggregation
// normalised by in-degree, max and min aggregation, a rank-1 gather and a rank-3 segment
// sum, so that the gradients emit every graph op, segment_argext_grad included.
func graphModule(t testing.TB) *Module {
	t.Helper()
	N, E, G, c := Sym("N"), Sym("E"), Sym("G"), Const
	f := NewFunc("GNN.step")
	b := NewBuilder(f)
	b.Pos = Pos{File: "gnn.dl", Line: 2, Col: 3}
	x := b.Input("x", F32(Shape{N, c(4)}))
	src := b.Input("src", I32(Shape{E}))
	dst := b.Input("dst", I32(Shape{E}))
	gid := b.Input("graph", I32(Shape{N}))
	score := b.Input("score", F32(Shape{N}))
	w := b.Param("L0.weight", F32(Shape{c(4), c(4)}), "glorot_uniform")
	nodes := Attrs{"n": Shape{N}}

	b.Pos.Line = 4
	m := b.Op("matmul", nil, b.Op("gather", nil, x, src), w) // [E, 4]
	deg := b.Op("reshape", Attrs{"shape": Shape{N, c(1)}}, b.Op("segment_count", nodes, dst))
	h := b.Op("add", nil, b.Op("segment_mean", nodes, m, dst),
		b.Op("div", nil, b.Op("segment_sum", nodes, m, dst), b.Op("maximum", nil, deg, b.Const(1))))
	b.Pos.Line = 5
	h = b.Op("sub", nil, b.Op("segment_max", nodes, b.Op("gather", nil, h, src), dst),
		b.Op("segment_min", nodes, b.Op("gather", nil, h, dst), src))
	b.Pos.Line = 6
	s := b.Op("mul", nil, h, b.Op("reshape", Attrs{"shape": Shape{N, c(1)}}, b.Op("segment_sum", nodes, b.Op("gather", nil, score, src), dst)))
	cube := b.Op("reshape", Attrs{"shape": Shape{N, c(2), c(2)}}, s)
	s = b.Op("reshape", Attrs{"shape": Shape{c(4).Mul(G)}}, b.Op("segment_sum", Attrs{"n": Shape{G}}, cube, gid))
	b.Pos.Line = 8
	r := b.Op("segment_max", Attrs{"n": Shape{G}}, h, gid) // readout [G, 4]
	loss := b.Op("add", nil, b.Op("mean", nil, r), b.Op("mean", nil, s))
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	b.Pos = Pos{File: "gnn.dl", Line: 10, Col: 1}
	grads, err := Grad(f, loss, []*Op{w, x, score})
	if err != nil {
		t.Fatal(err)
	}
	f.Outputs = append(f.Outputs, Output{Name: "loss", Value: loss}, Output{Name: "grad:L0.weight", Value: grads[0]},
		Output{Name: "grad_x", Value: grads[1]}, Output{Name: "grad_score", Value: grads[2]})
	mod := &Module{Funcs: []*Func{f}}
	if err := Verify(mod); err != nil {
		t.Fatal(err)
	}
	return mod
}

// TestGraphShapes checks the shape and dtype rules of the graph ops, and that each
// message names what is wrong.
func TestGraphShapes(t *testing.T) {
	N, E, c := Sym("N"), Sym("E"), Const
	f32 := func(ds ...Dim) Type { return F32(Shape(ds)) }
	i32 := func(ds ...Dim) Type { return I32(Shape(ds)) }
	nodes := Attrs{"n": Shape{N}}
	for _, tc := range []struct {
		kind  string
		attrs Attrs
		in    []Type
		want  string // the result type, or the error
	}{
		{"gather", nil, []Type{f32(N, c(8)), i32(E)}, "f32[E,8]"},
		{"gather", nil, []Type{f32(N), i32(E)}, "f32[E]"},
		{"gather", nil, []Type{f32(N, c(2), c(3)), i32(c(5))}, "f32[5,2,3]"},
		{"gather", nil, []Type{f32(), i32(E)}, "x is a scalar, want rank ≥ 1 [rows, ...]"},
		{"gather", nil, []Type{f32(N, c(8)), f32(E)}, "operand 1 is f32[E], want an index i32[E]"},
		{"gather", nil, []Type{f32(N, c(8)), i32(E, c(2))}, "operand 1 is i32[E,2], want an index i32[E]"},
		{"gather", nil, []Type{i32(N), i32(E)}, "operand 0 is i32[N], want f32"},
		{"segment_sum", nodes, []Type{f32(E, c(8)), i32(E)}, "f32[N,8]"},
		{"segment_mean", Attrs{"n": Shape{c(3)}}, []Type{f32(E), i32(E)}, "f32[3]"},
		{"segment_max", nodes, []Type{f32(E, c(2), c(3)), i32(E)}, "f32[N,2,3]"},
		{"segment_min", nodes, []Type{f32(N, c(8)), i32(E)}, "x [N, 8] has N rows, index [E] has E entries, want equal"},
		{"segment_sum", Attrs{"n": Shape{N, c(2)}}, []Type{f32(E), i32(E)}, "attribute n is [N, 2], want one positive dimension such as [N]"},
		{"segment_sum", Attrs{"n": Shape{}}, []Type{f32(E), i32(E)}, "attribute n is [], want one positive dimension such as [N]"},
		{"segment_sum", nil, []Type{f32(E), i32(E)}, "missing attribute n"},
		{"segment_sum", nodes, []Type{f32(), i32(E)}, "x is a scalar, want rank ≥ 1 [rows, ...]"},
		{"segment_count", nodes, []Type{i32(E)}, "f32[N]"},
		{"segment_count", nodes, []Type{f32(E)}, "operand 0 is f32[E], want an index i32[E]"},
		{"segment_argext_grad", nil, []Type{f32(N, c(4)), f32(E, c(4)), f32(N, c(4)), i32(E)}, "f32[E,4]"},
		{"segment_argext_grad", nil, []Type{f32(N, c(4)), f32(E, c(4)), f32(N, c(3)), i32(E)}, "gradient [N, 4] and result [N, 3] differ"},
		{"segment_argext_grad", nil, []Type{f32(N, c(3)), f32(E, c(4)), f32(N, c(3)), i32(E)}, "result [N, 3] does not reduce x [E, 4]"},
		{"segment_argext_grad", nil, []Type{f32(N), f32(E), f32(N), i32(c(2))}, "x [E] has E rows, index [2] has 2 entries, want equal"},
		{"add", nil, []Type{f32(E), i32(E)}, "operand 1 is i32[E], want f32"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			f := NewFunc("f")
			b := NewBuilder(f)
			var args []*Op
			for i, ty := range tc.in {
				args = append(args, b.Input(string(rune('a'+i)), ty))
			}
			o, err := b.Emit(tc.kind, tc.attrs, args...)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = formatType(o.Type)
			}
			if got != tc.want {
				t.Errorf("%s%v: got %s, want %s", tc.kind, tc.in, got, tc.want)
			}
		})
	}
}

// TestGradWrtIndex refuses to differentiate with respect to an i32 input.
func TestGradWrtIndex(t *testing.T) {
	f := NewFunc("f")
	b := NewBuilder(f)
	x := b.Input("x", F32(Shape{Sym("N"), Const(2)}))
	idx := b.Input("idx", I32(Shape{Sym("E")}))
	loss := b.Op("sum", nil, b.Op("gather", nil, x, idx))
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	_, err := Grad(f, loss, []*Op{idx})
	if err == nil || !strings.Contains(err.Error(), "only f32 values have gradients") {
		t.Errorf("got %v, want an error about i32", err)
	}
}

// TestFuseGatherSegment: the fusion pass folds a gather into the segment_sum that is its
// only user (here gather's own gradients, segment_sum of a gather along the other index)
// and leaves the gathers that segment_max's and segment_min's gradients read.
func TestFuseGatherSegment(t *testing.T) {
	m := graphModule(t)
	count := func() map[string]int {
		n := map[string]int{}
		for _, o := range m.Funcs[0].Ops {
			n[o.Kind]++
		}
		return n
	}
	before := count()
	if err := OptimizeVerified(m, nil, Verify); err != nil {
		t.Fatal(err)
	}
	after := count()
	if after["gather_segment_sum"] == 0 {
		t.Errorf("no fused op: %v", after)
	}
	// The max and min aggregations keep their gathers (their gradient reads them); every
	// other gather was folded into its reduction.
	if after["gather"] >= before["gather"] || after["segment_argext_grad"] != before["segment_argext_grad"] {
		t.Errorf("gathers %d → %d, argext %d → %d", before["gather"], after["gather"], before["segment_argext_grad"], after["segment_argext_grad"])
	}
	text := m.String()
	m2, err := Parse("fused.ir", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if m2.String() != text {
		t.Error("the fused module does not re-print to itself")
	}
}
