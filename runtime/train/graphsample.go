package train

import (
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/dlc-lang/dlc/ir"

	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/data"
)

// Neighbour-sampled mini-batches of a node task (the train block's neighbors setting, as
// PyG's NeighborLoader). An epoch is a pass over the labelled nodes in batches of
// spec.Batch seeds, in an order drawn from the run's generator; each batch's subgraph is
// sampled (data.NeighborSampler: the fan-outs per hop, the frontier split over the cores)
// and the same step function runs on it, the loss over its seeds, which are its first
// rows. The evaluation goes over the evaluated nodes the same way, in batches of
// spec.Batch, with draws of its own that do not change from epoch to epoch. The draws of
// a batch are keyed by the run's seed, the epoch and the batch's first seed, so a resumed
// run samples what the uninterrupted one did. Memory is what the largest possible batch
// needs, not the graph: the estimate is at data.NeighborSampler.MaxSizes.

// sampledNodeTask is a node task trained on neighbour-sampled mini-batches.
type sampledNodeTask struct {
	graphTask
	sampler *data.NeighborSampler
	sub     data.Graph
}

func (g *sampledNodeTask) setup(out io.Writer) (*rand.PCG, *graphIdentity, error) {
	pcg, id, err := g.graphTask.setup(out)
	if err != nil {
		return nil, nil, err
	}
	spec := g.tr.Spec
	for _, f := range spec.Feeds {
		if f.Kind == ir.FeedEdgeFeatures {
			return nil, nil, fmt.Errorf("%s: train: neighbors samples the edges without their features; the model's graph takes edge features", spec.Pos)
		}
	}
	if g.sampler, err = data.NewNeighborSampler(g.run.g, spec.Graph.Neighbors); err != nil {
		return nil, nil, fmt.Errorf("%s: %v", spec.Pos, err)
	}
	n, e := g.sampler.MaxSizes(spec.Batch)
	fmt.Fprintf(out, "sampling neighbours %s of batches of %d seed nodes: at most %d nodes and %d edges a batch\n", intList(spec.Graph.Neighbors), spec.Batch, n, e)
	return pcg, id, nil
}

func (g *sampledNodeTask) words() taskWords {
	return taskWords{unit: "nodes", total: len(g.run.train), graphLine: true}
}

func (g *sampledNodeTask) check(o RunOptions, out io.Writer) error {
	return g.run.checkMemoryAt(o, out, g.maxBatchInputs)
}

func (g *sampledNodeTask) trainEpoch(l *loop, p *EpochProgress) (EpochStats, error) {
	r := g.run
	order := r.rng.Perm(len(r.train))
	if !l.spec.Shuffle {
		for i := range order {
			order[i] = i
		}
	}
	epoch := l.epoch
	feed := func(fn string, idx, _ []int) (map[string]*runtime.Tensor, error) {
		seeds := make([]int32, len(idx))
		for i, k := range idx {
			seeds[i] = r.train[k]
		}
		return g.batchInputs(fn, seeds, sampleKey(g.tr.Spec.Seed, uint64(epoch), uint64(idx[0])))
	}
	e, err := g.tr.startPass(feed, order, nil, p, l.step)
	if err != nil {
		return EpochStats{}, err
	}
	e.finishFirst = true
	return g.tr.runPass(e, l.o.Steps, l.o.Stop)
}

// evaluate runs the evaluation over the evaluated nodes in sampled batches, its loss and
// metrics the means over the nodes.
func (g *sampledNodeTask) evaluate() (float64, map[string]float64, bool, error) {
	r, t := g.run, g.tr
	if len(r.test) == 0 {
		return 0, nil, false, nil
	}
	var sum float64
	ms := map[string]float64{}
	b := t.Spec.Batch
	for lo := 0; lo < len(r.test); lo += b {
		seeds := r.test[lo:min(lo+b, len(r.test))]
		in, err := g.batchInputs(t.Spec.Eval, seeds, sampleKey(t.Spec.Seed, 1<<40, uint64(lo)))
		if err != nil {
			return 0, nil, false, err
		}
		loss, m, _, err := t.graphEval(in)
		if err != nil {
			return 0, nil, false, err
		}
		w := float64(len(seeds))
		sum += loss * w
		for k, v := range m {
			ms[k] += v * w
		}
	}
	n := float64(len(r.test))
	for k := range ms {
		ms[k] /= n
	}
	return sum / n, ms, true, nil
}

// batchInputs samples the subgraph of seeds with draws keyed by key and feeds function fn
// with it: the loss's rows are the seeds, the subgraph's first rows.
func (g *sampledNodeTask) batchInputs(fn string, seeds []int32, key uint64) (map[string]*runtime.Tensor, error) {
	r := g.run
	sub, _ := g.sampler.Sample(&g.sub, seeds, key)
	feed, err := newGraphFeed(sub)
	if err != nil {
		return nil, err
	}
	rows := make([]int32, len(seeds))
	for i := range rows {
		rows[i] = int32(i)
	}
	y, shape := oneHot(sub.Labels, rows, r.g.Classes)
	return g.tr.graphInputs(fn, feed, nil, rows, y, shape)
}

// maxBatchInputs are the inputs of fn at the largest batch a sampled run can draw, for the
// memory estimate: a graph of that many nodes and edges.
func (g *sampledNodeTask) maxBatchInputs(fn string) (map[string]*runtime.Tensor, error) {
	r := g.run
	b := min(g.tr.Spec.Batch, max(len(r.train), len(r.test)))
	n, e := g.sampler.MaxSizes(b)
	big := &data.Graph{N: n, F: r.g.F, X: make([]float32, n*r.g.F), Src: make([]int32, e), Dst: make([]int32, e), Graphs: 1}
	feed, err := newGraphFeed(big)
	if err != nil {
		return nil, err
	}
	rows := make([]int32, b)
	y := make([]float32, b*r.g.Classes)
	return g.tr.graphInputs(fn, feed, nil, rows, y, []int{b, r.g.Classes})
}

// sampleKey mixes a run's seed, its epoch and a batch's position into the key of the
// batch's draws (splitmix64 steps, so that nearby inputs give unrelated keys).
func sampleKey(seed int64, epoch, pos uint64) uint64 {
	k := uint64(seed)
	for _, v := range []uint64{epoch, pos} {
		k ^= v + 0x9e3779b97f4a7c15 + k<<6 + k>>2
		k ^= k >> 30
		k *= 0xbf58476d1ce4e5b9
		k ^= k >> 27
		k *= 0x94d049bb133111eb
		k ^= k >> 31
	}
	return k
}

// intList writes [10, 5].
func intList(v []int) string {
	s := "["
	for i, n := range v {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(n)
	}
	return s + "]"
}
