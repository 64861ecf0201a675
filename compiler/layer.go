package compiler

import (
	"maps"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
	"github.com/dlc-lang/dlc/lang"
)

// Message-passing layers.
//
// A layer block is ordinary statements plus five settings, in this order:
//
//	self_loops = true          optional: every node also sends its message to itself
//	normalize  = sym           optional: scale each message by 1/√(deg(src)·deg(dst))
//	message    = EXPR          one row per edge, [E, …]: an expression of h[g.src],
//	                           h[g.dst], g.edge and anything computed before it
//	aggregate  = sum | mean | max | min    onto each edge's target, giving `aggregated`
//	update     = EXPR          the layer's result, an expression of `aggregated` and the
//	                           node tensors, e.g. relu(dense(concat(h, aggregated), H))
//
// A node no edge reaches aggregates to zeros (for every aggregation). With self loops the
// message expression is lowered a second time for the nodes themselves, with h[g.src] and
// h[g.dst] both meaning h (the same weights: the instance names repeat), and joined to the
// edges' messages: added for sum, counted for mean, compared for max and min. Degrees are
// in-degrees (edges into the node, plus one with self loops); a node of degree 0 is scaled
// by 1. On an undirected graph in- and out-degree agree, which is what GCN assumes.

// layerState is what a layer instance's settings have built so far.
type layerState struct {
	b                 *lang.Block
	g                 *graphVal
	got               settings // the settings read, over the table's defaults
	msg, msgSelf, agg *ir.Op
	weight            *ir.Op // edge_weight, f32[E], or nil
	update            *value
}

