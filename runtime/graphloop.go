package runtime

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/data"
	"github.com/dlc-lang/dlc/runtime/report"
)

// Training a model that takes a graph (train spec family "graph"; compiler/graphtask.go
// lowers its functions). Extra["task"] says the level:
//
//   - node: one full-graph step per epoch. The loss covers the labelled nodes (the spec's
//     "labelled" split: explicit nodes, k per class, or a fraction, drawn with the run's
//     seed); evaluation covers every other node with a known label.
//   - graph: the data is a set of small graphs; an epoch is a pass over them in batches of
//     spec.Batch graphs, each batch their disjoint union. The test set is the test source.
//   - link: SplitEdges holds out the "test_edges" fraction of the edges with as many
//     sampled non-edges; each epoch is one full-graph step scoring every training edge
//     against as many fresh non-edges. The test metric is the AUROC of the held-out pairs.
//
// The functions' inputs are fed by name: the features parameter (spec.Inputs[0]) gets the
// node features; GRAPH_src, GRAPH_dst, GRAPH_edge, GRAPH_graph, GRAPH_count the graph's
// (GRAPH = spec.Inputs[1]); PAIRS_src, PAIRS_dst the pairs (PAIRS = spec.Inputs[2]);
// nodes and y the rows the loss covers and their one-hot targets.

// graphFeed holds the tensors of one graph (or one batch of graphs), made once and reused.
type graphFeed struct {
	x, src, dst, edge, ids, count *Tensor
}

func newGraphFeed(g *data.Graph) (*graphFeed, error) {
	f := &graphFeed{}
	var err error
	if f.x, err = FromData([]int{g.N, g.F}, g.X); err != nil {
		return nil, err
	}
	if f.src, err = FromInts([]int{g.E()}, g.Src); err != nil {
		return nil, err
	}
	if f.dst, err = FromInts([]int{g.E()}, g.Dst); err != nil {
		return nil, err
	}
	if g.Fe > 0 {
		if f.edge, err = FromData([]int{g.E(), g.Fe}, g.EdgeX); err != nil {
			return nil, err
		}
	}
	ids := g.GraphID
	graphs := g.Graphs
	if ids == nil {
		ids, graphs = make([]int32, g.N), 1
	}
	if f.ids, err = FromInts([]int{g.N}, ids); err != nil {
		return nil, err
	}
	counts := make([]int32, graphs)
	for _, id := range ids {
		counts[id]++
	}
	if f.count, err = FromInts([]int{graphs}, counts); err != nil {
		return nil, err
	}
	return f, nil
}

// graphInputs names the tensors of a feed for function fn.
func (t *Trainer) graphInputs(fn string, f *graphFeed, pairs *data.Pairs, nodes []int32, y []float32, yShape []int) (map[string]*Tensor, error) {
	fun := t.Module.Func(fn)
	if fun == nil {
		return nil, fmt.Errorf("runtime: no function %s in the module", fn)
	}
	names := t.Spec.Inputs
	gname, qname := "", ""
	if len(names) > 1 {
		gname = names[1]
	}
	if len(names) > 2 {
		qname = names[2]
	}
	in := map[string]*Tensor{}
	for _, i := range fun.Inputs {
		var v *Tensor
		var err error
		switch n := i.Name; {
		case n == names[0]:
			v = f.x
		case n == gname+"_src":
			v = f.src
		case n == gname+"_dst":
			v = f.dst
		case n == gname+"_edge":
			v = f.edge
			if v == nil {
				return nil, fmt.Errorf("%s: the model's graph has edge features, the data's graph has none", t.Spec.Data.Pos)
			}
		case n == gname+"_graph":
			v = f.ids
		case n == gname+"_count":
			v = f.count
		case qname != "" && n == qname+"_src":
			v, err = FromInts([]int{pairs.Len()}, pairs.Src)
		case qname != "" && n == qname+"_dst":
			v, err = FromInts([]int{pairs.Len()}, pairs.Dst)
		case n == "nodes":
			v, err = FromInts([]int{len(nodes)}, nodes)
		case n == "y":
			v, err = FromData(yShape, y)
		default:
			return nil, fmt.Errorf("runtime: function %s: no data feeds input %s", fn, n)
		}
		if err != nil {
			return nil, err
		}
		in[i.Name] = v
	}
	return in, nil
}

