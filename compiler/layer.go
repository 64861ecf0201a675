package compiler

import (
	"maps"

	"github.com/dlc-lang/dlc/ir"
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

// layerBody lowers the statements of a layer instance and returns its update.
func (l *lowerer) layerBody(b *lang.Block, sc *scope) ([]value, error) {
	outer := l.sc
	l.sc = sc
	defer func() { l.sc = outer }()
	var g *graphVal
	for _, prm := range b.Params {
		if prm.Type.Named == "graph" {
			if g != nil {
				return nil, lang.Errorf(prm.Pos, "layer %s: takes two graphs; a layer passes messages over one", b.Name)
			}
			g = sc.names[prm.Name].g
		}
	}
	if g == nil {
		return nil, lang.Errorf(b.Pos, "layer %s: takes no graph (want a parameter such as g: graph)", b.Name)
	}
	var (
		msg, msgSelf *ir.Op
		agg          *ir.Op
		update       *value
		selfLoops    bool
		norm         = "none"
	)
	for _, s := range b.Body {
		switch {
		case s.Return != nil:
			return nil, lang.Errorf(s.Pos, "layer %s: a layer's result is its update; write update = … instead of return", b.Name)
		case s.Unpack != nil:
			if err := l.unpack(sc, s.Unpack); err != nil {
				return nil, err
			}
			continue
		}
		a := s.Assign
		switch a.Name {
		case "self_loops":
			if msg != nil {
				return nil, lang.Errorf(a.Pos, "layer %s: set self_loops before the message", b.Name)
			}
			v, err := l.eval(sc, a.Value)
			if err != nil {
				return nil, err
			}
			if v.kind != kBool {
				return nil, lang.Errorf(a.Value.Pos, "layer %s: self_loops = %s, want true or false", b.Name, describe(v))
			}
			selfLoops = v.num != 0
		case "normalize":
			if msg != nil {
				return nil, lang.Errorf(a.Pos, "layer %s: set normalize before the message", b.Name)
			}
			switch id := settingWord(a.Value); id {
			case "none", "sym":
				norm = id
			default:
				return nil, lang.Errorf(a.Value.Pos, "layer %s: normalize = %s, want none or sym", b.Name, exprString(a.Value))
			}
		case "message":
			if msg != nil {
				return nil, lang.Errorf(a.Pos, "layer %s: message set twice", b.Name)
			}
			counts := maps.Clone(sc.counts)
			v, err := l.eval(sc, a.Value)
			if err != nil {
				return nil, err
			}
			if v.kind != kTensor || len(v.op.Type.Shape) == 0 || !v.op.Type.Shape[0].Equal(g.edges) {
				return nil, lang.Errorf(a.Value.Pos, "layer %s: message is %s, want one row per edge [%v, …] (index node tensors with %s.src or %s.dst)",
					b.Name, describe(v), g.edges, g.name, g.name)
			}
			msg = v.op
			if selfLoops {
				sc.counts = counts
				l.self = g
				sv, err := l.eval(sc, a.Value)
				l.self = nil
				if err != nil {
					return nil, err
				}
				if sv.kind != kTensor || len(sv.op.Type.Shape) == 0 || !sv.op.Type.Shape[0].Equal(g.nodes) {
					return nil, lang.Errorf(a.Value.Pos, "layer %s: the self-loop message is %s, want one row per node [%v, …]", b.Name, describe(sv), g.nodes)
				}
				msgSelf = sv.op
			}
			sc.names["message"] = v
		case "aggregate":
			if msg == nil {
				return nil, lang.Errorf(a.Pos, "layer %s: aggregate before any message", b.Name)
			}
			if agg != nil {
				return nil, lang.Errorf(a.Pos, "layer %s: aggregate set twice", b.Name)
			}
			how := settingWord(a.Value)
			switch how {
			case "sum", "mean", "max", "min":
			default:
				return nil, lang.Errorf(a.Value.Pos, "layer %s: unknown aggregation %s (want sum, mean, max or min)", b.Name, exprString(a.Value))
			}
			var err error
			if agg, err = l.aggregate(a.Value.Pos, g, how, norm, msg, msgSelf); err != nil {
				return nil, err
			}
			sc.names["aggregated"] = tensorVal(agg)
		case "update":
			if agg == nil {
				return nil, lang.Errorf(a.Pos, "layer %s: update before aggregate (message, then aggregate, then update)", b.Name)
			}
			if update != nil {
				return nil, lang.Errorf(a.Pos, "layer %s: update set twice", b.Name)
			}
			if w := bareIdent(a.Value); w == "add" || w == "concat" {
				return nil, lang.Errorf(a.Value.Pos, "layer %s: update = %s: write the update as an expression of aggregated, e.g. relu(dense(concat(h, aggregated), H)) or relu(dense(h, H) + aggregated)", b.Name, w)
			}
			v, err := l.eval(sc, a.Value)
			if err != nil {
				return nil, err
			}
			if v.kind != kTensor || len(v.op.Type.Shape) == 0 || !v.op.Type.Shape[0].Equal(g.nodes) {
				return nil, lang.Errorf(a.Value.Pos, "layer %s: update is %s, want one row per node [%v, …]", b.Name, describe(v), g.nodes)
			}
			update = &v
			sc.names["update"] = v
		default:
			v, err := l.assign(sc, a)
			if err != nil {
				return nil, err
			}
			sc.names[a.Name] = v
		}
	}
	if msg == nil {
		return nil, lang.Errorf(b.EndPos, "layer %s: missing message = … (one row per edge)", b.Name)
	}
	if agg == nil {
		return nil, lang.Errorf(b.EndPos, "layer %s: missing aggregate = sum | mean | max | min", b.Name)
	}
	if update == nil {
		return nil, lang.Errorf(b.EndPos, "layer %s: missing update = … (the layer's result)", b.Name)
	}
	rets := []value{*update}
	return rets, l.checkResults(b, sc, rets, b.EndPos)
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
// messages, when there are any), after the degree normalisation if one is asked for.
func (l *lowerer) aggregate(pos lang.Pos, g *graphVal, how, norm string, msg, self *ir.Op) (*ir.Op, error) {
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
	if norm == "sym" || self != nil && how != "sum" {
		deg = b.Op("segment_count", n, g.dst)
	}
	if norm == "sym" {
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
