package data

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
)

// Neighbour sampling, for training a node task in mini-batches (PyG's NeighborLoader).
//
// A batch is a list of seed nodes. Hop 1 draws up to fanouts[0] of each seed's in-edges
// (the edges whose messages the seed aggregates), without replacement; hop 2 draws up to
// fanouts[1] in-edges of each node that hop 1 reached first, and so on, each node
// expanded once. The batch's subgraph is the nodes reached, seeds first in their order,
// then each hop's new nodes in the order their edges were drawn, and the sampled edges
// only (not the induced subgraph), relabelled; a model with as many layers as fan-outs
// then computes each seed's output from the same neighbourhood a full-graph run would,
// only thinned. The draws of a node are keyed by the sampler's key and the node alone,
// so a hop's frontier can be split over the cores in any way and the subgraph is the
// same.

// NeighborSampler draws the sampled subgraphs of a graph.
type NeighborSampler struct {
	g       *Graph
	fanouts []int
	off     []int32 // in-edges of node v: in[off[v]:off[v+1]]
	in      []int32 // edge ids, ordered by target
	local   []int32 // node → its row in the batch being built, +1 (0: not in it)
}

// NewNeighborSampler indexes g's in-edges for sampling with the given fan-outs, one per
// hop, each at least 1.
func NewNeighborSampler(g *Graph, fanouts []int) (*NeighborSampler, error) {
	if len(fanouts) == 0 {
		return nil, fmt.Errorf("data: neighbour sampling needs a fan-out per layer")
	}
	for _, f := range fanouts {
		if f < 1 {
			return nil, fmt.Errorf("data: neighbour sampling: fan-outs %v, want each at least 1", fanouts)
		}
	}
	s := &NeighborSampler{g: g, fanouts: fanouts, off: make([]int32, g.N+1), in: make([]int32, g.E()), local: make([]int32, g.N)}
	for _, d := range g.Dst {
		s.off[d+1]++
	}
	for v := range g.N {
		s.off[v+1] += s.off[v]
	}
	next := append([]int32(nil), s.off[:g.N]...)
	for e, d := range g.Dst {
		s.in[next[d]] = int32(e)
		next[d]++
	}
	return s, nil
}

// MaxSizes are the most nodes and edges a batch of b seeds can sample.
func (s *NeighborSampler) MaxSizes(b int) (nodes, edges int) {
	nodes, width := b, b
	for _, f := range s.fanouts {
		width *= f
		nodes += width
		edges += width
	}
	return min(nodes, s.g.N), min(edges, s.g.E())
}

// Sample builds the subgraph of the seeds into dst (reusing its arrays) with draws keyed
// by key, and returns it and the graph's node id of each of its rows. The subgraph has
// the graph's features and labels for its rows; no edge features (a sampled batch takes
// none).
func (s *NeighborSampler) Sample(dst *Graph, seeds []int32, key uint64) (*Graph, []int32) {
	g := s.g
	if dst == nil {
		dst = &Graph{}
	}
	ids := make([]int32, 0, len(seeds))
	for _, v := range seeds {
		if s.local[v] == 0 {
			ids = append(ids, v)
			s.local[v] = int32(len(ids))
		}
	}
	src, dstE := dst.Src[:0], dst.Dst[:0]
	frontier := ids
	for _, fan := range s.fanouts {
		edges := s.hop(frontier, fan, key)
		start := len(ids)
		for _, e := range edges {
			u, v := g.Src[e], g.Dst[e]
			if s.local[u] == 0 {
				ids = append(ids, u)
				s.local[u] = int32(len(ids))
			}
			src = append(src, s.local[u]-1)
			dstE = append(dstE, s.local[v]-1)
		}
		frontier = ids[start:]
	}
	*dst = Graph{Name: g.Name, N: len(ids), F: g.F, Src: src, Dst: dstE, Graphs: 1, Classes: g.Classes,
		X: dst.X[:0], Labels: dst.Labels[:0]}
	for _, v := range ids {
		dst.X = append(dst.X, g.X[int(v)*g.F:(int(v)+1)*g.F]...)
		if g.Labels != nil {
			dst.Labels = append(dst.Labels, g.Labels[v])
		}
		s.local[v] = 0
	}
	if g.Labels == nil {
		dst.Labels = nil
	}
	return dst, ids
}

// hop draws up to fan in-edges of each node of frontier, in frontier order, splitting the
// frontier over the cores.
func (s *NeighborSampler) hop(frontier []int32, fan int, key uint64) []int32 {
	parts := min(runtime.GOMAXPROCS(0), max(1, len(frontier)/4096))
	outs := make([][]int32, parts)
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*len(frontier)/parts, (p+1)*len(frontier)/parts
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out []int32
			for _, v := range frontier[lo:hi] {
				out = s.draw(out, v, fan, key)
			}
			outs[p] = out
		}()
	}
	wg.Wait()
	var all []int32
	for _, o := range outs {
		all = append(all, o...)
	}
	return all
}

// draw appends up to fan of v's in-edges, distinct, drawn by a generator keyed by key and
// v (Floyd's algorithm over the edge list, then in edge-list order).
func (s *NeighborSampler) draw(out []int32, v int32, fan int, key uint64) []int32 {
	edges := s.in[s.off[v]:s.off[v+1]]
	if len(edges) <= fan {
		return append(out, edges...)
	}
	r := rand.New(rand.NewPCG(key, uint64(v)))
	chosen := make(map[int]bool, fan)
	for j := len(edges) - fan; j < len(edges); j++ {
		t := r.IntN(j + 1)
		if chosen[t] {
			t = j
		}
		chosen[t] = true
	}
	for i, e := range edges {
		if chosen[i] {
			out = append(out, e)
		}
	}
	return out
}