// layerBody lowers the statements of a layer instance and returns its update. The
// settings of schema.LayerSettings are checked as they come; any other name is a variable.
func (l *lowerer) layerBody(b *lang.Block, sc *scope) ([]value, error) {
	outer := l.sc
	l.sc = sc
	defer func() { l.sc = outer }()
	ly := &layerState{b: b, got: defaults(schema.LayerSettings)}
	for _, prm := range b.Params {
		if prm.Type.Named == "graph" {
			if ly.g != nil {
				return nil, lang.Errorf(prm.Pos, "layer %s: takes two graphs; a layer passes messages over one", b.Name)
			}
			ly.g = sc.names[prm.Name].g
		}
	}
	if ly.g == nil {
		return nil, lang.Errorf(b.Pos, "layer %s: takes no graph (want a parameter such as g: graph)", b.Name)
	}
	ck := settingsChecker{what: "layer " + b.Name, eval: func(e *lang.Expr) (value, error) { return l.eval(sc, e) }}
	for _, s := range b.Body {
		var err error
		switch _, isSetting := schema.Lookup(schema.LayerSettings, settingName(s)); {
		case s.Return != nil:
			return nil, lang.Errorf(s.Pos, "layer %s: a layer's result is its update; write update = … instead of return", b.Name)
		case s.Unpack != nil:
			err = l.unpack(sc, s.Unpack)
		case isSetting:
			err = l.layerSetting(ck, ly, sc, s.Assign)
		default:
			var v value
			v, err = l.assign(sc, s.Assign)
			sc.names[s.Assign.Name] = v
			l.bind(sc, s.Assign.Name, v)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := ck.finish(ck.what, schema.LayerSettings, ly.got, b.EndPos, false); err != nil {
		return nil, err
	}
	rets := []value{*ly.update}
	return rets, l.checkResults(b, sc, rets, b.EndPos)
}

// settingName is the name a statement assigns, "" for a return or an unpacking.
func settingName(s *lang.Stmt) string {
	if s.Assign == nil {
		return ""
	}
	return s.Assign.Name
}

// layerSetting reads one of a layer's settings, in their order: self_loops and normalize,
// then the message, its aggregation and the update.
func (l *lowerer) layerSetting(ck settingsChecker, ly *layerState, sc *scope, a *lang.Setting) error {
	name := ly.b.Name
	switch {
	case (a.Name == "self_loops" || a.Name == "normalize" || a.Name == "edge_weight") && ly.msg != nil:
		return lang.Errorf(a.Pos, "layer %s: set %s before the message", name, a.Name)
	case a.Name == "aggregate" && ly.msg == nil:
		return lang.Errorf(a.Pos, "layer %s: aggregate before any message", name)
	case a.Name == "update" && ly.agg == nil:
		return lang.Errorf(a.Pos, "layer %s: update before aggregate (message, then aggregate, then update)", name)
	}
	st, err := ck.read(schema.LayerSettings, ly.got, a)
	if err != nil {
		return err
	}
	switch a.Name {
	case "edge_weight":
		return l.layerWeight(ly, sc, a.Value)
	case "message":
		return l.layerMessage(ly, sc, a.Value)
	case "aggregate":
		if ly.agg, err = l.aggregate(a.Value.Pos, ly.g, st.val.str, ly.got.word("normalize"), ly.msg, ly.msgSelf, ly.weight); err != nil {
			return err
		}
		sc.names["aggregated"] = tensorVal(ly.agg)
		l.bind(sc, "aggregated", sc.names["aggregated"])
	case "update":
		return l.layerUpdate(ly, sc, a.Value)
	}
	return nil
}

// layerWeight lowers edge_weight, one value per edge: [E] or [E, 1], kept as [E].
func (l *lowerer) layerWeight(ly *layerState, sc *scope, e *lang.Expr) error {
	v, err := l.eval(sc, e)
	if err != nil {
		return err
	}
	g := ly.g
	s := ir.Shape(nil)
	if v.kind == kTensor {
		s = v.op.Type.Shape
	}
	if !rowsOf(v, g.edges) || len(s) > 2 || len(s) == 2 && !s[1].Equal(ir.Const(1)) {
		return lang.Errorf(e.Pos, "layer %s: edge_weight is %s, want one value per edge [%v] or [%v, 1] (such as %s.edge with %s: graph(edge: [E, 1]))",
			ly.b.Name, describe(v), g.edges, g.edges, g.name, g.name)
	}
	ly.weight = v.op
	if len(s) == 2 {
		l.setPos(e.Pos)
		ly.weight = l.b.Op("reshape", ir.Attrs{"shape": ir.Shape{g.edges}}, v.op)
	}
	return nil
}

// layerMessage lowers the message, and with self loops lowers it again for the nodes
// themselves, h[g.src] and h[g.dst] both meaning h.
func (l *lowerer) layerMessage(ly *layerState, sc *scope, e *lang.Expr) error {
	g := ly.g
	counts := maps.Clone(sc.counts)
	v, err := l.eval(sc, e)
	if err != nil {
		return err
	}
	if !rowsOf(v, g.edges) {
		return lang.Errorf(e.Pos, "layer %s: message is %s, want one row per edge [%v, …] (index node tensors with %s.src or %s.dst)",
			ly.b.Name, describe(v), g.edges, g.name, g.name)
	}
	ly.msg = v.op
	if ly.got.num("self_loops") != 0 {
		sc.counts = counts
		l.self = g
		sv, err := l.eval(sc, e)
		l.self = nil
		if err != nil {
			return err
		}
		if !rowsOf(sv, g.nodes) {
			return lang.Errorf(e.Pos, "layer %s: the self-loop message is %s, want one row per node [%v, …]", ly.b.Name, describe(sv), g.nodes)
		}
		ly.msgSelf = sv.op
	}
	sc.names["message"] = v
	l.bind(sc, "message", v)
	return nil
}

// layerUpdate lowers the update, the layer's result: one row per node.
func (l *lowerer) layerUpdate(ly *layerState, sc *scope, e *lang.Expr) error {
	if w := bareIdent(e); w == "add" || w == "concat" {
		return lang.Errorf(e.Pos, "layer %s: update = %s: write the update as an expression of aggregated, e.g. relu(dense(concat(h, aggregated), H)) or relu(dense(h, H) + aggregated)", ly.b.Name, w)
	}
	v, err := l.eval(sc, e)
	if err != nil {
		return err
	}
	if !rowsOf(v, ly.g.nodes) {
		return lang.Errorf(e.Pos, "layer %s: update is %s, want one row per node [%v, …]", ly.b.Name, describe(v), ly.g.nodes)
	}
	ly.update = &v
	sc.names["update"] = v
	l.bind(sc, "update", v)
	return nil
}

// rowsOf reports whether v is a tensor of n rows.
func rowsOf(v value, n ir.Dim) bool {
	return v.kind == kTensor && len(v.op.Type.Shape) > 0 && v.op.Type.Shape[0].Equal(n)
}

// settingWord is the word a setting names, bare or quoted: aggregate = mean, or "mean".
func settingWord(e *lang.Expr) string {
	if id := bareIdent(e); id != "" {
		return id
	}
	if len(e.Rest) == 0 && len(e.Left.Rest) == 0 && !e.Left.Left.Neg && len(e.Left.Left.Postfix.Suffix) == 0 {
		if s := e.Left.Left.Postfix.Primary.String; s != nil {
			return *s
		}
	}
	return ""
}

// aggregate reduces the edges' messages onto their targets (and joins the self loops'
// messages, when there are any), after the degree normalisation if one is asked for. With
// edge weights w (f32[E]) each edge's message is scaled by its weight, and the degrees of
// the normalisation are the weights' sums (gcn_norm of PyG's GCNConv); a mean still divides
// by the count of messages.
func (l *lowerer) aggregate(pos lang.Pos, g *graphVal, how, norm string, msg, self, w *ir.Op) (*ir.Op, error) {
	l.setPos(pos)
	b := l.b
	n := ir.Attrs{"n": ir.Shape{g.nodes}}
	rank := len(msg.Type.Shape)
	col := func(v *ir.Op, rows ir.Dim) *ir.Op {
		shape := ir.Shape{rows}
		for i := 1; i < rank; i++ {
			shape = append(shape, ir.Const(1))
		}
		return b.Op("reshape", ir.Attrs{"shape": shape}, v)
	}
	var deg *ir.Op // in-degree, f32[N]
	if norm == "sym" && w == nil || self != nil && how != "sum" {
		deg = b.Op("segment_count", n, g.dst)
	}
	switch {
	case norm == "sym" && w != nil:
		// Weighted degrees may be fractional, so only an exact 0 counts as 1.
		d := b.Op("segment_sum", n, w, g.dst)
		if self != nil {
			d = b.Op("add", nil, d, b.Const(1))
		}
		inv := b.Op("div", nil, b.Const(1), b.Op("sqrt", nil, b.Op("add", nil, d, b.Op("eq", nil, d, b.Const(0)))))
		coef := b.Op("mul", nil, b.Op("mul", nil, b.Op("gather", nil, inv, g.src), w), b.Op("gather", nil, inv, g.dst))
		msg = b.Op("mul", nil, msg, col(coef, g.edges))
		if self != nil {
			self = b.Op("mul", nil, self, col(b.Op("mul", nil, inv, inv), g.nodes))
		}
	case w != nil:
		msg = b.Op("mul", nil, msg, col(w, g.edges))
	case norm == "sym":
		d := deg
		if self != nil {
			d = b.Op("add", nil, deg, b.Const(1))
		}
		inv := b.Op("div", nil, b.Const(1), b.Op("sqrt", nil, b.Op("maximum", nil, d, b.Const(1))))
		coef := b.Op("mul", nil, b.Op("gather", nil, inv, g.src), b.Op("gather", nil, inv, g.dst))
		msg = b.Op("mul", nil, msg, col(coef, g.edges))
		if self != nil {
			self = b.Op("mul", nil, self, col(b.Op("mul", nil, inv, inv), g.nodes))
		}
	}
	var agg *ir.Op
	switch {
	case self == nil:
		agg = b.Op("segment_"+how, n, msg, g.dst)
	case how == "sum":
		agg = b.Op("add", nil, b.Op("segment_sum", n, msg, g.dst), self)
	case how == "mean":
		total := b.Op("add", nil, b.Op("segment_sum", n, msg, g.dst), self)
		agg = b.Op("div", nil, total, col(b.Op("add", nil, deg, b.Const(1)), g.nodes))
	default: // max, min: a node without edges has only its own message
		ext := "maximum"
		if how == "min" {
			ext = "minimum"
		}
		edges := b.Op("segment_"+how, n, msg, g.dst)
		has := col(b.Op("minimum", nil, deg, b.Const(1)), g.nodes)
		both := b.Op(ext, nil, edges, self)
		agg = b.Op("add", nil, b.Op("mul", nil, has, both), b.Op("mul", nil, b.Op("sub", nil, b.Const(1), has), self))
	}
	if b.Err != nil {
		return nil, lang.Errorf(pos, "aggregate: %v", b.Err)
	}
	return agg, nil
}
