package data

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
)

// Splits for the two tasks that train and test on one graph. Node
// classification is semi-supervised: the loss sees the labels of a few
// training nodes, the metrics the others, and all nodes and edges are in
// the graph throughout. Link prediction holds edges out: they leave the
// graph the model sees and come back, with as many sampled non-edges, as
// the pairs it is scored on. Every random choice takes a seed, so a split
// is the same on every run.

// newRand is the package's seeded generator for one purpose. Each purpose
// gets its own stream: with one stream, an SBM graph and a node split made
// with the same seed drew the same permutation, so the first 10% of the
// shuffled nodes (the training nodes) were exactly the first block's.
func newRand(seed uint64, purpose string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(purpose))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// NodeSplit says which nodes are labelled for training. Exactly one of
// Nodes, PerClass and Fraction is set.
type NodeSplit struct {
	Nodes    []int32 // these nodes, each with a known label
	PerClass int     // k nodes of each class, drawn at random
	Fraction float64 // this share of the nodes with a known label, drawn at random (at least one)
	Seed     uint64
}

// SplitNodes returns the training nodes chosen by s and the test nodes,
// every other node whose label is known; both sorted. Nodes labelled -1
// are in neither.
func SplitNodes(g *Graph, s NodeSplit) (train, test []int32, err error) {
	if g.Labels == nil {
		return nil, nil, errorf(g.Name, "no node labels to split")
	}
	set := 0
	for _, b := range []bool{s.Nodes != nil, s.PerClass != 0, s.Fraction != 0} {
		if b {
			set++
		}
	}
	if set != 1 {
		return nil, nil, errorf(g.Name, "node split: want exactly one of explicit nodes, a count per class or a fraction, got %d", set)
	}
	chosen := make([]bool, g.N)
	switch {
	case s.Nodes != nil:
		for _, v := range s.Nodes {
			switch {
			case v < 0 || int(v) >= g.N:
				return nil, nil, errorf(g.Name, "node split: node %d out of range, want one in [0, %d)", v, g.N)
			case g.Labels[v] < 0:
				return nil, nil, errorf(g.Name, "node split: node %d has no label (-1), want a labelled node", v)
			case chosen[v]:
				return nil, nil, errorf(g.Name, "node split: node %d given twice", v)
			}
			chosen[v] = true
		}
	case s.PerClass != 0:
		if s.PerClass < 0 {
			return nil, nil, errorf(g.Name, "node split: %d nodes per class, want at least 1", s.PerClass)
		}
		byClass := make([][]int32, g.Classes)
		for i, l := range g.Labels {
			if l >= 0 {
				byClass[l] = append(byClass[l], int32(i))
			}
		}
		rng := newRand(s.Seed, "split nodes per class")
		for c, nodes := range byClass {
			if len(nodes) < s.PerClass {
				return nil, nil, errorf(g.Name, "node split: class %d has %d labelled nodes, want at least %d", c, len(nodes), s.PerClass)
			}
			rng.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
			for _, v := range nodes[:s.PerClass] {
				chosen[v] = true
			}
		}
	default:
		if !(s.Fraction > 0 && s.Fraction <= 1) {
			return nil, nil, errorf(g.Name, "node split: fraction %v, want one in (0, 1]", s.Fraction)
		}
		var known []int32
		for i, l := range g.Labels {
			if l >= 0 {
				known = append(known, int32(i))
			}
		}
		if len(known) == 0 {
			return nil, nil, errorf(g.Name, "node split: no node has a known label")
		}
		k := max(1, int(math.Round(s.Fraction*float64(len(known)))))
		rng := newRand(s.Seed, "split nodes by fraction")
		rng.Shuffle(len(known), func(i, j int) { known[i], known[j] = known[j], known[i] })
		for _, v := range known[:k] {
			chosen[v] = true
		}
	}
	for i, l := range g.Labels {
		switch {
		case chosen[i]:
			train = append(train, int32(i))
		case l >= 0:
			test = append(test, int32(i))
		}
	}
	return train, test, nil
}

// Pairs are node pairs to score for link prediction: an edge (label 1) or
// a non-edge (label 0) from Src[i] to Dst[i].
type Pairs struct {
	Src, Dst []int32
	Label    []float32
}

// Len returns the number of pairs.
func (p *Pairs) Len() int { return len(p.Src) }

func (p *Pairs) add(s, d int32, label float32) {
	p.Src = append(p.Src, s)
	p.Dst = append(p.Dst, d)
	p.Label = append(p.Label, label)
}