// oneHot returns the one-hot rows of labels[rows] (all of labels when rows is nil).
func oneHot(labels []int32, rows []int32, classes int) ([]float32, []int) {
	n := len(labels)
	if rows != nil {
		n = len(rows)
	}
	y := make([]float32, n*classes)
	for i := 0; i < n; i++ {
		c := labels[i]
		if rows != nil {
			c = labels[rows[i]]
		}
		y[i*classes+int(c)] = 1
	}
	return y, []int{n, classes}
}

// graphEval runs the evaluation function on the given inputs and returns its loss, its
// metrics and, for link prediction, its scores.
func (t *Trainer) graphEval(in map[string]*Tensor) (float64, map[string]float64, []float32, error) {
	prog, err := t.Program(t.Spec.Eval)
	if err != nil {
		return 0, nil, nil, err
	}
	outs, err := prog.Run(in, t.Vars)
	if err != nil {
		return 0, nil, nil, err
	}
	m := map[string]float64{}
	for name, v := range outs {
		if k, ok := strings.CutPrefix(name, "metric:"); ok {
			m[k] = float64(v.Data[0])
		}
	}
	var score []float32
	if s, ok := outs["score"]; ok {
		score = append(score, s.Data...)
	}
	return float64(outs["loss"].Data[0]), m, score, nil
}

// nodeSplit reads the spec's labelled setting.
func nodeSplit(spec *ir.TrainSpec, seed int64) (data.NodeSplit, error) {
	s := data.NodeSplit{Seed: uint64(seed)}
	v, ok := spec.Extra["labelled"]
	if !ok {
		return s, fmt.Errorf("%s: train: a node-level task needs labelled = per_class(k), fraction(f) or nodes([…])", spec.Pos)
	}
	f := strings.Fields(v)
	switch f[0] {
	case "per_class":
		s.PerClass, _ = strconv.Atoi(f[1])
	case "fraction":
		s.Fraction, _ = strconv.ParseFloat(f[1], 64)
	case "nodes":
		for _, w := range f[1:] {
			n, _ := strconv.Atoi(w)
			s.Nodes = append(s.Nodes, int32(n))
		}
	}
	return s, nil
}

