package train

import (
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/data"
)

// A graph run's data: loaded, split as its task says (the labelled nodes, the held-out
// edges; a set of graphs brings its own test set) and made into feeds once.

// graphRun is one task's data, split and feeds.
type graphRun struct {
	tr   *Trainer
	task ir.Task
	pcg  *rand.PCG // the generator of the link task's non-edges and the graph task's order
	rng  *rand.Rand
	id   *graphIdentity // the training data, for resuming
	// node and link tasks: one graph
	g     *data.Graph
	feed  *graphFeed
	train []int32 // node: the labelled nodes
	test  []int32 // node: the evaluated nodes
	ytr   []float32
	yte   []float32
	// link
	index     *data.EdgeIndex
	pos       data.Pairs // the training graph's edges, each once; edge: the training edges and their targets
	testPairs data.Pairs // link: held-out edges and non-edges; edge: the held-out edges and their targets
	// graph
	set, testSet *data.GraphSet
	batch        data.Graph
	// validation (validation.go): held-out labelled nodes, training edges or graphs
	val      []int32
	yval     []float32
	valPairs data.Pairs
	valSet   *data.GraphSet
}

// newGraphRun loads the data of a run of task, splits it and prints the run's first line.
func newGraphRun(tr *Trainer, task ir.Task, spec *ir.TrainSpec, out io.Writer) (*graphRun, error) {
	r := &graphRun{tr: tr, task: task, pcg: rand.NewPCG(uint64(spec.Seed), 0x6772756e)}
	r.rng = rand.New(r.pcg)
	undirected := spec.Graph.Undirected
	if task == ir.TaskGraph {
		if err := r.loadSet(spec, undirected, out); err != nil {
			return nil, err
		}
		return r, nil
	}
	if spec.Test != nil {
		return nil, fmt.Errorf("%s: train: a %s-level task evaluates on its own graph (the unlabelled nodes, or the held-out edges); drop test = …", spec.Test.Pos, task)
	}
	g, err := data.LoadGraph(spec.Data)
	if err != nil {
		return nil, err
	}
	if errs := CheckData(tr.Module, false, graphDims(spec.Data, g, g.Classes)); len(errs) > 0 {
		return nil, errs[0]
	}
	if undirected && !g.Symmetric() {
		g = g.Undirected()
	}
	r.g = g
	r.id = identify(task.String(), g, nil)
	switch task {
	case ir.TaskNode:
		err = r.splitNodes(spec, out)
	case ir.TaskLink:
		err = r.splitEdges(spec, undirected, out)
	case ir.TaskEdge:
		err = r.splitEdgeTargets(spec, undirected, out)
	default:
		err = fmt.Errorf("runtime: graph task %q, want node, graph or link", task)
	}
	if err != nil {
		return nil, err
	}
	if r.feed, err = newGraphFeed(r.g); err != nil {
		return nil, err
	}
	return r, nil
}

// loadSet loads a graph task's sets of graphs, the training set and the test set if any.
func (r *graphRun) loadSet(spec *ir.TrainSpec, undirected bool, out io.Writer) error {
	var err error
	if r.set, err = data.LoadGraphs(spec.Data); err != nil {
		return err
	}
	if spec.Test != nil {
		if r.testSet, err = data.LoadGraphs(*spec.Test); err != nil {
			return err
		}
	}
	// Checked against the model now, not inside the first step or after an epoch.
	for i, s := range []*data.GraphSet{r.set, r.testSet} {
		if s != nil && s.Len() > 0 {
			ds := spec.Data
			if i == 1 {
				ds = *spec.Test
			}
			if errs := CheckData(r.tr.Module, i == 1, graphDims(ds, s.Graphs[0], s.Classes)); len(errs) > 0 {
				return errs[0]
			}
		}
	}
	if undirected {
		for _, s := range []*data.GraphSet{r.set, r.testSet} {
			if s != nil {
				for i, g := range s.Graphs {
					s.Graphs[i] = g.Undirected()
				}
			}
		}
	}
	if r.set.Classes == 0 {
		return fmt.Errorf("%s: %s has no graph classes to learn", spec.Data.Pos, r.set.Name)
	}
	if err := r.validationGraphs(spec, undirected); err != nil {
		return err
	}
	r.id = identify(r.task.String(), nil, r.set)
	fmt.Fprintf(out, "training %s: %d graphs, batch %d, %d epochs, %s\n", phasesString(r.tr), r.set.Len(), spec.Batch, spec.Epochs, optString(r.tr))
	return nil
}

