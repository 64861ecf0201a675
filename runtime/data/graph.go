package data

import (
	"fmt"
	"math"
	"slices"
)

// Graphs. A graph is held the way the message-passing kernels consume it:
// node features as one flat [N, F] array and the edges as two index arrays
// Src and Dst of length E, edge e running from node Src[e] to node Dst[e]
// (messages flow along it, so Dst is what the aggregation segments by). A
// graph is directed; an undirected one holds both directions of every edge
// (Undirected adds the missing ones). Several small graphs are batched as
// their disjoint union: node ids offset so that they do not collide, and a
// graph id per node for the readout.
//
// Indices are int32 because the IR's index dtype is, and because every
// loader refuses a graph of more than MaxNodes nodes: node ids read from a
// file pass through the float32 .npy and CSV readers, which hold integers
// exactly only up to 2^24.

// MaxNodes bounds the nodes of one graph (or one batch of graphs); MaxEdges
// bounds its edges (each edge costs two int32 indices).
const (
	MaxNodes = 1 << 24
	MaxEdges = MaxValues / 2
)

// Graph is one graph, or the disjoint union of several (GraphID set).
type Graph struct {
	Name        string    // where it came from, for messages
	N, F        int       // nodes, features per node
	X           []float32 // [N, F]
	Src, Dst    []int32   // [E], each in [0, N)
	Fe          int       // edge features per edge (0: none)
	EdgeX       []float32 // [E, Fe] or nil
	Labels      []int32   // [N] node class, -1 unknown; nil if none
	Classes     int       // the class count of Labels or GraphLabels; 0 if neither
	GraphID     []int32   // [N] graph of each node in a disjoint union; nil for one graph
	Graphs      int       // graphs in the union (1 for a single graph)
	GraphLabels []int32   // [Graphs]; nil unless a graph-classification set
	// EdgeY is a target per edge, for an edge-level task: a class index below
	// EdgeClasses (-1 unknown) when EdgeClasses > 0, else a real value; nil if
	// none. An undirected graph's two directions of a pair carry one target.
	EdgeY       []float32 // [E]
	EdgeClasses int
}

// E returns the number of edges.
func (g *Graph) E() int { return len(g.Src) }

// Validate checks every invariant of the Graph type: array lengths agree
// with N, F, E, Fe and Graphs; every index is in range; features are
// finite; labels are below Classes (node labels may be -1, unknown); and
// in a disjoint union no edge joins two graphs. Errors name g.Name and the
// node, edge or graph at fault, e.g.
//
//	data: e.npy: edge 17: target 40 out of range, want a node in [0, 34)
func (g *Graph) Validate() error {
	switch {
	case g.N < 0 || g.N > MaxNodes:
		return errorf(g.Name, "%d nodes, want 0 to %d", g.N, MaxNodes)
	case g.F < 0 || g.Fe < 0:
		return errorf(g.Name, "%d node features and %d edge features, want >= 0", g.F, g.Fe)
	case g.F > 0 && g.N > MaxValues/g.F:
		return errorf(g.Name, "%d nodes of %d features exceed %d values", g.N, g.F, MaxValues)
	case len(g.X) != g.N*g.F:
		return errorf(g.Name, "node features hold %d values, want %d nodes × %d = %d", len(g.X), g.N, g.F, g.N*g.F)
	case len(g.Src) != len(g.Dst):
		return errorf(g.Name, "%d edge sources but %d targets, want one of each per edge", len(g.Src), len(g.Dst))
	case g.E() > MaxEdges:
		return errorf(g.Name, "%d edges, want at most %d", g.E(), MaxEdges)
	case g.Fe > 0 && g.E() > MaxValues/g.Fe:
		return errorf(g.Name, "%d edges of %d features exceed %d values", g.E(), g.Fe, MaxValues)
	case len(g.EdgeX) != g.E()*g.Fe:
		return errorf(g.Name, "edge features hold %d values, want %d edges × %d = %d", len(g.EdgeX), g.E(), g.Fe, g.E()*g.Fe)
	}
	if i := firstNonFinite(g.X); i >= 0 {
		return errorf(g.Name, "node %d: feature %d is %v, want a finite number", i/g.F, i%g.F, g.X[i])
	}
	if i := firstNonFinite(g.EdgeX); i >= 0 {
		return errorf(g.Name, "edge %d: feature %d is %v, want a finite number", i/g.Fe, i%g.Fe, g.EdgeX[i])
	}
	if e, end, v := badIndex(g.Src, g.Dst, g.N); e >= 0 {
		return errorf(g.Name, "edge %d: %s %d out of range, want a node in [0, %d)", e, end, v, g.N)
	}
	if err := g.validateLabels(); err != nil {
		return err
	}
	if err := g.validateEdgeTargets(); err != nil {
		return err
	}
	return g.validateUnion()
}

