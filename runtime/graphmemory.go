package runtime

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/data"
)

// The memory of a graph run: the programs' planned buffers at the data's sizes
// (GraphMemory), and the segment-index caches the graph kernels keep in each program's Ctx.
//
// A cache entry (kernels_graph_index.go) is built per distinct index a program's segment
// ops read, and per segment count: a copy of the E index values it was built from, their
// permutation by segment (E) and the n+1 segment offsets, all int32; an index that a fused
// gather_segment op reads through also keeps the gather index in segment order and a copy
// of it (2E more). That is 8E + 4(n+1) bytes per index, 16E + 4(n+1) with the columns: at a
// million edges, 16 MB for each index of each program, which the plans do not count.

// indexOperand is the operand of a segment op that the cache indexes, or -1.
func indexOperand(kind string) int {
	switch kind {
	case "segment_sum", "segment_mean", "segment_max", "segment_min":
		return 1
	case "segment_count":
		return 0
	case "segment_argext_grad":
		return 3
	case "gather_segment_sum", "gather_segment_mean":
		return 2
	}
	return -1
}

func rowsDim(o *ir.Op) (ir.Dim, error) {
	if len(o.Type.Shape) == 0 {
		return ir.Dim{}, fmt.Errorf("operand %s is a scalar, want rows", o.Ref())
	}
	return o.Type.Shape[0], nil
}

// indexBytesAt is what the segment-index cache of f's program holds when run with the
// symbols bound by env: one entry per index operand and segment count among the ops the
// program runs.
func indexBytesAt(f *ir.Func, env map[string]int) (int64, error) {
	p, err := Compile(f)
	if err != nil {
		return 0, err
	}
	type key struct {
		idx *ir.Op
		n   int
	}
	type entry struct {
		e    int
		cols bool
	}
	entries := map[key]*entry{}
	var order []key
	for _, s := range p.steps {
		at := indexOperand(s.op.Kind)
		if at < 0 || at >= len(s.op.Args) {
			continue
		}
		var d ir.Dim
		var err error
		if s.op.Kind == "segment_argext_grad" {
			d, err = rowsDim(s.op.Args[2]) // its segments are y's rows
		} else {
			d, err = ir.SegmentCount(s.op.Attrs)
		}
		if err != nil {
			return 0, opErrorf(s.op, "%v", err)
		}
		n, err := d.Eval(env)
		if err != nil {
			return 0, opErrorf(s.op, "%v", err)
		}
		idx := s.op.Args[at]
		if len(idx.Type.Shape) != 1 {
			return 0, opErrorf(s.op, "index operand %d has shape %v, want [E]", at, idx.Type.Shape)
		}
		e, err := idx.Type.Shape[0].Eval(env)
		if err != nil {
			return 0, opErrorf(s.op, "%v", err)
		}
		k := key{idx, n}
		if entries[k] == nil {
			entries[k] = &entry{e: e}
			order = append(order, k)
		}
		entries[k].cols = entries[k].cols || strings.HasPrefix(s.op.Kind, "gather_segment_")
	}
	var total int64
	for _, k := range order {
		c := entries[k]
		per := int64(8)
		if c.cols {
			per = 16
		}
		total += per*int64(c.e) + 4*int64(k.n+1)
	}
	return total, nil
}

// memory estimates the run at its graph's sizes: each program's symbols bound from the
// inputs it gets (for a set of small graphs, the largest batch).
func (r *graphRun) memory() (MemoryEstimate, error) {
	t := r.tr
	step := t.Spec.Phases[0].Step
	var stepIn, evalIn map[string]*Tensor
	var err error
	switch r.task {
	case ir.TaskNode:
		if stepIn, err = t.graphInputs(step, r.feed, nil, r.train, r.ytr, []int{len(r.train), r.g.Classes}); err != nil {
			return MemoryEstimate{}, err
		}
		evalIn, err = t.graphInputs(t.Spec.Eval, r.feed, nil, r.test, r.yte, []int{len(r.test), r.g.Classes})
	case ir.TaskLink:
		n := 2 * r.pos.Len()
		pairs := data.Pairs{Src: make([]int32, n), Dst: make([]int32, n), Label: make([]float32, n)}
		if stepIn, err = t.graphInputs(step, r.feed, &pairs, nil, pairs.Label, r.scoreShape(n)); err != nil {
			return MemoryEstimate{}, err
		}
		p := r.testPairs
		evalIn, err = t.graphInputs(t.Spec.Eval, r.feed, &p, nil, p.Label, r.scoreShape(p.Len()))
	default:
		if stepIn, err = r.batchInputs(step, r.set, largest(r.set, t.Spec.Batch)); err != nil {
			return MemoryEstimate{}, err
		}
		if r.testSet != nil {
			evalIn, err = r.batchInputs(t.Spec.Eval, r.testSet, largest(r.testSet, t.Spec.Batch))
		}
	}
	if err != nil {
		return MemoryEstimate{}, err
	}
	dims := map[string]map[string]int{step: inputDims(t.Module.Func(step), stepIn)}
	if evalIn != nil {
		dims[t.Spec.Eval] = inputDims(t.Module.Func(t.Spec.Eval), evalIn)
	}
	e, err := GraphMemory(t.Module, dims)
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
func inputDims(f *ir.Func, in map[string]*Tensor) map[string]int {
	env := map[string]int{}
	var want []ir.Shape
	var got [][]int
	for _, i := range f.Inputs {
		if t, ok := in[i.Name]; ok {
			want = append(want, i.Type.Shape)
			got = append(got, t.Shape)
		}
	}
	bindSymbols(env, want, got)
	return env
}
