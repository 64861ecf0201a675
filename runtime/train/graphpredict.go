package train

import (
	"encoding/json"
	"fmt"
	"github.com/dlc-lang/dlc/ir"
	"io"

	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/anomaly"
	"github.com/dlc-lang/dlc/runtime/checkpoint"
	"github.com/dlc-lang/dlc/runtime/data"
)

// PredictGraph runs a trained graph model (the spec's "predict" function, the model
// itself) on the train block's data: one row per node of its graph, or, for a set of small
// graphs, one row per graph in the set's order; for an edge-level model, one row per edge
// of its graph, in the graph's order (an undirected graph's added reverse edges last). A
// link model scores pairs instead (LinkScorer).
func PredictGraph(tr *Trainer) (*runtime.Tensor, error) {
	spec := tr.Spec
	fn, _ := spec.Role(ir.RolePredict)
	prog, err := tr.Program(fn)
	if err != nil {
		return nil, err
	}
	r := &graphRun{tr: tr, task: spec.Task}
	switch r.task {
	case ir.TaskLink:
		return nil, fmt.Errorf("%s scores node pairs, not the nodes of its data (see LinkScorer)", fn)
	case ir.TaskGraph:
		if r.set, err = data.LoadGraphs(spec.Data); err != nil {
			return nil, err
		}
		if spec.Graph.Undirected {
			for i, g := range r.set.Graphs {
				r.set.Graphs[i] = g.Undirected()
			}
		}
		var out *runtime.Tensor
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
			y := outs[tr.result()]
			if out == nil {
				out = &runtime.Tensor{Shape: append([]int{0}, y.Shape[1:]...)}
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
	if spec.Graph.Undirected && !g.Symmetric() {
		g = g.Undirected()
	}
	feed, err := newGraphFeed(g)
	if err != nil {
		return nil, err
	}
	var pairs *data.Pairs
	if r.task == ir.TaskEdge {
		pairs = &data.Pairs{Src: g.Src, Dst: g.Dst}
	}
	in, err := tr.graphInputs(fn, feed, pairs, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	outs, err := prog.Run(in, tr.Vars)
	if err != nil {
		return nil, err
	}
	y, ok := outs[tr.result()]
	if !ok {
		return nil, fmt.Errorf("%s has no output %s", fn, tr.result())
	}
	return y.Clone(), nil
}

// LinkScorer scores node pairs with a trained link model. Its graph is the one the model
// was trained and evaluated on: the train block's data less the edges held out for the
// test pairs, which the run's seed chose, so that a held-out edge never carries messages to
// the pair that tests it.
type LinkScorer struct {
	r *graphRun
}

// NewLinkScorer loads the train block's graph and splits it as the run with the given
// seed did (the seed a checkpoint's run state holds, or the train block's).
func NewLinkScorer(tr *Trainer, seed int64) (*LinkScorer, error) {
	if task := tr.Spec.Task; task != ir.TaskLink {
		return nil, fmt.Errorf("%s: a %s-level model predicts over its data; only a link model scores pairs", tr.Spec.Pos, task)
	}
	tr.Spec.Seed = seed
	r, err := newGraphRun(tr, ir.TaskLink, tr.Spec, io.Discard)
	if err != nil {
		return nil, err
	}
	return &LinkScorer{r: r}, nil
}

// Nodes is the number of nodes of the graph, the range of a pair's nodes.
func (s *LinkScorer) Nodes() int { return s.r.g.N }

// TestPairs are the run's held-out pairs: its held-out edges (label 1), then as many
// non-edges (label 0), in the order dlc run scores them.
func (s *LinkScorer) TestPairs() data.Pairs { return s.r.testPairs }

// Logits returns the model's logit for each pair (the spec's "predict" function, the
// model itself), from one run over the whole graph. Every node must be in [0, Nodes()).
func (s *LinkScorer) Logits(p data.Pairs) ([]float32, error) {
	tr := s.r.tr
	fn, _ := tr.Spec.Role(ir.RolePredict)
	prog, err := tr.Program(fn)
	if err != nil {
		return nil, err
	}
	in, err := tr.graphInputs(fn, s.r.feed, &p, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	outs, err := prog.Run(in, tr.Vars)
	if err != nil {
		return nil, err
	}
	y := outs["out"]
	if len(y.Data) != p.Len() {
		return nil, fmt.Errorf("runtime: %s gave %d values for %d pairs", fn, len(y.Data), p.Len())
	}
	return append([]float32(nil), y.Data...), nil
}

// PairsAUROC is the AUROC of scores against the labels of p (an edge is a positive), as
// dlc run reports the held-out pairs'.
func PairsAUROC(scores []float32, p data.Pairs) (float64, error) {
	s := make([]float64, len(scores))
	positive := make([]bool, len(scores))
	for i, v := range scores {
		s[i], positive[i] = float64(v), p.Label[i] > 0.5
	}
	a, err := anomaly.AUROC(s, positive)
	if err != nil {
		return 0, fmt.Errorf("link prediction: %v", err)
	}
	return a, nil
}

// CheckpointSeed returns the seed of the run that saved the checkpoint at path, from its
// run state, and false when it holds none.
func CheckpointSeed(path string) (int64, bool, error) {
	_, meta, err := checkpoint.Load(path)
	if err != nil {
		return 0, false, err
	}
	raw, ok := meta["dlc.run"]
	if !ok {
		return 0, false, nil
	}
	var rs runState
	if err := json.Unmarshal([]byte(raw), &rs); err != nil {
		return 0, false, fmt.Errorf("%s: dlc.run: %v", path, err)
	}
	return rs.Seed, true, nil
}