func (g *Graph) validateEdgeTargets() error {
	switch {
	case g.EdgeY == nil && g.EdgeClasses == 0:
		return nil
	case len(g.EdgeY) != g.E():
		return errorf(g.Name, "%d edge targets for %d edges, want one per edge", len(g.EdgeY), g.E())
	case g.EdgeClasses < 0 || g.EdgeClasses > MaxClasses:
		return errorf(g.Name, "%d edge classes, want 1 to %d (or 0 for values)", g.EdgeClasses, MaxClasses)
	}
	if i := firstNonFinite(g.EdgeY); i >= 0 {
		return errorf(g.Name, "edge %d: target %v, want a finite number", i, g.EdgeY[i])
	}
	if g.EdgeClasses > 0 {
		for e, y := range g.EdgeY {
			if y != float32(math.Trunc(float64(y))) || y < -1 || int(y) >= g.EdgeClasses {
				return errorf(g.Name, "edge %d: target %v, want a class in [0, %d) or -1 (unknown)", e, y, g.EdgeClasses)
			}
		}
	}
	return nil
}

// badIndex returns the first edge whose source or target is outside
// [0, n), which end it is and its value; e = -1 when all are in range.
func badIndex(src, dst []int32, n int) (e int, end string, v int32) {
	for i, s := range src {
		if s < 0 || int(s) >= n {
			return i, "source", s
		}
		if d := dst[i]; d < 0 || int(d) >= n {
			return i, "target", d
		}
	}
	return -1, "", 0
}

func (g *Graph) validateLabels() error {
	if g.Labels == nil && g.GraphLabels == nil {
		return nil
	}
	if g.Classes < 1 || g.Classes > MaxClasses {
		return errorf(g.Name, "%d classes, want 1 to %d", g.Classes, MaxClasses)
	}
	if g.Labels != nil && len(g.Labels) != g.N {
		return errorf(g.Name, "%d node labels for %d nodes, want one per node", len(g.Labels), g.N)
	}
	for i, l := range g.Labels {
		if l < -1 || int(l) >= g.Classes {
			return errorf(g.Name, "node %d: label %d, want a class in [0, %d) or -1 (unknown)", i, l, g.Classes)
		}
	}
	if g.GraphLabels != nil && len(g.GraphLabels) != g.Graphs {
		return errorf(g.Name, "%d graph labels for %d graphs, want one per graph", len(g.GraphLabels), g.Graphs)
	}
	for i, l := range g.GraphLabels {
		if l < 0 || int(l) >= g.Classes {
			return errorf(g.Name, "graph %d: label %d, want a class in [0, %d)", i, l, g.Classes)
		}
	}
	return nil
}

func (g *Graph) validateUnion() error {
	if g.GraphID == nil {
		if g.Graphs != 1 {
			return errorf(g.Name, "%d graphs but no graph id per node, want 1 graph or a graph id per node", g.Graphs)
		}
		return nil
	}
	if g.Graphs < 1 || g.Graphs > MaxNodes {
		return errorf(g.Name, "%d graphs, want 1 to %d", g.Graphs, MaxNodes)
	}
	if len(g.GraphID) != g.N {
		return errorf(g.Name, "%d graph ids for %d nodes, want one per node", len(g.GraphID), g.N)
	}
	for i, id := range g.GraphID {
		if id < 0 || int(id) >= g.Graphs {
			return errorf(g.Name, "node %d: graph id %d, want one in [0, %d)", i, id, g.Graphs)
		}
	}
	for e, s := range g.Src {
		if a, b := g.GraphID[s], g.GraphID[g.Dst[e]]; a != b {
			return errorf(g.Name, "edge %d: joins node %d of graph %d to node %d of graph %d, want both ends in one graph",
				e, s, a, g.Dst[e], b)
		}
	}
	return nil
}

