package runtime

import (
	"fmt"

	"github.com/dlc-lang/dlc/runtime/data"
)

// PredictGraph runs a trained graph model (the spec's "predict" function, the model
// itself) on the train block's data: one row per node of its graph, or, for a set of small
// graphs, one row per graph in the set's order. A link model scores pairs it is given, so
// it has no prediction over its data.
func PredictGraph(tr *Trainer) (*Tensor, error) {
	spec := tr.Spec
	fn := spec.Extra["predict"]
	prog, err := tr.Program(fn)
	if err != nil {
		return nil, err
	}
	r := &graphRun{tr: tr, task: spec.Extra["task"]}
	switch r.task {
	case "link":
		return nil, fmt.Errorf("%s scores node pairs; dlc apply runs node- and graph-level models only", fn)
	case "graph":
		if r.set, err = data.LoadGraphs(spec.Data); err != nil {
			return nil, err
		}
		if spec.Extra["undirected"] == "true" {
			for i, g := range r.set.Graphs {
				r.set.Graphs[i] = g.Undirected()
			}
		}
		var out *Tensor
		n := r.set.Len()
		for lo := 0; lo < n; lo += spec.Batch {
			idx := make([]int, 0, spec.Batch)
			for i := lo; i < min(lo+spec.Batch, n); i++ {
				idx = append(idx, i)
			}
			in, err := r.batchInputs(fn, r.set, idx)
			if err != nil {
				return nil, err
			}
			outs, err := prog.Run(in, tr.Vars)
			if err != nil {
				return nil, err
			}
			y := outs["out"]
			if out == nil {
				out = &Tensor{Shape: append([]int{0}, y.Shape[1:]...)}
			}
			out.Shape[0] += y.Shape[0]
			out.Data = append(out.Data, y.Data...) // the program reuses its buffers
		}
		if out == nil {
			return nil, fmt.Errorf("%s: the data holds no graphs", spec.Data.Pos)
		}
		return out, nil
	}
	g, err := data.LoadGraph(spec.Data)
	if err != nil {
		return nil, err
	}
	if spec.Extra["undirected"] == "true" && !g.Symmetric() {
		g = g.Undirected()
	}
	feed, err := newGraphFeed(g)
	if err != nil {
		return nil, err
	}
	in, err := tr.graphInputs(fn, feed, nil, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	outs, err := prog.Run(in, tr.Vars)
	if err != nil {
		return nil, err
	}
	return outs["out"].Clone(), nil
}
