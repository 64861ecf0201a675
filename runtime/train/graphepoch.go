package train

import (
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/data"
)

// A graph run's steps and evaluation: for one graph (node and link tasks) an epoch is one
// full-graph step; a set of graphs steps in batches through the pass of epoch.go
// (graphSetTask), fed by batchInputs; then the evaluation, by task.

// fullGraphStep is a node or link task's epoch: one step on the whole graph, the loss
// covering the labelled nodes, or the training edges against as many fresh non-edges. It
// returns the loss and the nodes or pairs it covered.
func (r *graphRun) fullGraphStep() (float64, int, error) {
	t := r.tr
	ph := t.Spec.Phases[0]
	var in map[string]*runtime.Tensor
	var err error
	samples := len(r.train)
	switch r.task {
	case ir.TaskNode:
		in, err = t.graphInputs(ph.Step, r.feed, nil, r.train, r.ytr, []int{len(r.train), r.g.Classes})
	case ir.TaskEdge:
		samples = r.pos.Len()
		y, shape, yerr := r.edgeTargets(ph.Step, r.pos)
		if yerr != nil {
			return 0, 0, yerr
		}
		in, err = t.graphInputs(ph.Step, r.feed, &r.pos, nil, y, shape)
	default:
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
	return r.evaluateOn(r.test, r.yte, r.testPairs, r.testSet)
}

// validate returns the loss and metrics on the validation data, which hasValidation says
// the run has.
func (r *graphRun) validate() (float64, map[string]float64, error) {
	return r.evaluateOn(r.val, r.yval, r.valPairs, r.valSet)
}

func (r *graphRun) hasValidation() bool {
	switch r.task {
	case ir.TaskNode:
		return len(r.val) > 0
	case ir.TaskLink:
		return r.valPairs.Len() > 0
	}
	return r.valSet != nil
}

// evaluateOn evaluates as the task says: on the nodes with targets y (node), the pairs
// (link) or the set of graphs (graph).
func (r *graphRun) evaluateOn(nodes []int32, y []float32, pairs data.Pairs, set *data.GraphSet) (float64, map[string]float64, error) {
	t := r.tr
	switch r.task {
	case ir.TaskNode:
		in, err := t.graphInputs(t.Spec.Eval, r.feed, nil, nodes, y, []int{len(nodes), r.g.Classes})
		if err != nil {
			return 0, nil, err
		}
		loss, m, _, err := t.graphEval(in)
		return loss, m, err
	case ir.TaskEdge:
		y, shape, err := r.edgeTargets(t.Spec.Eval, r.testPairs)
		if err != nil {
			return 0, nil, err
		}
		in, err := t.graphInputs(t.Spec.Eval, r.feed, &r.testPairs, nil, y, shape)
		if err != nil {
			return 0, nil, err
		}
		loss, m, _, err := t.graphEval(in)
		return loss, m, err
	case ir.TaskLink:
		p := pairs
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
	n := set.Len()
	var sum float64
	ms := map[string]float64{}
	for lo := 0; lo < n; lo += t.Spec.Batch {
		idx := make([]int, 0, t.Spec.Batch)
		for i := lo; i < min(lo+t.Spec.Batch, n); i++ {
			idx = append(idx, i)
		}
		in, err := r.batchInputs(t.Spec.Eval, set, idx)
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