// edgeKey packs an edge into one sortable number.
func edgeKey(s, d int32) uint64 { return uint64(uint32(s))<<32 | uint64(uint32(d)) }

// edgeKeys returns the sorted keys of g's edges, for membership tests by
// binary search (a sort is ~3× faster than a map at a million edges).
func edgeKeys(g *Graph) []uint64 {
	keys := make([]uint64, g.E())
	for e, s := range g.Src {
		keys[e] = edgeKey(s, g.Dst[e])
	}
	slices.Sort(keys)
	return keys
}

func hasKey(sorted []uint64, k uint64) bool {
	_, ok := slices.BinarySearch(sorted, k)
	return ok
}

// Undirected returns g with each missing reverse edge added once, after
// the existing edges and in their order, carrying the features and target of the edge
// it reverses; a self loop is its own reverse, so it stays single, and
// duplicate edges stay duplicated. X, Labels and GraphID are shared with g,
// not copied. A graph already symmetric comes back with the same edges.
func (g *Graph) Undirected() *Graph {
	keys := edgeKeys(g)
	added := map[uint64]bool{}
	var extra []int // edges whose reverse is added
	for e, s := range g.Src {
		d := g.Dst[e]
		rk := edgeKey(d, s)
		if s == d || hasKey(keys, rk) || added[rk] {
			continue
		}
		added[rk] = true
		extra = append(extra, e)
	}
	out := *g
	out.Src = slices.Grow(slices.Clone(g.Src), len(extra))
	out.Dst = slices.Grow(slices.Clone(g.Dst), len(extra))
	if g.Fe > 0 {
		out.EdgeX = slices.Grow(slices.Clone(g.EdgeX), len(extra)*g.Fe)
	}
	if g.EdgeY != nil {
		out.EdgeY = slices.Grow(slices.Clone(g.EdgeY), len(extra))
	}
	for _, e := range extra {
		out.Src = append(out.Src, g.Dst[e])
		out.Dst = append(out.Dst, g.Src[e])
		if g.Fe > 0 {
			out.EdgeX = append(out.EdgeX, g.EdgeX[e*g.Fe:(e+1)*g.Fe]...)
		}
		if g.EdgeY != nil {
			out.EdgeY = append(out.EdgeY, g.EdgeY[e])
		}
	}
	return &out
}

// Symmetric reports whether every edge's reverse is an edge too.
func (g *Graph) Symmetric() bool {
	keys := edgeKeys(g)
	for e, s := range g.Src {
		if !hasKey(keys, edgeKey(g.Dst[e], s)) {
			return false
		}
	}
	return true
}

// InDegrees returns how many edges end at each node.
func (g *Graph) InDegrees() []int32 {
	deg := make([]int32, g.N)
	for _, d := range g.Dst {
		deg[d]++
	}
	return deg
}

// GraphSet is a data set of many small graphs, one label each, for graph
// classification. Every member is a single graph (GraphID nil, Graphs 1)
// whose GraphLabels holds its label; all share F and Fe, so that any of
// them can be batched together.
type GraphSet struct {
	Name    string
	Graphs  []*Graph
	Classes int
}

// Len returns the number of graphs.
func (s *GraphSet) Len() int { return len(s.Graphs) }