// splitNodes splits a node task's graph into the labelled nodes, which the loss covers,
// and the evaluated ones, every other node with a known label.
func (r *graphRun) splitNodes(spec *ir.TrainSpec, out io.Writer) error {
	g := r.g
	split, err := nodeSplit(spec, spec.Seed)
	if err != nil {
		return err
	}
	if r.train, r.test, err = data.SplitNodes(g, split); err != nil {
		return fmt.Errorf("%s: labelled: %v", spec.Pos, err)
	}
	if len(r.test) == 0 {
		// Every labelled node trains: an epoch's test metrics would be of no nodes.
		return fmt.Errorf("%s: labelled: all %d nodes with a label in %s train, so no nodes are left to evaluate; leave some out of labelled (their labels are the test set)",
			spec.Pos, len(r.train), data.Describe(spec.Data))
	}
	if err := r.validationNodes(spec); err != nil {
		return err
	}
	r.ytr, _ = oneHot(g.Labels, r.train, g.Classes)
	r.yte, _ = oneHot(g.Labels, r.test, g.Classes)
	fmt.Fprintf(out, "training %s: %d nodes, %d edges, %d labelled, %d evaluated, %d epochs, %s\n",
		phasesString(r.tr), g.N, g.E(), len(r.train), len(r.test), spec.Epochs, optString(r.tr))
	return nil
}

// splitEdges holds out a link task's test pairs (the test_edges fraction of the edges, and
// as many non-edges) and keeps the training graph, whose edges, each node pair once, are
// the positive pairs of every step.
func (r *graphRun) splitEdges(spec *ir.TrainSpec, undirected bool, out io.Writer) error {
	g := r.g
	train, test, err := data.SplitEdges(g, spec.Graph.TestEdges, uint64(spec.Seed))
	if err != nil {
		return fmt.Errorf("%s: test_edges: %v", spec.Pos, err)
	}
	r.index = data.NewEdgeIndex(g)
	r.testPairs = test
	if train, err = r.validationEdges(spec, train); err != nil {
		return err
	}
	for e, s := range train.Src {
		d := train.Dst[e]
		if s == d || undirected && s > d {
			continue // each node pair once; no self loops
		}
		r.pos.Src = append(r.pos.Src, s)
		r.pos.Dst = append(r.pos.Dst, d)
		r.pos.Label = append(r.pos.Label, 1)
	}
	r.g = train
	fmt.Fprintf(out, "training %s: %d nodes, %d training edges (%d pairs), %d held-out pairs and as many non-edges, %d epochs, %s\n",
		phasesString(r.tr), g.N, train.E(), r.pos.Len(), test.Len()/2, spec.Epochs, optString(r.tr))
	return nil
}

// splitEdgeTargets holds out an edge task's test pairs: the test_edges fraction of the
// edges with a known target. The graph keeps every edge; only the targets are split.
func (r *graphRun) splitEdgeTargets(spec *ir.TrainSpec, undirected bool, out io.Writer) error {
	g := r.g
	var err error
	if r.pos, r.testPairs, err = data.SplitEdgeTargets(g, spec.Graph.TestEdges, uint64(spec.Seed), undirected); err != nil {
		return fmt.Errorf("%s: test_edges: %v", spec.Pos, err)
	}
	if _, _, err := r.edgeTargets(spec.Phases[0].Step, r.pos); err != nil {
		return err
	}
	what := "values"
	if g.EdgeClasses > 0 {
		what = fmt.Sprintf("%d classes", g.EdgeClasses)
	}
	fmt.Fprintf(out, "training %s: %d nodes, %d edges, edge targets (%s) on %d training and %d held-out pairs, %d epochs, %s\n",
		phasesString(r.tr), g.N, g.E(), what, r.pos.Len(), r.testPairs.Len(), spec.Epochs, optString(r.tr))
	return nil
}

