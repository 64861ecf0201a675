package train

import (
	"fmt"
	"github.com/dlc-lang/dlc/ir"

	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/data"
)

// Feeding a graph model: one graph's arrays (or a batch of graphs' disjoint union) as the
// tensors its functions take by name (graphloop.go lists them), with the pairs, rows and
// one-hot targets of the step or the evaluation.

// graphFeed holds the tensors of one graph (or one batch of graphs), made once and reused.
type graphFeed struct {
	x, src, dst, edge, ids, count *runtime.Tensor
}

func newGraphFeed(g *data.Graph) (*graphFeed, error) {
	f := &graphFeed{}
	var err error
	if f.x, err = runtime.FromData([]int{g.N, g.F}, g.X); err != nil {
		return nil, err
	}
	if f.src, err = runtime.FromInts([]int{g.E()}, g.Src); err != nil {
		return nil, err
	}
	if f.dst, err = runtime.FromInts([]int{g.E()}, g.Dst); err != nil {
		return nil, err
	}
	if g.Fe > 0 {
		if f.edge, err = runtime.FromData([]int{g.E(), g.Fe}, g.EdgeX); err != nil {
			return nil, err
		}
	}
	ids := g.GraphID
	graphs := g.Graphs
	if ids == nil {
		ids, graphs = make([]int32, g.N), 1
	}
	if f.ids, err = runtime.FromInts([]int{g.N}, ids); err != nil {
		return nil, err
	}
	counts := make([]int32, graphs)
	for _, id := range ids {
		counts[id]++
	}
	if f.count, err = runtime.FromInts([]int{graphs}, counts); err != nil {
		return nil, err
	}
	return f, nil
}

// graphInputs names the tensors of a feed for function fn.
func (t *Trainer) graphInputs(fn string, f *graphFeed, pairs *data.Pairs, nodes []int32, y []float32, yShape []int) (map[string]*runtime.Tensor, error) {
	fun := t.Module.Func(fn)
	if fun == nil {
		return nil, fmt.Errorf("runtime: no function %s in the module", fn)
	}
	in := map[string]*runtime.Tensor{}
	for _, i := range fun.Inputs {
		var v *runtime.Tensor
		var err error
		kind, _ := t.Spec.Feed(i.Name)
		switch kind {
		case ir.FeedNodeFeatures:
			v = f.x
		case ir.FeedEdgeSrc:
			v = f.src
		case ir.FeedEdgeDst:
			v = f.dst
		case ir.FeedEdgeFeatures:
			v = f.edge
			if v == nil {
				return nil, fmt.Errorf("%s: the model's graph has edge features, the data's graph has none", t.Spec.Data.Pos)
			}
		case ir.FeedNodeGraph:
			v = f.ids
		case ir.FeedGraphSizes:
			v = f.count
		case ir.FeedPairSrc:
			v, err = runtime.FromInts([]int{pairs.Len()}, pairs.Src)
		case ir.FeedPairDst:
			v, err = runtime.FromInts([]int{pairs.Len()}, pairs.Dst)
		case ir.FeedNodes:
			v, err = runtime.FromInts([]int{len(nodes)}, nodes)
		case ir.FeedTargets:
			v, err = runtime.FromData(yShape, y)
		default:
			return nil, fmt.Errorf("runtime: function %s: no data feeds input %s", fn, i.Name)
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

// scoreShape is the shape of the pairs' targets: the model's score shape.
func (r *graphRun) scoreShape(p int) []int {
	f := r.tr.Module.Func(r.tr.Spec.Eval)
	for _, in := range f.Inputs {
		if k, _ := r.tr.Spec.Feed(in.Name); k == ir.FeedTargets && len(in.Type.Shape) == 2 {
			return []int{p, 1}
		}
	}
	return []int{p}
}

// batchInputs feeds function fn the disjoint union of the graphs idx of set, in the run's
// reused batch, with their one-hot classes as targets.
func (r *graphRun) batchInputs(fn string, set *data.GraphSet, idx []int) (map[string]*runtime.Tensor, error) {
	b := set.Batch(&r.batch, idx)
	feed, err := newGraphFeed(b)
	if err != nil {
		return nil, err
	}
	y, shape := oneHot(b.GraphLabels, nil, set.Classes)
	return r.tr.graphInputs(fn, feed, nil, nil, y, shape)
}