// Validate checks every member graph and that they agree with each other
// and with the set: the same F and Fe, node labels on all or none, one
// graph label each below Classes.
func (s *GraphSet) Validate() error {
	if s.Classes < 1 || s.Classes > MaxClasses {
		return errorf(s.Name, "%d classes, want 1 to %d", s.Classes, MaxClasses)
	}
	for i, g := range s.Graphs {
		if err := g.Validate(); err != nil {
			return err
		}
		first := s.Graphs[0]
		switch {
		case g.GraphID != nil || g.Graphs != 1 || len(g.GraphLabels) != 1:
			return errorf(s.Name, "graph %d: want a single graph with one label", i)
		case g.Classes != s.Classes:
			return errorf(s.Name, "graph %d: %d classes, want the set's %d", i, g.Classes, s.Classes)
		case g.F != first.F || g.Fe != first.Fe:
			return errorf(s.Name, "graph %d: %d node and %d edge features, want %d and %d like graph 0", i, g.F, g.Fe, first.F, first.Fe)
		case (g.Labels == nil) != (first.Labels == nil):
			return errorf(s.Name, "graph %d: node labels on some graphs only, want all or none", i)
		}
	}
	return nil
}

// Batch builds the disjoint union of the graphs idx in dst and returns
// it: their nodes back to back (graph k's node i becomes node i plus the
// nodes of graphs before it), their edges back to back with ids shifted
// likewise, a graph id per node (k for the k-th graph of idx) and their
// labels in GraphLabels. dst's arrays are reused when they have the
// capacity, so a training loop passing back what it got last step
// allocates only until the largest batch has been seen; dst may be nil.
//
// Batch panics if an index is out of range or the union would pass
// MaxNodes: indices come from the caller's own shuffling, so a bad one is
// a bug in the caller, not bad input.
func (s *GraphSet) Batch(dst *Graph, idx []int) *Graph {
	if dst == nil {
		dst = &Graph{}
	}
	n, e := 0, 0
	for _, i := range idx {
		if i < 0 || i >= len(s.Graphs) {
			panic(fmt.Sprintf("data: graph batch index %d out of range [0, %d)", i, len(s.Graphs)))
		}
		n += s.Graphs[i].N
		e += s.Graphs[i].E()
	}
	if n > MaxNodes {
		panic(fmt.Sprintf("data: a batch of %d graphs holds %d nodes, more than %d", len(idx), n, MaxNodes))
	}
	*dst = Graph{
		Name: s.Name, Classes: s.Classes, Graphs: len(idx), N: n,
		X: dst.X[:0], Src: dst.Src[:0], Dst: dst.Dst[:0], EdgeX: dst.EdgeX[:0],
		Labels: dst.Labels[:0], GraphID: dst.GraphID[:0], GraphLabels: dst.GraphLabels[:0],
	}
	if len(s.Graphs) > 0 {
		dst.F, dst.Fe = s.Graphs[0].F, s.Graphs[0].Fe
	}
	dst.X = slices.Grow(dst.X, n*dst.F)
	dst.Src, dst.Dst = slices.Grow(dst.Src, e), slices.Grow(dst.Dst, e)
	dst.EdgeX = slices.Grow(dst.EdgeX, e*dst.Fe)
	dst.GraphID = slices.Grow(dst.GraphID, n)
	withLabels := len(idx) > 0 && s.Graphs[idx[0]].Labels != nil
	if withLabels {
		dst.Labels = slices.Grow(dst.Labels, n)
	}
	base := int32(0)
	for k, i := range idx {
		g := s.Graphs[i]
		dst.X = append(dst.X, g.X...)
		for j, src := range g.Src {
			dst.Src = append(dst.Src, src+base)
			dst.Dst = append(dst.Dst, g.Dst[j]+base)
		}
		dst.EdgeX = append(dst.EdgeX, g.EdgeX...)
		for range g.N {
			dst.GraphID = append(dst.GraphID, int32(k))
		}
		if withLabels {
			dst.Labels = append(dst.Labels, g.Labels...)
		}
		dst.GraphLabels = append(dst.GraphLabels, g.GraphLabels...)
		base += int32(g.N)
	}
	if !withLabels {
		dst.Labels = nil
	}
	if dst.Fe == 0 {
		dst.EdgeX = nil
	}
	return dst
}