// EdgeIndex answers "is u→v an edge of the graph?" quickly, and samples
// non-edges: a training loop for link prediction needs fresh negatives
// every epoch, so the index is built once and kept.
type EdgeIndex struct {
	n     int
	keys  []uint64 // sorted
	pairs int      // unordered pairs of distinct nodes joined by an edge
}

// NewEdgeIndex indexes g's edges.
func NewEdgeIndex(g *Graph) *EdgeIndex {
	x := &EdgeIndex{n: g.N, keys: edgeKeys(g)}
	for i, k := range x.keys {
		s, d := int32(k>>32), int32(uint32(k))
		dup := i > 0 && x.keys[i-1] == k
		// A pair with both directions is counted at its s < d edge.
		if !dup && (s < d || s > d && !x.Has(d, s)) {
			x.pairs++
		}
	}
	return x
}

// Has reports whether s→d is an edge.
func (x *EdgeIndex) Has(s, d int32) bool { return hasKey(x.keys, edgeKey(s, d)) }

// NonEdges appends n distinct pairs (u, v) with label 0 to dst, drawn
// uniformly from the pairs of distinct nodes joined by no edge in either
// direction; distinct means no pair appears twice, in either orientation.
// It fails when the graph is too dense to hold n such pairs.
func (x *EdgeIndex) NonEdges(dst Pairs, n int, rng *rand.Rand) (Pairs, error) {
	dst, err := x.nonEdges(dst, n, rng)
	if err != nil {
		return dst, fmt.Errorf("data: %w", err)
	}
	return dst, nil
}

func (x *EdgeIndex) nonEdges(dst Pairs, n int, rng *rand.Rand) (Pairs, error) {
	if n == 0 {
		return dst, nil
	}
	free := float64(x.n)*float64(x.n-1)/2 - float64(x.pairs)
	if x.n < 2 || float64(n) > free {
		return dst, fmt.Errorf("want %d non-edges, but a graph of %d nodes with %d node pairs joined by an edge has %.0f",
			n, x.n, x.pairs, max(free, 0))
	}
	seen := make(map[uint64]bool, n)
	// Rejection sampling: on a sparse graph nearly every draw is a
	// non-edge; the bound turns a near-complete graph into an error, not a
	// long loop.
	limit := 100*n + 10000 // n counts down below; the bound is on the whole draw
	for tries := 0; n > 0; tries++ {
		if tries > limit {
			return dst, fmt.Errorf("found too few non-edges in a graph of %d nodes and %d edges", x.n, len(x.keys))
		}
		u, v := int32(rng.IntN(x.n)), int32(rng.IntN(x.n))
		lo, hi := min(u, v), max(u, v)
		if u == v || seen[edgeKey(lo, hi)] || x.Has(u, v) || x.Has(v, u) {
			continue
		}
		seen[edgeKey(lo, hi)] = true
		dst.add(u, v, 0)
		n--
	}
	return dst, nil
}

// SplitEdges holds out a share testFrac of g's edges for link prediction.
// Edges are held out by node pair: when both u→v and v→u are edges (an
// undirected graph), both leave the training graph together, so the model
// never sees the reverse of an edge it is tested on; duplicates go too.
// Self loops are never held out. test holds one pair per held-out node pair
// (in the direction of an edge of g, u<v when both are) with label 1,
// followed by as many non-edges of g with label 0. train shares X and
// the labels with g.
func SplitEdges(g *Graph, testFrac float64, seed uint64) (train *Graph, test Pairs, err error) {
	if !(testFrac > 0 && testFrac < 1) {
		return nil, Pairs{}, errorf(g.Name, "edge split: test fraction %v, want one in (0, 1)", testFrac)
	}
	index := NewEdgeIndex(g)
	var pairs []uint64 // unordered node pairs joined by an edge, lo<<32|hi
	for e, s := range g.Src {
		if d := g.Dst[e]; s != d {
			pairs = append(pairs, edgeKey(min(s, d), max(s, d)))
		}
	}
	slices.Sort(pairs)
	pairs = slices.Compact(pairs)
	if len(pairs) < 2 {
		return nil, Pairs{}, errorf(g.Name, "edge split: %d node pairs joined by an edge, want at least 2", len(pairs))
	}
	h := min(len(pairs)-1, max(1, int(math.Round(testFrac*float64(len(pairs))))))
	rng := newRand(seed, "split edges")
	rng.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
	held := slices.Clone(pairs[:h])
	for _, k := range held {
		lo, hi := int32(k>>32), int32(uint32(k))
		if index.Has(lo, hi) {
			test.add(lo, hi, 1)
		} else {
			test.add(hi, lo, 1)
		}
	}
	slices.Sort(held)
	tr := *g
	tr.Src, tr.Dst, tr.EdgeX = nil, nil, nil
	for e, s := range g.Src {
		d := g.Dst[e]
		if s != d && hasKey(held, edgeKey(min(s, d), max(s, d))) {
			continue
		}
		tr.Src = append(tr.Src, s)
		tr.Dst = append(tr.Dst, d)
		if g.Fe > 0 {
			tr.EdgeX = append(tr.EdgeX, g.EdgeX[e*g.Fe:(e+1)*g.Fe]...)
		}
	}
	if test, err = index.nonEdges(test, h, rng); err != nil {
		return nil, Pairs{}, errorf(g.Name, "edge split: %v", err)
	}
	return &tr, test, nil
}

