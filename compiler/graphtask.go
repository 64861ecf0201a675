package compiler

import (
	"fmt"
	"math"
	"slices"
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
//   - link level: the model also takes `q: pairs` and scores each pair, [P] or [P, 1]. The
//     train block's `test_edges` fraction of the edges is held out with as many sampled
//     non-edges; training sees the rest, scored against fresh non-edges each epoch.
//   - edge level: the model takes `q: pairs` and the data gives its edges targets
//     (data.EdgeTargets): it predicts a row per pair, [P, C] classes or [P] values, of the
//     graph's own edges; `test_edges` of them have their targets held out (the edges stay
//     in the graph, as a node task's unlabelled nodes do).
//
// The IR functions' inputs are named after the model's parameters (x, g_src, g_dst,
// g_edge, g_graph, g_count, q_src, q_dst) plus `nodes` and `y`; the train spec's feeds say
// what each is (graphFeeds), so the runtime never reads the names.

// graphSettings are the train-block settings only graph models take.
type graphSettings struct {
	train     *lang.Train
	labelled  *lang.Setting
	testEdges *lang.Setting
	// edgeTargets: the data gives the edges targets, so a model scoring pairs predicts
	// them (an edge-level task) rather than the presence of a link.
	edgeTargets bool
	// neighbors: the fan-outs of neighbour-sampled mini-batches (a node task), set at
	// neighborsAt.
	neighbors   []int
	neighborsAt *lang.Setting
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
	pl := &plan{eval: b.Name + ".loss", roles: []ir.RoleFunc{{Role: ir.RolePredict, Func: b.Name}}}
	for _, fn := range []string{"loss", "step"} {
		l, sc, ins, pred, err := p.lowerModel(b, fn, "one tensor of node features and its graph (hyperparameters need defaults)")
		if err != nil {
			return nil, err
		}
		task, err := graphTask(b, sc.names[gp.Name].g, qp, sc, pred, gs.edgeTargets)
		if err != nil {
			return nil, err
		}
		pl.task, pl.graph.Undirected = task, sc.names[gp.Name].g.undirected
		if err := p.checkGraphSettings(task, gs, gs.train); err != nil {
			return nil, err
		}
		lv, at, err := l.graphLoss(b, sc, task, loss, pred, fn)
		if err != nil {
			return nil, err
		}
		if fn == "step" {
			ph, err := l.finishStep(at, "train", lv, l.b.F.Params())
			if err != nil {
				return nil, err
			}
			pl.phases = []ir.Phase{ph}
		}
		m.Funcs = append(m.Funcs, l.b.F)
		pl.feeds = graphFeeds(pl.feeds, l.b.F, ins[0].Name, gp.Name, qp)
	}
	return pl, p.graphTaskSettings(pl, gs)
}

// graphTask says what a graph model's result predicts: with a pairs parameter a score per
// pair, else a row per node or a row per graph.
func graphTask(b *lang.Block, g *graphVal, qp *lang.Param, sc *scope, pred *ir.Op, edgeTargets bool) (ir.Task, error) {
	ps := pred.Type.Shape
	switch {
	case qp != nil && edgeTargets:
		q := sc.names[qp.Name].g
		if len(ps) == 0 || len(ps) > 2 || !ps[0].Equal(q.edges) {
			return 0, lang.Errorf(returnPos(b), "train: %s predicts its data's edge targets, so it returns one row per pair [%v, C] (classes) or [%v] (values), not %v", b.Name, q.edges, q.edges, ps)
		}
		return ir.TaskEdge, nil
	case qp != nil:
		q := sc.names[qp.Name].g
		if !(len(ps) == 1 || len(ps) == 2 && ps[1].Equal(ir.Const(1))) || !ps[0].Equal(q.edges) {
			return 0, lang.Errorf(returnPos(b), "train: %s scores pairs, so it returns one logit per pair [%v] or [%v, 1], not %v", b.Name, q.edges, q.edges, ps)
		}
		return ir.TaskLink, nil
	case len(ps) >= 1 && ps[0].Equal(g.nodes):
		return ir.TaskNode, nil
	case len(ps) >= 1 && g.ids != nil && ps[0].Equal(g.graphs):
		return ir.TaskGraph, nil
	}
	return 0, lang.Errorf(returnPos(b), "train: %s returns %v: want one row per node [%v, …], one per graph (a readout, [G, …]) or, with a pairs parameter, one score per pair", b.Name, ps, g.nodes)
}

// graphLoss lowers the loss of a graph model's prediction against its targets y (over the
// labelled nodes, for a node task) and, in the evaluation, its metrics; it returns the
// loss and where it was written.
func (l *lowerer) graphLoss(b *lang.Block, sc *scope, task ir.Task, loss *lang.Setting, pred *ir.Op, fn string) (*ir.Op, lang.Pos, error) {
	lossName, at := "", b.Pos
	if loss != nil {
		lossName, at = bareIdent(loss.Value), loss.Pos
	}
	want := []string{"cross_entropy", "mse", "l1", "bce", "bce_logits"}
	if task == ir.TaskLink {
		want = []string{"bce_logits"}
		if lossName == "" {
			lossName = "bce_logits"
		}
	}
	if task == ir.TaskEdge && lossName == "" {
		return nil, at, lang.Errorf(b.Pos, "train: missing loss = … (edge-level model %s needs one: cross_entropy for edge classes, mse or l1 for edge values, bce_logits for 0/1 targets)", b.Name)
	}
	if lossName == "" {
		return nil, at, lang.Errorf(b.Pos, "train: missing loss = … (training model %s needs one: %s)", b.Name, strings.Join(want, ", "))
	}
	if !slices.Contains(want, lossName) {
		return nil, at, lang.Errorf(loss.Value.Pos, "train: loss = %s, want %s for a %s-level task", exprString(loss.Value), strings.Join(want, ", "), task)
	}
	l.setPos(at)
	if task == ir.TaskNode {
		// The rows the loss (or the metric) covers.
		rows := ir.Sym(freshDim(sc, "L"))
		nodes := l.b.Input("nodes", ir.Type{DType: "i32", Shape: ir.Shape{rows}})
		var err error
		if pred, err = l.emit(at, "labelled nodes", "gather", nil, pred, nodes); err != nil {
			return nil, at, err
		}
	}
	y := l.b.Input("y", ir.F32(pred.Type.Shape))
	lv, err := builtins[lossName].lower(l, &lang.Call{Pos: at, Func: lossName}, []value{tensorVal(pred), tensorVal(y)})
	if err != nil {
		return nil, at, err
	}
	l.b.F.Outputs = []ir.Output{{Name: "loss", Value: lv.op}}
	if fn != "loss" {
		return lv.op, at, nil
	}
	if lossName == "cross_entropy" {
		acc, err := l.accuracy(&lang.Setting{Pos: at}, pred, y)
		if err != nil {
			return nil, at, err
		}
		l.b.F.Outputs = append(l.b.F.Outputs, ir.Output{Name: ir.OutputName(ir.OutMetric, "accuracy"), Value: acc})
	}
	if task == ir.TaskLink {
		l.b.F.Outputs = append(l.b.F.Outputs, ir.Output{Name: "score", Value: pred})
	}
	return lv.op, at, nil
}

// graphTaskSettings reads the task's train settings into the plan.
func (p *Program) graphTaskSettings(pl *plan, gs graphSettings) error {
	var err error
	if gs.labelled != nil {
		if pl.graph.Labelled, err = p.labelled(gs.labelled); err != nil {
			return err
		}
	}
	pl.graph.Neighbors = gs.neighbors
	if pl.task.HoldsOutEdges() {
		pl.graph.TestEdges = 0.1
		if gs.testEdges != nil {
			if pl.graph.TestEdges, err = p.testEdges(gs.testEdges); err != nil {
				return err
			}
		}
	}
	return nil
}

// graphFeeds adds the feeds of f's inputs not yet in feeds. The compiler names a graph's
// arrays after the model's parameters (graph.go): x the features, g_src, g_dst, g_edge,
// g_graph, g_count the graph g's, q_src, q_dst the pairs q's, plus nodes and y.
func graphFeeds(feeds []ir.Feed, f *ir.Func, features, graph string, pairs *lang.Param) []ir.Feed {
	kinds := map[string]ir.FeedKind{features: ir.FeedNodeFeatures, "nodes": ir.FeedNodes, "y": ir.FeedTargets,
		graph + "_src": ir.FeedEdgeSrc, graph + "_dst": ir.FeedEdgeDst, graph + "_edge": ir.FeedEdgeFeatures,
		graph + "_graph": ir.FeedNodeGraph, graph + "_count": ir.FeedGraphSizes}
	if pairs != nil {
		kinds[pairs.Name+"_src"], kinds[pairs.Name+"_dst"] = ir.FeedPairSrc, ir.FeedPairDst
	}
	have := map[string]bool{}
	for _, fd := range feeds {
		have[fd.Input] = true
	}
	for _, in := range f.Inputs {
		if k, ok := kinds[in.Name]; ok && !have[in.Name] {
			feeds, have[in.Name] = append(feeds, ir.Feed{Input: in.Name, Kind: k}), true
		}
	}
	return feeds
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

func (p *Program) checkGraphSettings(task ir.Task, gs graphSettings, t *lang.Train) error {
	if task == ir.TaskNode && gs.labelled == nil {
		return lang.Errorf(t.Pos, "train: a node-level task needs labelled = nodes([…]), per_class(k) or fraction(f): the nodes whose labels the loss sees")
	}
	if gs.labelled != nil && task != ir.TaskNode {
		return lang.Errorf(gs.labelled.Pos, "train: labelled chooses the nodes a node-level task learns from; this model's task is %s-level", task)
	}
	if gs.neighborsAt != nil && task != ir.TaskNode {
		return lang.Errorf(gs.neighborsAt.Pos, "train: neighbors samples mini-batches of a node-level task; this model's task is %s-level", task)
	}
	if gs.neighborsAt != nil && len(gs.neighbors) == 0 {
		return lang.Errorf(gs.neighborsAt.Value.Pos, "train: neighbors = [], want a fan-out per layer, such as [10, 5]")
	}
	if gs.testEdges != nil && !task.HoldsOutEdges() {
		return lang.Errorf(gs.testEdges.Pos, "train: test_edges holds out edges for link prediction or edge targets; this model's task is %s-level (give it a pairs parameter)", task)
	}
	return nil
}

// testEdges reads test_edges = f, a fraction of the edges in (0, 1).
func (p *Program) testEdges(s *lang.Setting) (float64, error) {
	v, err := p.evalConst(s.Value)
	if err != nil {
		return 0, err
	}
	if (v.kind != kFloat && v.kind != kInt) || v.num <= 0 || v.num >= 1 {
		return 0, lang.Errorf(s.Value.Pos, "train: test_edges = %s, want a fraction of the edges in (0, 1)", v)
	}
	return v.num, nil
}

// labelled reads labelled = per_class(k) | fraction(f) | nodes([i, j, …]).
func (p *Program) labelled(s *lang.Setting) (*ir.NodeSplit, error) {
	c := bareCall(s.Value)
	if c == nil || len(c.Args) != 1 {
		return nil, lang.Errorf(s.Value.Pos, "train: labelled = %s, want per_class(k), fraction(f) or nodes([i, j, …])", exprString(s.Value))
	}
	v, err := p.evalConst(c.Args[0].Value)
	if err != nil {
		return nil, err
	}
	at := c.Args[0].Value.Pos
	switch c.Func {
	case "per_class":
		if v.kind != kInt || v.num < 1 {
			return nil, lang.Errorf(at, "train: per_class(%s), want an int ≥ 1", v)
		}
		return &ir.NodeSplit{PerClass: int(v.num)}, nil
	case "fraction":
		if (v.kind != kFloat && v.kind != kInt) || v.num <= 0 || v.num >= 1 {
			return nil, lang.Errorf(at, "train: fraction(%s), want a number in (0, 1)", v)
		}
		return &ir.NodeSplit{Fraction: v.num}, nil
	case "nodes":
		ids, ok := v.asInts()
		if !ok || len(ids) == 0 {
			return nil, lang.Errorf(at, "train: nodes(%s), want a list of node numbers such as [0, 33]", v)
		}
		split := &ir.NodeSplit{Nodes: make([]int32, len(ids))}
		for i, id := range ids {
			if id < 0 || id > math.MaxInt32 {
				return nil, lang.Errorf(at, "train: nodes(%s): node %d is out of range", v, id)
			}
			split.Nodes[i] = int32(id)
		}
		return split, nil
	}
	return nil, lang.Errorf(s.Value.Pos, "train: labelled = %s, want per_class(k), fraction(f) or nodes([i, j, …])", exprString(s.Value))
}