// TrainGraph runs the train spec of a graph model as o says. It starts, resumes and
// interrupts as Train does (graphresume.go says what a graph run's checkpoint adds).
func TrainGraph(tr *Trainer, o RunOptions) error {
	spec := tr.Spec
	if o.Epochs >= 0 {
		spec.Epochs = o.Epochs
	}
	if o.Seed >= 0 {
		spec.Seed = o.Seed
	}
	spec.Shuffle = spec.Shuffle && !o.NoShuffle
	tr.CheckFinite = o.CheckFinite
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	if err := checkOutputs(o, spec); err != nil {
		return err
	}
	run, resumed, first, progress, err := startGraphRun(tr, o, spec, out)
	if err != nil {
		return err
	}
	task := run.task
	var metrics *os.File
	if o.Metrics != "" {
		// A resumed run continues its metrics file when given the same one.
		flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if resumed {
			flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
		}
		if metrics, err = os.OpenFile(o.Metrics, flags, 0o644); err != nil {
			return fmt.Errorf("--metrics: %v", err)
		}
		defer metrics.Close()
	}
	e, err := run.memory()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "memory at %s: %s (parameters %s, optimiser %s, activations %s, segment indexes %s), besides the graph's own arrays\n",
		dimsString(e.Dims), FormatBytes(e.Total()), FormatBytes(e.Params), FormatBytes(e.Optim), FormatBytes(e.Activ), FormatBytes(e.Index))
	if o.MaxMemory > 0 && e.Total() > o.MaxMemory {
		return fmt.Errorf("%s: the run needs an estimated %s at %s, more than --max-memory %s; use a smaller graph or narrower layers, or raise the limit",
			o.Source, FormatBytes(e.Total()), dimsString(e.Dims), FormatBytes(o.MaxMemory))
	}
	// Progress: for a set of graphs, the graphs done of each epoch after every step, as a
	// supervised run reports its samples; for one graph, whose epoch is one step, the epochs
	// done of the run, before the step (so that a bar shows during it) and after. The
	// callback and its map are made once: a full-graph epoch is one step.
	var epoch int
	var step func(done, total int, loss float64)
	losses := map[string]float64{}
	if o.Progress != nil {
		phase := spec.Phases[0].Name
		step = func(done, total int, loss float64) {
			losses[phase] = loss
			if task != "graph" {
				done, total = epoch, spec.Epochs
			}
			o.Progress(epoch, done, total, losses)
		}
	}
	stay, saved := standing(tr, spec, first-1, run.pcg, progress), false
	stay.Graph = run.id
	var trainCurve, testCurve []float64
	for epoch = first; epoch <= spec.Epochs; epoch++ {
		if o.Steps > 0 && tr.Steps >= o.Steps {
			break
		}
		// The generator's state before the epoch's draws rebuilds them on resume.
		rngStart, _ := run.pcg.MarshalBinary()
		start := time.Now()
		if o.Progress != nil && task != "graph" {
			o.Progress(epoch, epoch-1, spec.Epochs, losses)
		}
		loss, samples, complete, err := run.epochFrom(progress, o.Steps, o.Stop, step)
		secs := time.Since(start).Seconds()
		if o.EpochDone != nil {
			o.EpochDone()
		}
		if err != nil {
			return err
		}
		// Where a checkpoint written now continues: after this epoch, or inside it.
		here := &runState{Seed: spec.Seed, Shuffle: spec.Shuffle, Steps: tr.Steps, Epoch: epoch, Cursor: tr.cursor, Turns: tr.turns, Runs: tr.programRuns(), Graph: run.id}
		if complete {
			here.RNG, _ = run.pcg.MarshalBinary()
		} else {
			here.Epoch, here.RNG, here.Progress = epoch-1, rngStart, progress
		}
		progress = &EpochProgress{}
		if o.Stop != nil && o.Stop() && !complete {
			if task == "graph" {
				fmt.Fprintf(out, "interrupted at step %d (epoch %d, %d of %d graphs)\n", tr.Steps, epoch, samples, run.set.Len())
			} else {
				fmt.Fprintf(out, "interrupted at step %d, after epoch %d\n", tr.Steps, epoch-1)
			}
			if o.Save != "" {
				if err := saveCheckpoint(tr, o.Save, o.Source, here); err != nil {
					return err
				}
				fmt.Fprintf(out, "wrote weights and training state to %s; continue with --resume %s\n", o.Save, o.Save)
			}
			return ErrInterrupted
		}
		rec := EpochRecord{Epoch: epoch, TrainLoss: loss, Seconds: secs, Samples: samples, Steps: tr.Steps}
		line := fmt.Sprintf("epoch %d/%d  train_loss %.5f", epoch, spec.Epochs, loss)
		if run.hasTest() {
			tl, m, err := run.evaluate()
			if err != nil {
				return err
			}
			rec.TestLoss, rec.TestMetrics = &tl, m
			line += fmt.Sprintf("  test_loss %.5f", tl) + namedString("test_", m)
			testCurve = append(testCurve, tl)
		}
		trainCurve = append(trainCurve, loss)
		line += fmt.Sprintf("  %.3fs", secs)
		fmt.Fprintln(out, line)
		if metrics != nil {
			b, _ := json.Marshal(rec)
			if _, err := fmt.Fprintf(metrics, "%s\n", b); err != nil {
				return fmt.Errorf("--metrics: %v", err)
			}
		}
		if o.Save != "" {
			if complete {
				// A resumed run redoes an incomplete epoch's evaluation, not a complete one's.
				here.withRuns(tr)
			}
			if err := saveCheckpoint(tr, o.Save, o.Source, here); err != nil {
				return err
			}
			saved = true
		}
	}
	if spec.Epochs == 0 && run.hasTest() {
		tl, m, err := run.evaluate()
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "evaluation  test_loss %.5f%s\n", tl, namedString("test_", m))
	}
	if o.Save != "" {
		if !saved {
			if err := saveCheckpoint(tr, o.Save, o.Source, stay); err != nil {
				return err
			}
		}
		fmt.Fprintf(out, "wrote weights to %s\n", o.Save)
	}
	return graphLossCurve(o, trainCurve, testCurve, out)
}

// graphLossCurve writes a graph run's picture, its loss curve (the test curve is the
// evaluated nodes', the held-out pairs' or the test graphs'), when o asks for pictures.
func graphLossCurve(o RunOptions, trainCurve, testCurve []float64, out io.Writer) error {
	if o.OutDir == "" || len(trainCurve) == 0 {
		return nil
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return err
	}
	base := strings.TrimSuffix(filepath.Base(o.Source), filepath.Ext(o.Source))
	series := map[string][]float64{"train": trainCurve}
	if len(testCurve) == len(trainCurve) {
		series["test"] = testCurve
	}
	path := filepath.Join(o.OutDir, base+"-loss.png")
	if err := report.LossCurve(path, base+": loss per epoch", series); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote loss curve to %s\n", path)
	return nil
}

