package train

import (
	"fmt"
	"github.com/dlc-lang/dlc/ir"

	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/data"
)

// An epoch of a graph run, by task: for one graph (node and link tasks) one full-graph
// step, for a set of graphs a pass over it in batches; and the evaluation after it.

// epochFrom trains one epoch, or what is left of it after p, which it updates as it
// goes. It returns the mean loss and the samples (nodes, pairs or graphs) the epoch has
// seen, and whether it completed: it stops early when maxSteps optimiser steps have been
// taken in all (maxSteps > 0) or stop, asked before every step, says true. step, if not
// nil, is told after every step the graphs done of the epoch's total (for a set of graphs)
// and the running mean loss. The generator must be in its state at the epoch's start.
func (r *graphRun) epochFrom(p *EpochProgress, maxSteps int, stop func() bool, step func(done, total int, loss float64)) (float64, int, bool, error) {
	t := r.tr
	if p.LossSums == nil {
		p.LossSums, p.LossRuns = map[string]float64{}, map[string]int{}
	}
	halt := func() bool { return (maxSteps > 0 && t.Steps >= maxSteps) || (stop != nil && stop()) }
	if r.task != ir.TaskGraph {
		if halt() {
			return 0, 0, false, nil
		}
		loss, samples, err := r.fullGraphStep()
		if err != nil {
			return 0, 0, false, err
		}
		if step != nil {
			step(1, 1, loss)
		}
		return loss, samples, true, nil
	}
	return r.setEpochFrom(p, halt, step)
}

// fullGraphStep is a node or link task's epoch: one step on the whole graph, the loss
// covering the labelled nodes, or the training edges against as many fresh non-edges. It
// returns the loss and the nodes or pairs it covered.
func (r *graphRun) fullGraphStep() (float64, int, error) {
	t := r.tr
	ph := t.Spec.Phases[0]
	var in map[string]*runtime.Tensor
	var err error
	samples := len(r.train)
	if r.task == ir.TaskNode {
		in, err = t.graphInputs(ph.Step, r.feed, nil, r.train, r.ytr, []int{len(r.train), r.g.Classes})
	} else {
		pairs := data.Pairs{Src: append([]int32{}, r.pos.Src...), Dst: append([]int32{}, r.pos.Dst...), Label: append([]float32{}, r.pos.Label...)}
		if pairs, err = r.index.NonEdges(pairs, r.pos.Len(), r.rng); err != nil {
			return 0, 0, err
		}
		samples = pairs.Len()
		in, err = t.graphInputs(ph.Step, r.feed, &pairs, nil, pairs.Label, r.scoreShape(pairs.Len()))
	}
	if err != nil {
		return 0, 0, err
	}
	loss, _, err := t.runPhase(0, in)
	if err != nil {
		return 0, 0, err
	}
	return loss, samples, nil
}

// setEpochFrom is a graph task's epoch after p: a pass over the set of graphs in batches
// of spec.Batch graphs, in an order drawn from the run's generator, until halt says stop.
func (r *graphRun) setEpochFrom(p *EpochProgress, halt func() bool, step func(done, total int, loss float64)) (float64, int, bool, error) {
	t := r.tr
	ph := t.Spec.Phases[0]
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

// graphEval runs the evaluation function on the given inputs and returns its loss, its
// metrics and, for link prediction, its scores.
func (t *Trainer) graphEval(in map[string]*runtime.Tensor) (float64, map[string]float64, []float32, error) {
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
		if kind, k := ir.ParseOutputName(name); kind == ir.OutMetric {
			m[k] = float64(v.Data[0])
		}
	}
	var score []float32
	if s, ok := outs["score"]; ok {
		score = append(score, s.Data...)
	}
	return float64(outs["loss"].Data[0]), m, score, nil
}

// evaluate returns the test loss and metrics: accuracy for classification, AUROC for link
// prediction.
func (r *graphRun) evaluate() (float64, map[string]float64, error) {
	t := r.tr
	switch r.task {
	case ir.TaskNode:
		in, err := t.graphInputs(t.Spec.Eval, r.feed, nil, r.test, r.yte, []int{len(r.test), r.g.Classes})
		if err != nil {
			return 0, nil, err
		}
		loss, m, _, err := t.graphEval(in)
		return loss, m, err
	case ir.TaskLink:
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