// Split divides the set into a training and a test set, holding out a
// share testFrac of each class's graphs (at least one of each class that
// has two or more), drawn at random. Both keep the set's order and share
// its graphs.
func (s *GraphSet) Split(testFrac float64, seed uint64) (train, test *GraphSet, err error) {
	if !(testFrac > 0 && testFrac < 1) {
		return nil, nil, errorf(s.Name, "graph split: test fraction %v, want one in (0, 1)", testFrac)
	}
	byClass := make([][]int, s.Classes)
	for i, g := range s.Graphs {
		if len(g.GraphLabels) != 1 || g.GraphLabels[0] < 0 || int(g.GraphLabels[0]) >= s.Classes {
			return nil, nil, errorf(s.Name, "graph split: graph %d has no label below %d", i, s.Classes)
		}
		byClass[g.GraphLabels[0]] = append(byClass[g.GraphLabels[0]], i)
	}
	rng := newRand(seed, "split graphs")
	held := make([]bool, len(s.Graphs))
	for _, members := range byClass {
		if len(members) < 2 {
			continue
		}
		k := min(len(members)-1, max(1, int(math.Round(testFrac*float64(len(members))))))
		rng.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
		for _, i := range members[:k] {
			held[i] = true
		}
	}
	train = &GraphSet{Name: s.Name + " (train)", Classes: s.Classes}
	test = &GraphSet{Name: s.Name + " (test)", Classes: s.Classes}
	for i, g := range s.Graphs {
		if held[i] {
			test.Graphs = append(test.Graphs, g)
		} else {
			train.Graphs = append(train.Graphs, g)
		}
	}
	return train, test, nil
}

// SplitEdgeTargets splits the edges of g that have a known target (a class ≥ 0, or any
// value) into training and test pairs, each Label the edge's target: a testFrac share of
// them (at least one, and at least one left to train on) is held out, drawn with seed.
// With undirected, the two directions of a node pair are one pair, the first stored
// (their targets must agree). The graph is not changed: a held-out edge still carries
// messages, only its target is hidden, as a node task's unlabelled nodes are.
func SplitEdgeTargets(g *Graph, testFrac float64, seed uint64, undirected bool) (train, test Pairs, err error) {
	if g.EdgeY == nil {
		return Pairs{}, Pairs{}, errorf(g.Name, "the graph's edges have no targets, want an edge list with a target column (edge_label, edge_y, or sbm's edge_target)")
	}
	if !(testFrac > 0 && testFrac < 1) {
		return Pairs{}, Pairs{}, errorf(g.Name, "edge split: test fraction %v, want one in (0, 1)", testFrac)
	}
	first := map[uint64]int{} // node pair → its first edge, when undirected
	var all []int
	for e, s := range g.Src {
		d, y := g.Dst[e], g.EdgeY[e]
		if g.EdgeClasses > 0 && y < 0 {
			continue // unknown
		}
		if undirected {
			k := edgeKey(min(s, d), max(s, d))
			if f, seen := first[k]; seen {
				if g.EdgeY[f] != y {
					return Pairs{}, Pairs{}, errorf(g.Name, "edges %d and %d join nodes %d and %d with targets %v and %v, want one target for an undirected pair", f, e, s, d, g.EdgeY[f], y)
				}
				continue
			}
			first[k] = e
		}
		all = append(all, e)
	}
	if len(all) < 2 {
		return Pairs{}, Pairs{}, errorf(g.Name, "edge split: %d edges with a known target, want at least 2", len(all))
	}
	h := min(len(all)-1, max(1, int(math.Round(testFrac*float64(len(all))))))
	rng := newRand(seed, "split edge targets")
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	held := slices.Clone(all[:h])
	slices.Sort(held)
	rest := slices.Clone(all[h:])
	slices.Sort(rest)
	for _, e := range held {
		test.add(g.Src[e], g.Dst[e], g.EdgeY[e])
	}
	for _, e := range rest {
		train.add(g.Src[e], g.Dst[e], g.EdgeY[e])
	}
	return train, test, nil
}