// graphRun is one task's data, split and feeds.
type graphRun struct {
	tr   *Trainer
	task string
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
	pos       data.Pairs // the training graph's edges, each once
	testPairs data.Pairs
	// graph
	set, testSet *data.GraphSet
	batch        data.Graph
}

func newGraphRun(tr *Trainer, task string, spec *ir.TrainSpec, out io.Writer) (*graphRun, error) {
	r := &graphRun{tr: tr, task: task, pcg: rand.NewPCG(uint64(spec.Seed), 0x6772756e)}
	r.rng = rand.New(r.pcg)
	undirected := spec.Extra["undirected"] == "true"
	if task == "graph" {
		var err error
		if r.set, err = data.LoadGraphs(spec.Data); err != nil {
			return nil, err
		}
		if spec.Test != nil {
			if r.testSet, err = data.LoadGraphs(*spec.Test); err != nil {
				return nil, err
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
			return nil, fmt.Errorf("%s: %s has no graph classes to learn", spec.Data.Pos, r.set.Name)
		}
		r.id = identify(task, nil, r.set)
		fmt.Fprintf(out, "training %s: %d graphs, batch %d, %d epochs, %s\n", phasesString(tr), r.set.Len(), spec.Batch, spec.Epochs, optString(tr))
		return r, nil
	}
	if spec.Test != nil {
		return nil, fmt.Errorf("%s: train: a %s-level task evaluates on its own graph (the unlabelled nodes, or the held-out edges); drop test = …", spec.Test.Pos, task)
	}
	g, err := data.LoadGraph(spec.Data)
	if err != nil {
		return nil, err
	}
	if undirected && !g.Symmetric() {
		g = g.Undirected()
	}
	r.g = g
	r.id = identify(task, g, nil)
	switch task {
	case "node":
		split, err := nodeSplit(spec, spec.Seed)
		if err != nil {
			return nil, err
		}
		if r.train, r.test, err = data.SplitNodes(g, split); err != nil {
			return nil, fmt.Errorf("%s: labelled: %v", spec.Pos, err)
		}
		r.ytr, _ = oneHot(g.Labels, r.train, g.Classes)
		r.yte, _ = oneHot(g.Labels, r.test, g.Classes)
		fmt.Fprintf(out, "training %s: %d nodes, %d edges, %d labelled, %d evaluated, %d epochs, %s\n",
			phasesString(tr), g.N, g.E(), len(r.train), len(r.test), spec.Epochs, optString(tr))
	case "link":
		frac, err := strconv.ParseFloat(spec.Extra["test_edges"], 64)
		if err != nil {
			frac = 0.1
		}
		train, test, err := data.SplitEdges(g, frac, uint64(spec.Seed))
		if err != nil {
			return nil, fmt.Errorf("%s: test_edges: %v", spec.Pos, err)
		}
		r.index = data.NewEdgeIndex(g)
		r.testPairs = test
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
			phasesString(tr), g.N, train.E(), r.pos.Len(), test.Len()/2, spec.Epochs, optString(tr))
	default:
		return nil, fmt.Errorf("runtime: graph task %q, want node, graph or link", task)
	}
	if r.feed, err = newGraphFeed(r.g); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *graphRun) hasTest() bool {
	switch r.task {
	case "node":
		return len(r.test) > 0
	case "link":
		return r.testPairs.Len() > 0
	}
	return r.testSet != nil
}

