package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/data"
)

// Validation data. A fraction is held out of the training data before the first epoch,
// with a generator of its own seeded by the run's seed, so that the split is the same on
// every run and resume and no other draw moves: round(f·N) items (at least one, and at
// least one left to train on) chosen by a permutation, kept in their order. A data source
// is loaded as the test data is. The samples task holds out samples; the graph tasks
// hold out graphs, labelled nodes or training edges (graphtask.go).

// validationStream keys the hold-out generator ("valid").
const validationStream = 0x76616c6964

// holdOut splits n items into those kept for training and those held out, both in order.
func holdOut(n int, frac float64, seed int64) (keep, held []int, err error) {
	k := int(math.Round(frac * float64(n)))
	k = max(1, min(k, n-1))
	if n < 2 {
		return nil, nil, fmt.Errorf("validation = fraction(%g) needs at least 2 items to split, the training data has %d", frac, n)
	}
	perm := rand.New(rand.NewPCG(uint64(seed), validationStream)).Perm(n)
	out := make([]bool, n)
	for _, i := range perm[:k] {
		out[i] = true
	}
	for i := range n {
		if out[i] {
			held = append(held, i)
		} else {
			keep = append(keep, i)
		}
	}
	return keep, held, nil
}

// subset returns the samples idx of set as a set of their own.
func subset(set *data.Set, idx []int) *data.Set {
	x, y := set.Batch(nil, nil, idx)
	out := &data.Set{X: x, XShape: append([]int{len(idx)}, set.XShape[1:]...), Y: y}
	if y != nil {
		out.YShape = append([]int{len(idx)}, set.YShape[1:]...)
	}
	if set.Labels != nil {
		out.Labels = make([]int, len(idx))
		for k, i := range idx {
			out.Labels[k] = set.Labels[i]
		}
	}
	return out
}

// validationSet returns the samples task's training and validation sets as spec says:
// train itself and nil without validation.
func validationSet(spec *ir.TrainSpec, train *data.Set, o data.Options) (*data.Set, *data.Set, error) {
	v := spec.Validation
	switch {
	case v == nil:
		return train, nil, nil
	case v.Data != nil:
		val, err := data.Load(*v.Data, o)
		return train, val, err
	}
	keep, held, err := holdOut(train.Len(), v.Fraction, spec.Seed)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", v.Pos, err)
	}
	return subset(train, keep), subset(train, held), nil
}

// validationNodes holds a fraction of a node task's labelled nodes out of its training
// nodes.
func (r *graphRun) validationNodes(spec *ir.TrainSpec) error {
	v := spec.Validation
	switch {
	case v == nil:
		return nil
	case v.Data != nil:
		return fmt.Errorf("%s: train: a node-level model validates on a fraction of its labelled nodes: validation = fraction(f)", v.Pos)
	}
	keep, held, err := holdOut(len(r.train), v.Fraction, spec.Seed)
	if err != nil {
		return fmt.Errorf("%s: %v (labelled nodes)", v.Pos, err)
	}
	nodes := r.train
	r.train, r.val = pick(nodes, keep), pick(nodes, held)
	r.yval, _ = oneHot(r.g.Labels, r.val, r.g.Classes)
	return nil
}

// validationEdges holds a fraction of a link task's training edges out of the training
// graph, with as many non-edges of the whole graph, drawn by the hold-out's generator. It
// returns the graph left to train on.
func (r *graphRun) validationEdges(spec *ir.TrainSpec, train *data.Graph) (*data.Graph, error) {
	v := spec.Validation
	switch {
	case v == nil:
		return train, nil
	case v.Data != nil:
		return nil, fmt.Errorf("%s: train: a link-level model validates on a fraction of its training edges: validation = fraction(f)", v.Pos)
	}
	rest, held, err := data.SplitEdges(train, v.Fraction, uint64(spec.Seed)^validationStream)
	if err != nil {
		return nil, fmt.Errorf("%s: validation: %v", v.Pos, err)
	}
	var pos data.Pairs
	for i, l := range held.Label {
		if l == 1 {
			pos.Src, pos.Dst, pos.Label = append(pos.Src, held.Src[i]), append(pos.Dst, held.Dst[i]), append(pos.Label, 1)
		}
	}
	rng := rand.New(rand.NewPCG(uint64(spec.Seed), validationStream))
	if r.valPairs, err = r.index.NonEdges(pos, pos.Len(), rng); err != nil {
		return nil, fmt.Errorf("%s: validation: %v", v.Pos, err)
	}
	return rest, nil
}

// validationGraphs holds a fraction of a graph task's graphs out (of each class, as the
// set's Split does), or loads a set of graphs.
func (r *graphRun) validationGraphs(spec *ir.TrainSpec, undirected bool) error {
	v := spec.Validation
	switch {
	case v == nil:
		return nil
	case v.Data != nil:
		set, err := data.LoadGraphs(*v.Data)
		if err != nil {
			return err
		}
		if undirected {
			for i, g := range set.Graphs {
				set.Graphs[i] = g.Undirected()
			}
		}
		r.valSet = set
		return nil
	}
	train, val, err := r.set.Split(v.Fraction, uint64(spec.Seed)^validationStream)
	if err != nil {
		return fmt.Errorf("%s: validation: %v", v.Pos, err)
	}
	r.set, r.valSet = train, val
	return nil
}

// pick returns xs[i] for each i of idx.
func pick(xs []int32, idx []int) []int32 {
	out := make([]int32, len(idx))
	for k, i := range idx {
		out[k] = xs[i]
	}
	return out
}
