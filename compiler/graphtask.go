package compiler

import (
	"fmt"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// Training a model that takes a graph. The task follows from the model's signature:
//
//   - node level: the result has one row per node, [N, C]. The loss covers the labelled
//     nodes (the train block's `labelled`), fed as an index input `nodes`; evaluation runs
//     the same function on the other nodes that have labels.
//   - graph level: the result has one row per graph, [G, C] (a readout made it). The data is
//     a set of small graphs, batched as their disjoint union.
//   - edge level: the model also takes `q: pairs` and scores each pair, [P] or [P, 1]. The
//     train block's `test_edges` fraction of the edges is held out with as many sampled
//     non-edges; training sees the rest, scored against fresh non-edges each epoch.
//
// The IR functions' inputs are named after the model's parameters (x, g_src, g_dst,
// g_edge, g_graph, g_count, q_src, q_dst) plus `nodes` and `y`; the runtime feeds them by
// name, and the train spec's inputs list the features, graph and pairs parameter names.

// graphSettings are the train-block settings only graph models take.
type graphSettings struct {
	train     *lang.Train
	labelled  *lang.Setting
	testEdges *lang.Setting
}

// graphParams returns the model's graph and pairs parameters.
func graphParams(b *lang.Block) (graph, pairs *lang.Param) {
	if b == nil {
		return nil, nil
	}
	for _, prm := range b.Params {
		if isGraphType(prm.Type) {
			if prm.Type.Named == "graph" && graph == nil {
				graph = prm
			} else if prm.Type.Named == "pairs" && pairs == nil {
				pairs = prm
			}
		}
	}
	return graph, pairs
}

// lowerGraphTask lowers b.step and b.loss for a model that takes a graph.
func (p *Program) lowerGraphTask(m *ir.Module, b *lang.Block, loss *lang.Setting, gs graphSettings) (*plan, error) {
	gp, qp := graphParams(b)
	if gp == nil {
		return nil, lang.Errorf(b.Pos, "train: %s takes no graph", b.Name)
	}
	lossName := ""
	if loss != nil {
		lossName = bareIdent(loss.Value)
	}
	pl := &plan{family: "graph", eval: b.Name + ".loss", extra: map[string]string{"predict": b.Name}}
	for _, fn := range []string{"loss", "step"} {
		l, sc, ins, pred, err := p.lowerModel(b, fn, "one tensor of node features and its graph (hyperparameters need defaults)")
		if err != nil {
			return nil, err
		}
		g := sc.names[gp.Name].g
		ps := pred.Type.Shape
		task := ""
		switch {
		case qp != nil:
			task = "link"
			q := sc.names[qp.Name].g
			if !(len(ps) == 1 || len(ps) == 2 && ps[1].Equal(ir.Const(1))) || !ps[0].Equal(q.edges) {
				return nil, lang.Errorf(returnPos(b), "train: %s scores pairs, so it returns one logit per pair [%v] or [%v, 1], not %v", b.Name, q.edges, q.edges, ps)
			}
		case len(ps) >= 1 && ps[0].Equal(g.nodes):
			task = "node"
		case len(ps) >= 1 && g.ids != nil && ps[0].Equal(g.graphs):
			task = "graph"
		default:
			return nil, lang.Errorf(returnPos(b), "train: %s returns %v: want one row per node [%v, …], one per graph (a readout, [G, …]) or, with a pairs parameter, one score per pair", b.Name, ps, g.nodes)
		}
		pl.extra["task"] = task
		if g.undirected {
			pl.extra["undirected"] = "true"
		}
		if err := p.checkGraphSettings(task, gs, gs.train); err != nil {
			return nil, err
		}
		want := []string{"cross_entropy", "mse", "l1", "bce", "bce_logits"}
		if task == "link" {
			want = []string{"bce_logits"}
			if lossName == "" {
				lossName = "bce_logits"
			}
		}
		if loss == nil && lossName == "" {
			return nil, lang.Errorf(b.Pos, "train: missing loss = … (training model %s needs one: %s)", b.Name, strings.Join(want, ", "))
		}
		known := false
		for _, w := range want {
			known = known || w == lossName
		}
		if !known {
			return nil, lang.Errorf(loss.Value.Pos, "train: loss = %s, want %s for a %s-level task", exprString(loss.Value), strings.Join(want, ", "), task)
		}
		at := b.Pos
		if loss != nil {
			at = loss.Pos
		}
		l.setPos(at)
		if task == "node" {
			// The rows the loss (or the metric) covers.
			rows := ir.Sym(freshDim(sc, "L"))
			nodes := l.b.Input("nodes", ir.Type{DType: "i32", Shape: ir.Shape{rows}})
			if pred, err = l.emit(at, "labelled nodes", "gather", nil, pred, nodes); err != nil {
				return nil, err
			}
		}
		y := l.b.Input("y", ir.F32(pred.Type.Shape))
		call := &lang.Call{Pos: at, Func: lossName}
		lv, err := builtins[lossName].lower(l, call, []value{tensorVal(pred), tensorVal(y)})
		if err != nil {
			return nil, err
		}
		l.b.F.Outputs = []ir.Output{{Name: "loss", Value: lv.op}}
		if fn == "loss" {
			if lossName == "cross_entropy" {
				acc, err := l.accuracy(&lang.Setting{Pos: at}, pred, y)
				if err != nil {
					return nil, err
				}
				l.b.F.Outputs = append(l.b.F.Outputs, ir.Output{Name: "metric:accuracy", Value: acc})
			}
			if task == "link" {
				l.b.F.Outputs = append(l.b.F.Outputs, ir.Output{Name: "score", Value: pred})
			}
		}
		if fn == "step" {
			ph, err := l.finishStep(at, "train", lv.op, l.b.F.Params())
			if err != nil {
				return nil, err
			}
			pl.phases = []ir.Phase{ph}
		}
		m.Funcs = append(m.Funcs, l.b.F)
		pl.inputs = []string{ins[0].Name, gp.Name}
		if qp != nil {
			pl.inputs = append(pl.inputs, qp.Name)
		}
	}
	for _, s := range []*lang.Setting{gs.labelled, gs.testEdges} {
		if s == nil {
			continue
		}
		v, err := p.graphSetting(s)
		if err != nil {
			return nil, err
		}
		pl.extra[s.Name] = v
	}
	return pl, nil
}

// freshDim returns a dimension name not bound in sc: want, or want with a digit.
func freshDim(sc *scope, want string) string {
	name := want
	for i := 2; ; i++ {
		if _, ok := sc.names[name]; !ok {
			return name
		}
		name = fmt.Sprintf("%s%d", want, i)
	}
}

func (p *Program) checkGraphSettings(task string, gs graphSettings, t *lang.Train) error {
	if task == "node" && gs.labelled == nil {
		return lang.Errorf(t.Pos, "train: a node-level task needs labelled = nodes([…]), per_class(k) or fraction(f): the nodes whose labels the loss sees")
	}
	if gs.labelled != nil && task != "node" {
		return lang.Errorf(gs.labelled.Pos, "train: labelled chooses the nodes a node-level task learns from; this model's task is %s-level", task)
	}
	if gs.testEdges != nil && task != "link" {
		return lang.Errorf(gs.testEdges.Pos, "train: test_edges holds out edges for link prediction; this model's task is %s-level (give it a pairs parameter)", task)
	}
	return nil
}

// graphSetting checks a labelled or test_edges setting and returns its spec form:
// labelled = per_class(k) | fraction(f) | nodes([i, j, …]) gives "per_class 1",
// "fraction 0.1", "nodes 0 33"; test_edges = f gives "0.1".
func (p *Program) graphSetting(s *lang.Setting) (string, error) {
	if s.Name == "test_edges" {
		v, err := p.evalConst(s.Value)
		if err != nil {
			return "", err
		}
		if (v.kind != kFloat && v.kind != kInt) || v.num <= 0 || v.num >= 1 {
			return "", lang.Errorf(s.Value.Pos, "train: test_edges = %s, want a fraction of the edges in (0, 1)", v)
		}
		return fmt.Sprint(v.num), nil
	}
	c := bareCall(s.Value)
	if c == nil || len(c.Args) != 1 {
		return "", lang.Errorf(s.Value.Pos, "train: labelled = %s, want per_class(k), fraction(f) or nodes([i, j, …])", exprString(s.Value))
	}
	v, err := p.evalConst(c.Args[0].Value)
	if err != nil {
		return "", err
	}
	at := c.Args[0].Value.Pos
	switch c.Func {
	case "per_class":
		if v.kind != kInt || v.num < 1 {
			return "", lang.Errorf(at, "train: per_class(%s), want an int ≥ 1", v)
		}
		return fmt.Sprintf("per_class %d", int(v.num)), nil
	case "fraction":
		if (v.kind != kFloat && v.kind != kInt) || v.num <= 0 || v.num >= 1 {
			return "", lang.Errorf(at, "train: fraction(%s), want a number in (0, 1)", v)
		}
		return fmt.Sprintf("fraction %v", v.num), nil
	case "nodes":
		ids, ok := v.asInts()
		if !ok || len(ids) == 0 {
			return "", lang.Errorf(at, "train: nodes(%s), want a list of node numbers such as [0, 33]", v)
		}
		parts := make([]string, len(ids))
		for i, id := range ids {
			if id < 0 {
				return "", lang.Errorf(at, "train: nodes(%s): node %d is negative", v, id)
			}
			parts[i] = fmt.Sprint(id)
		}
		return "nodes " + strings.Join(parts, " "), nil
	}
	return "", lang.Errorf(s.Value.Pos, "train: labelled = %s, want per_class(k), fraction(f) or nodes([i, j, …])", exprString(s.Value))
}