// edgeTargets is what function fn's input y gets for the pairs p: one-hot rows [P, C]
// when it is [P, C] with C > 1 (the data's edge classes, C of them), else the targets as
// they are, [P] or [P, 1].
func (r *graphRun) edgeTargets(fn string, p data.Pairs) ([]float32, []int, error) {
	g := r.g
	f := r.tr.Module.Func(fn)
	var ys ir.Shape
	for _, in := range f.Inputs {
		if k, _ := r.tr.Spec.Feed(in.Name); k == ir.FeedTargets {
			ys = in.Type.Shape
		}
	}
	if len(ys) == 2 && !ys[1].Equal(ir.Const(1)) {
		c, ok := ys[1].Coef, ys[1].IsConst()
		switch {
		case g.EdgeClasses == 0:
			return nil, nil, fmt.Errorf("%s: the model predicts %v classes per pair, but the data's edge targets are values: want one value per pair, [P] or [P, 1]", r.tr.Spec.Data.Pos, ys[1])
		case !ok || int(c) != g.EdgeClasses:
			return nil, nil, fmt.Errorf("%s: the model predicts %v classes per pair, the data's edges have %d classes", r.tr.Spec.Data.Pos, ys[1], g.EdgeClasses)
		}
		labels := make([]int32, p.Len())
		for i, y := range p.Label {
			labels[i] = int32(y)
		}
		y, shape := oneHot(labels, nil, g.EdgeClasses)
		return y, shape, nil
	}
	shape := []int{p.Len()}
	if len(ys) == 2 {
		shape = append(shape, 1)
	}
	return p.Label, shape, nil
}

func (r *graphRun) hasTest() bool {
	switch r.task {
	case ir.TaskNode:
		return len(r.test) > 0
	case ir.TaskLink, ir.TaskEdge:
		return r.testPairs.Len() > 0
	}
	return r.testSet != nil
}

// nodeSplit reads the spec's labelled setting.
func nodeSplit(spec *ir.TrainSpec, seed int64) (data.NodeSplit, error) {
	s := data.NodeSplit{Seed: uint64(seed)}
	v := spec.Graph.Labelled
	if v == nil {
		return s, fmt.Errorf("%s: train: a node-level task needs labelled = per_class(k), fraction(f) or nodes([…])", spec.Pos)
	}
	s.PerClass, s.Fraction, s.Nodes = v.PerClass, v.Fraction, v.Nodes
	return s, nil
}

// checkMemory prints the run's memory estimate at the loaded graph's sizes and refuses a
// run whose estimate exceeds o.MaxMemory.
func (r *graphRun) checkMemory(o RunOptions, out io.Writer) error {
	e, err := r.memory()
	if err != nil {
		return err
	}
	return r.reportMemory(o, out, e)
}

// checkMemoryAt is checkMemory with the programs fed what inputs makes (memoryAt).
func (r *graphRun) checkMemoryAt(o RunOptions, out io.Writer, inputs func(fn string) (map[string]*runtime.Tensor, error)) error {
	e, err := r.memoryAt(inputs)
	if err != nil {
		return err
	}
	return r.reportMemory(o, out, e)
}

// reportMemory prints a graph run's estimate and refuses it above o.MaxMemory.
func (r *graphRun) reportMemory(o RunOptions, out io.Writer, e runtime.MemoryEstimate) error {
	fmt.Fprintf(out, "memory at %s: %s (parameters %s, optimiser %s, activations %s, segment indexes %s), besides the graph's own arrays\n",
		runtime.EnvString(e.Dims, "="), runtime.FormatBytes(e.Total()), runtime.FormatBytes(e.Params), runtime.FormatBytes(e.Optim), runtime.FormatBytes(e.Activ), runtime.FormatBytes(e.Index))
	if o.MaxMemory > 0 && e.Total() > o.MaxMemory {
		return fmt.Errorf("%s: the run needs an estimated %s at %s, more than --max-memory %s; use a smaller graph or narrower layers, or raise the limit",
			o.Source, runtime.FormatBytes(e.Total()), runtime.EnvString(e.Dims, "="), runtime.FormatBytes(o.MaxMemory))
	}
	return nil
}

// graphDims describes a loaded graph (or the first of a set, with the set's classes) as
// CheckData takes it, named by the train block's call of its source.
func graphDims(spec ir.DataSpec, g *data.Graph, classes int) data.Dims {
	d := data.GraphDims(g, classes)
	d.What = data.Describe(spec)
	return d
}
