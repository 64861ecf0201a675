package train

import (
	"sort"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/data"
)

// memory estimates the run at its graph's sizes: each program's symbols bound from the
// inputs it gets (for a set of small graphs, the largest batch).
func (r *graphRun) memory() (runtime.MemoryEstimate, error) {
	t := r.tr
	step := t.Spec.Phases[0].Step
	var stepIn, evalIn map[string]*runtime.Tensor
	var err error
	switch r.task {
	case ir.TaskNode:
		if stepIn, err = t.graphInputs(step, r.feed, nil, r.train, r.ytr, []int{len(r.train), r.g.Classes}); err != nil {
			return runtime.MemoryEstimate{}, err
		}
		evalIn, err = t.graphInputs(t.Spec.Eval, r.feed, nil, r.test, r.yte, []int{len(r.test), r.g.Classes})
	case ir.TaskEdge:
		y, shape, yerr := r.edgeTargets(step, r.pos)
		if yerr != nil {
			return runtime.MemoryEstimate{}, yerr
		}
		if stepIn, err = t.graphInputs(step, r.feed, &r.pos, nil, y, shape); err != nil {
			return runtime.MemoryEstimate{}, err
		}
		if y, shape, err = r.edgeTargets(t.Spec.Eval, r.testPairs); err != nil {
			return runtime.MemoryEstimate{}, err
		}
		evalIn, err = t.graphInputs(t.Spec.Eval, r.feed, &r.testPairs, nil, y, shape)
	case ir.TaskLink:
		n := 2 * r.pos.Len()
		pairs := data.Pairs{Src: make([]int32, n), Dst: make([]int32, n), Label: make([]float32, n)}
		if stepIn, err = t.graphInputs(step, r.feed, &pairs, nil, pairs.Label, r.scoreShape(n)); err != nil {
			return runtime.MemoryEstimate{}, err
		}
		p := r.testPairs
		evalIn, err = t.graphInputs(t.Spec.Eval, r.feed, &p, nil, p.Label, r.scoreShape(p.Len()))
	default:
		if stepIn, err = r.batchInputs(step, r.set, largest(r.set, t.Spec.Batch)); err != nil {
			return runtime.MemoryEstimate{}, err
		}
		if r.testSet != nil {
			evalIn, err = r.batchInputs(t.Spec.Eval, r.testSet, largest(r.testSet, t.Spec.Batch))
		}
	}
	if err != nil {
		return runtime.MemoryEstimate{}, err
	}
	return r.estimate(stepIn, evalIn)
}

// memoryAt estimates the run with its step and evaluation fed what inputs makes for each
// (a sampled run's largest batch).
func (r *graphRun) memoryAt(inputs func(fn string) (map[string]*runtime.Tensor, error)) (runtime.MemoryEstimate, error) {
	stepIn, err := inputs(r.tr.Spec.Phases[0].Step)
	if err != nil {
		return runtime.MemoryEstimate{}, err
	}
	var evalIn map[string]*runtime.Tensor
	if r.hasTest() {
		if evalIn, err = inputs(r.tr.Spec.Eval); err != nil {
			return runtime.MemoryEstimate{}, err
		}
	}
	return r.estimate(stepIn, evalIn)
}

// estimate is the memory of the run's programs bound at the sizes of their inputs.
func (r *graphRun) estimate(stepIn, evalIn map[string]*runtime.Tensor) (runtime.MemoryEstimate, error) {
	t := r.tr
	step := t.Spec.Phases[0].Step
	dims := map[string]map[string]int{step: inputDims(t.Module.Func(step), stepIn)}
	if evalIn != nil {
		dims[t.Spec.Eval] = inputDims(t.Module.Func(t.Spec.Eval), evalIn)
	}
	e, err := runtime.GraphMemory(t.Module, dims)
	e.Dims = dims[step]
	return e, err
}

// largest returns the indices of the batch graphs of s with the most nodes.
func largest(s *data.GraphSet, batch int) []int {
	idx := make([]int, s.Len())
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return s.Graphs[idx[a]].N > s.Graphs[idx[b]].N })
	return idx[:min(batch, len(idx))]
}

// inputDims binds f's symbolic dimensions from the inputs it is given.
func inputDims(f *ir.Func, in map[string]*runtime.Tensor) map[string]int {
	env := map[string]int{}
	var want []ir.Shape
	var got [][]int
	for _, i := range f.Inputs {
		if t, ok := in[i.Name]; ok {
			want = append(want, i.Type.Shape)
			got = append(got, t.Shape)
		}
	}
	runtime.BindSymbols(env, want, got)
	return env
}