// epochFrom trains one epoch, or what is left of it after p, which it updates as it
// goes. It returns the mean loss and the samples (nodes, pairs or graphs) the epoch has
// seen, and whether it completed: it stops early when maxSteps optimiser steps have been
// taken in all (maxSteps > 0) or stop, asked before every step, says true. step, if not
// nil, is told after every step the graphs done of the epoch's total (for a set of graphs)
// and the running mean loss. The generator must be in its state at the epoch's start.
func (r *graphRun) epochFrom(p *EpochProgress, maxSteps int, stop func() bool, step func(done, total int, loss float64)) (float64, int, bool, error) {
	t := r.tr
	ph := t.Spec.Phases[0]
	if p.LossSums == nil {
		p.LossSums, p.LossRuns = map[string]float64{}, map[string]int{}
	}
	halt := func() bool { return (maxSteps > 0 && t.Steps >= maxSteps) || (stop != nil && stop()) }
	if r.task != "graph" {
		if halt() {
			return 0, 0, false, nil
		}
		var in map[string]*Tensor
		var err error
		samples := len(r.train)
		if r.task == "node" {
			in, err = t.graphInputs(ph.Step, r.feed, nil, r.train, r.ytr, []int{len(r.train), r.g.Classes})
		} else {
			pairs := data.Pairs{Src: append([]int32{}, r.pos.Src...), Dst: append([]int32{}, r.pos.Dst...), Label: append([]float32{}, r.pos.Label...)}
			if pairs, err = r.index.NonEdges(pairs, r.pos.Len(), r.rng); err != nil {
				return 0, 0, false, err
			}
			samples = pairs.Len()
			in, err = t.graphInputs(ph.Step, r.feed, &pairs, nil, pairs.Label, r.scoreShape(pairs.Len()))
		}
		if err != nil {
			return 0, 0, false, err
		}
		loss, _, err := t.runPhase(0, in)
		if err != nil {
			return 0, 0, false, err
		}
		if step != nil {
			step(1, 1, loss)
		}
		return loss, samples, true, nil
	}
	n := r.set.Len()
	if p.Samples < 0 || p.Samples > n {
		return 0, 0, false, fmt.Errorf("runtime: epoch progress of %d graphs, the data has %d", p.Samples, n)
	}
	order := r.rng.Perm(n)
	if !t.Spec.Shuffle {
		for i := range order {
			order[i] = i
		}
	}
	// The mean is over graphs: each batch's loss counts once per graph in it.
	for p.Samples < n {
		if halt() {
			return p.LossSums[ph.Name] / float64(max(p.Samples, 1)), p.Samples, false, nil
		}
		idx := order[p.Samples:min(p.Samples+t.Spec.Batch, n)]
		in, err := r.batchInputs(ph.Step, r.set, idx)
		if err != nil {
			return 0, 0, false, err
		}
		loss, _, err := t.runPhase(0, in)
		if err != nil {
			return 0, 0, false, err
		}
		p.Samples += len(idx)
		p.Steps++
		p.LossSums[ph.Name] += loss * float64(len(idx))
		p.LossRuns[ph.Name]++
		if step != nil {
			step(p.Samples, n, p.LossSums[ph.Name]/float64(p.Samples))
		}
	}
	return p.LossSums[ph.Name] / float64(n), n, true, nil
}

// scoreShape is the shape of the pairs' targets: the model's score shape.
func (r *graphRun) scoreShape(p int) []int {
	f := r.tr.Module.Func(r.tr.Spec.Eval)
	for _, in := range f.Inputs {
		if in.Name == "y" && len(in.Type.Shape) == 2 {
			return []int{p, 1}
		}
	}
	return []int{p}
}

func (r *graphRun) batchInputs(fn string, set *data.GraphSet, idx []int) (map[string]*Tensor, error) {
	b := set.Batch(&r.batch, idx)
	feed, err := newGraphFeed(b)
	if err != nil {
		return nil, err
	}
	y, shape := oneHot(b.GraphLabels, nil, set.Classes)
	return r.tr.graphInputs(fn, feed, nil, nil, y, shape)
}

// evaluate returns the test loss and metrics: accuracy for classification, AUROC for link
// prediction.
func (r *graphRun) evaluate() (float64, map[string]float64, error) {
	t := r.tr
	switch r.task {
	case "node":
		in, err := t.graphInputs(t.Spec.Eval, r.feed, nil, r.test, r.yte, []int{len(r.test), r.g.Classes})
		if err != nil {
			return 0, nil, err
		}
		loss, m, _, err := t.graphEval(in)
		return loss, m, err
	case "link":
		p := r.testPairs
		in, err := t.graphInputs(t.Spec.Eval, r.feed, &p, nil, p.Label, r.scoreShape(p.Len()))
		if err != nil {
			return 0, nil, err
		}
		loss, m, score, err := t.graphEval(in)
		if err != nil {
			return 0, nil, err
		}
		m["auroc"], err = PairsAUROC(score, p)
		return loss, m, err
	}
	n := r.testSet.Len()
	var sum float64
	ms := map[string]float64{}
	for lo := 0; lo < n; lo += t.Spec.Batch {
		idx := make([]int, 0, t.Spec.Batch)
		for i := lo; i < min(lo+t.Spec.Batch, n); i++ {
			idx = append(idx, i)
		}
		in, err := r.batchInputs(t.Spec.Eval, r.testSet, idx)
		if err != nil {
			return 0, nil, err
		}
		loss, m, _, err := t.graphEval(in)
		if err != nil {
			return 0, nil, err
		}
		w := float64(len(idx))
		sum += loss * w
		for k, v := range m {
			ms[k] += v * w
		}
	}
	for k := range ms {
		ms[k] /= float64(n)
	}
	return sum / float64(n), ms, nil
}
