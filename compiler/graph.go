package compiler

import (
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// Graphs in the language.
//
// A block parameter of type `graph` stands for a graph's edges: two index tensors src and
// dst of shape i32[E], each entry a row of the node tensors (whose first dimension, N, the
// graph takes from the entry block's first tensor parameter), and, when declared as
// graph(edge: [E, Fe]), edge features f32[E, Fe]. A parameter of type `pairs` is a list of
// node pairs (src, dst of shape i32[P]) to score, without edges to aggregate over: link
// prediction's queries. At the entry block these become function inputs NAME_src,
// NAME_dst and NAME_edge; a readout adds NAME_graph (the graph of each node, i32[N]) and
// NAME_count (i32[G], the nodes of each graph), which binds the number of graphs G.
//
// In expressions, g.src and g.dst are index values, good only as subscripts: h[g.src] is
// the gather of h's rows at the edges' sources, [E, …]; g.edge is the edge features.
// A layer block's message, aggregate and update are lowered in layerBody.

// graphVal is a graph or a set of pairs inside one function.
type graphVal struct {
	kind       string // "graph" or "pairs"
	name       string // the entry parameter's name, prefixing its inputs
	src, dst   *ir.Op // i32[E]
	edge       *ir.Op // f32[E, Fe], or nil
	nodes      ir.Dim // N: the rows src and dst index
	edges      ir.Dim // E (P for pairs)
	undirected bool
	pos        lang.Pos // the parameter's declaration
	// Graph-level inputs, made at the first readout.
	ids, count *ir.Op
	graphs     ir.Dim
	b          *ir.Builder
}

// isGraphType reports whether a parameter is a graph or a set of pairs.
func isGraphType(t *lang.TypeExpr) bool {
	return t != nil && t.Shape == nil && (t.Named == "graph" || t.Named == "pairs")
}

// graphArgs are the refinements a graph type may carry.
type graphArgs struct {
	edge       *lang.Expr // the edge-feature shape, [E, Fe]
	undirected bool
}

func (l *lowerer) graphTypeArgs(sc *scope, t *lang.TypeExpr) (graphArgs, error) {
	var ga graphArgs
	seen := map[string]bool{}
	for _, a := range t.Args {
		if a.Name == "" {
			return ga, lang.Errorf(a.Pos, "%s: type arguments are named (edge: [E, Fe], undirected: true)", t.Named)
		}
		if seen[a.Name] {
			return ga, lang.Errorf(a.Pos, "%s: %s given twice", t.Named, a.Name)
		}
		seen[a.Name] = true
		switch {
		case a.Name == "edge" && t.Named == "graph":
			ga.edge = a.Value
		case a.Name == "undirected" && t.Named == "graph":
			v, err := l.eval(sc, a.Value)
			if err != nil {
				return ga, err
			}
			if v.kind != kBool {
				return ga, lang.Errorf(a.Value.Pos, "graph: undirected is %s, want true or false", describe(v))
			}
			ga.undirected = v.num != 0
		case t.Named == "graph":
			return ga, lang.Errorf(a.Pos, "graph: unknown argument %s (want edge, undirected)", a.Name)
		default:
			return ga, lang.Errorf(a.Pos, "pairs: unknown argument %s (pairs take none)", a.Name)
		}
	}
	return ga, nil
}

// graphInputs makes the inputs of graph parameter prm of an entry block, whose node tensors
// have nodes rows.
func (l *lowerer) graphInputs(sc *scope, blk *lang.Block, prm *lang.Param, nodes ir.Dim) (*graphVal, error) {
	ga, err := l.graphTypeArgs(sc, prm.Type)
	if err != nil {
		return nil, err
	}
	g := &graphVal{kind: prm.Type.Named, name: prm.Name, nodes: nodes, undirected: ga.undirected, pos: prm.Pos, b: l.b}
	esym := "E"
	if g.kind == "pairs" {
		esym = "P"
	}
	var edgeShape ir.Shape
	if ga.edge != nil {
		lst := ga.edge.Left.Left.Postfix.Primary.List
		if bareIdent(ga.edge) != "" || lst == nil || len(lst.Elems) != 2 {
			return nil, lang.Errorf(ga.edge.Pos, "graph: edge = %s, want the edge features' shape [E, Fe]", exprString(ga.edge))
		}
		if id := bareIdent(lst.Elems[0]); id != "" {
			esym = id
		}
		if _, ok := sc.names[esym]; !ok {
			sc.names[esym] = dimVal(ir.Sym(esym))
		}
		v, err := l.eval(sc, ga.edge)
		if err != nil {
			return nil, err
		}
		s, ok := v.asShape()
		if !ok || !s[1].IsConst() {
			return nil, lang.Errorf(ga.edge.Pos, "graph: edge = %s, want [E, Fe] with a constant width Fe", v)
		}
		edgeShape = s
	}
	if v, ok := sc.names[esym]; ok && v.kind == kDim {
		g.edges = v.dim
	} else if ok {
		return nil, lang.Errorf(prm.Pos, "%s: %s names the edge count of %s, but is %s", blk.Name, esym, prm.Name, v)
	} else {
		g.edges = ir.Sym(esym)
		sc.names[esym] = dimVal(g.edges)
	}
	if edgeShape != nil && !edgeShape[0].Equal(g.edges) {
		return nil, lang.Errorf(ga.edge.Pos, "graph: edge features %v, want one row per edge [%v, Fe]", edgeShape, g.edges)
	}
	l.setPos(prm.Pos)
	g.src = l.b.Input(prm.Name+"_src", ir.Type{DType: "i32", Shape: ir.Shape{g.edges}})
	g.dst = l.b.Input(prm.Name+"_dst", ir.Type{DType: "i32", Shape: ir.Shape{g.edges}})
	if edgeShape != nil {
		g.edge = l.b.Input(prm.Name+"_edge", ir.F32(edgeShape))
	}
	return g, nil
}

// nodeDim is the first dimension of an entry block's first tensor parameter: the node
// count its graphs index into.
func nodeDim(blk *lang.Block, ins []*ir.Op, prm *lang.Param) (ir.Dim, error) {
	if len(ins) == 0 || len(ins[0].Type.Shape) == 0 {
		return ir.Dim{}, lang.Errorf(prm.Pos, "%s: graph %s needs node features: a first tensor parameter such as x: [N, F]", blk.Name, prm.Name)
	}
	return ins[0].Type.Shape[0], nil
}

// graphField lowers NAME.FIELD on a graph value.
func (l *lowerer) graphField(v value, s *lang.Suffix) (value, error) {
	g := v.g
	switch s.Field {
	case "src", "dst":
		op := g.src
		if s.Field == "dst" {
			op = g.dst
		}
		return value{kind: kIndex, op: op, g: g, str: s.Field}, nil
	case "graph":
		// The graph of each node: u[g.graph] broadcasts a row per graph back to its nodes.
		if g.kind != "graph" {
			break
		}
		if err := l.graphIDs(g, s.Pos, g.name+".graph"); err != nil {
			return value{}, err
		}
		return value{kind: kIndex, op: g.ids, g: g, str: s.Field}, nil
	case "edge":
		if g.edge == nil {
			return value{}, lang.Errorf(s.Pos, "%s %s has no edge features (declare them in its type: %s: graph(edge: [E, Fe]))", g.kind, g.name, g.name)
		}
		if l.self != nil {
			return value{}, lang.Errorf(s.Pos, "%s.edge: a self loop has no edge features; a layer with self_loops = true cannot use them in its message", g.name)
		}
		return tensorVal(g.edge), nil
	}
	has := "src, dst"
	if g.kind == "graph" {
		has += ", graph"
	}
	if g.edge != nil {
		has += ", edge"
	}
	return value{}, lang.Errorf(s.Pos, "%s %s has no feature %s (it has %s)", g.kind, g.name, s.Field, has)
}

// gather lowers x[i] for an index value i: the rows of x at the graph's indices.
func (l *lowerer) gather(x value, i value, pos lang.Pos) (value, error) {
	if x.kind != kTensor {
		return value{}, lang.Errorf(pos, "indexing %s, want a tensor of node rows", describe(x))
	}
	s := x.op.Type.Shape
	if i.str == "graph" {
		// A row per graph, gathered at each node's graph: [N, …].
		if len(s) == 0 || !s[0].Equal(i.g.graphs) {
			return value{}, lang.Errorf(pos, "indexing by %s.graph: got a tensor %v, want one row per graph of %s [%v, …] (a readout)", i.g.name, s, i.g.name, i.g.graphs)
		}
		o, err := l.emit(pos, "gather", "gather", nil, x.op, i.op)
		return tensorVal(o), err
	}
	if len(s) == 0 || !s[0].Equal(i.g.nodes) {
		return value{}, lang.Errorf(pos, "indexing by %s: got a tensor %v, want one row per node of %s [%v, …]", i, s, i.g.name, i.g.nodes)
	}
	if l.self == i.g {
		// A self loop's message: both ends are the node itself.
		return x, nil
	}
	o, err := l.emit(pos, "gather", "gather", nil, x.op, i.op)
	return tensorVal(o), err
}

// graphSuffix handles the suffixes of a postfix expression that graphs give meaning
// to: g.src, g.edge, h[g.src]. ok is false for any other suffix.
func (l *lowerer) graphSuffix(sc *scope, v value, s *lang.Suffix) (value, bool, error) {
	switch {
	case s.Field != "" && v.kind == kGraph:
		r, err := l.graphField(v, s)
		return r, true, err
	case s.Index != nil:
		iv, err := l.eval(sc, s.Index)
		if err != nil {
			return value{}, true, err
		}
		if iv.kind != kIndex {
			return value{}, false, nil
		}
		r, err := l.gather(v, iv, s.Pos)
		return r, true, err
	}
	return value{}, false, nil
}

// readout lowers readout(h, g, "sum"|"mean"|"max"): one row per graph of the batch, [G, …].
func lowerReadout(l *lowerer, c *lang.Call, a []value) (value, error) {
	h, gv, how := a[0], a[1], a[2]
	if h.kind != kTensor {
		return value{}, lang.Errorf(argPos(c, "h", 0), "readout: h is %s, want a tensor of node rows", describe(h))
	}
	if gv.kind != kGraph || gv.g.kind != "graph" {
		return value{}, lang.Errorf(argPos(c, "g", 1), "readout: g is %s, want a graph", describe(gv))
	}
	g := gv.g
	kinds := map[string]string{"sum": "segment_sum", "mean": "segment_mean", "max": "segment_max"}
	kind, ok := kinds[how.str]
	if !ok {
		return value{}, lang.Errorf(argPos(c, "by", 2), "readout: by = %s, want \"sum\", \"mean\" or \"max\"", how)
	}
	s := h.op.Type.Shape
	if len(s) == 0 || !s[0].Equal(g.nodes) {
		return value{}, lang.Errorf(argPos(c, "h", 0), "readout: h is %v, want one row per node [%v, …]", s, g.nodes)
	}
	if err := l.graphIDs(g, c.Pos, "readout"); err != nil {
		return value{}, err
	}
	o, err := l.emit(c.Pos, "readout", kind, ir.Attrs{"n": ir.Shape{g.graphs}}, h.op, g.ids)
	return tensorVal(o), err
}

// graphIDs makes graph g's graph-level inputs at their first use (a readout, g.graph):
// NAME_graph, the graph of each node, and NAME_count, the nodes of each graph, which binds
// G. For one graph (a node or link task) the runtime feeds one graph of every node.
func (l *lowerer) graphIDs(g *graphVal, at lang.Pos, what string) error {
	if g.ids != nil {
		return nil
	}
	if g.b != l.b {
		return lang.Errorf(at, "%s: graph %s belongs to another function", what, g.name)
	}
	g.graphs = ir.Sym("G")
	l.setPos(g.pos)
	g.ids = l.b.Input(g.name+"_graph", ir.Type{DType: "i32", Shape: ir.Shape{g.nodes}})
	g.count = l.b.Input(g.name+"_count", ir.Type{DType: "i32", Shape: ir.Shape{g.graphs}})
	return nil
}

func init() {
	builtins["readout"] = &builtin{shapes: "[N, …] → [G, …]",
		doc:    "pools the node rows of each graph of a batch into one row (by = sum, mean or max); an empty graph gives zeros",
		params: []bparam{tensorArg("h"), {name: "g", kind: kGraph}, {name: "by", kind: kString, def: strDefault("sum")}},
		lower:  lowerReadout}
}

// checkGraphArg checks a graph argument of a block call against the parameter's type.
func (l *lowerer) checkGraphArg(sc *scope, prm *lang.Param, v value, block string, at lang.Pos) (value, error) {
	if v.kind != kGraph || v.g.kind != prm.Type.Named {
		return v, lang.Errorf(at, "%s: argument %s is %s, want a %s", block, prm.Name, describe(v), prm.Type.Named)
	}
	ga, err := l.graphTypeArgs(sc, prm.Type)
	if err != nil {
		return v, err
	}
	if ga.edge != nil {
		if v.g.edge == nil {
			return v, lang.Errorf(at, "%s: argument %s has no edge features, and %s's type wants them", block, prm.Name, prm.Name)
		}
		pat := ga.edge.Left.Left.Postfix.Primary.List
		if pat == nil {
			return v, lang.Errorf(ga.edge.Pos, "graph: edge = %s, want the edge features' shape [E, Fe]", exprString(ga.edge))
		}
		if err := l.unify(sc, &lang.ShapeLit{Pos: ga.edge.Pos, Dims: pat.Elems}, v.g.edge.Type.Shape, block+": "+prm.Name+".edge", at); err != nil {
			return v, err
		}
	}
	return v, nil
}
