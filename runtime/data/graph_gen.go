package data

import (
	"fmt"
	"math"
)

// Generated graphs, each a pure function of its options and seed.

// SBMOptions are the parameters of a stochastic block model.
type SBMOptions struct {
	Nodes  int     // N
	Blocks int     // K, the classes; nodes are spread over them evenly, at random
	Edges  int     // E, edge-list entries: E/2 distinct node pairs, each stored in both directions
	P      float64 // the share of the pairs that join two nodes of one block
	// Features per node: the node's block centroid (drawn once per block
	// from a standard normal) plus Gaussian noise of standard deviation
	// Noise, so features alone classify a node only roughly and its
	// neighbours' features, mostly from its own block, sharpen the guess.
	Features int
	Noise    float64
	Seed     uint64
	// EdgeTarget gives the edges targets, for an edge-level task: "inside"
	// (class 1 when both ends are in one block, else 0), "distance" (the
	// distance between the ends' block centroids over √(2F), 0 inside a
	// block), or "" / "none" for none. The graph itself does not change.
	EdgeTarget string
}

// SBM generates an undirected graph from a stochastic block model: N
// nodes in K blocks of N/K (±1), E/2 distinct pairs of distinct nodes,
// round(P·E/2) of them inside a block and the rest across blocks, each
// pair stored as two edges u→v and v→u (so E counts edges the way the
// edge list holds them, as PyTorch Geometric's num_edges does). A node's
// label is its block. The same options give the same graph.
func SBM(o SBMOptions) (*Graph, error) {
	name := fmt.Sprintf("sbm(nodes: %d, blocks: %d, edges: %d)", o.Nodes, o.Blocks, o.Edges)
	if err := o.check(name); err != nil {
		return nil, err
	}
	rng := newRand(o.Seed, "sbm")
	n, k := o.Nodes, o.Blocks
	g := &Graph{Name: name, N: n, F: o.Features, Classes: k, Graphs: 1, Labels: make([]int32, n)}
	members := make([][]int32, k)
	for i, v := range rng.Perm(n) {
		b := int32(i * k / n)
		g.Labels[v] = b
		members[b] = append(members[b], int32(v))
	}

	pairs := o.Edges / 2
	intra := int(math.Round(o.P * float64(pairs)))
	seen := make(map[uint64]struct{}, pairs)
	g.Src, g.Dst = make([]int32, 0, o.Edges), make([]int32, 0, o.Edges)
	for made := 0; made < pairs; {
		u := int32(rng.IntN(n))
		var v int32
		if made < intra {
			m := members[g.Labels[u]]
			v = m[rng.IntN(len(m))]
		} else {
			v = int32(rng.IntN(n))
			if g.Labels[v] == g.Labels[u] {
				continue
			}
		}
		key := edgeKey(min(u, v), max(u, v))
		if _, dup := seen[key]; u == v || dup {
			continue
		}
		seen[key] = struct{}{}
		g.Src = append(g.Src, u, v)
		g.Dst = append(g.Dst, v, u)
		made++
	}

	centroids := make([]float32, k*o.Features)
	for i := range centroids {
		centroids[i] = float32(rng.NormFloat64())
	}
	g.X = make([]float32, n*o.Features)
	for i := range n {
		c := centroids[int(g.Labels[i])*o.Features:]
		x := g.X[i*o.Features : (i+1)*o.Features]
		for j := range x {
			x[j] = c[j] + float32(o.Noise*rng.NormFloat64())
		}
	}
	return g, sbmEdgeTargets(g, o, centroids)
}

// sbmEdgeTargets sets g's edge targets as o.EdgeTarget says, from the blocks and their
// centroids; it draws nothing, so the graph is the same with targets or without.
func sbmEdgeTargets(g *Graph, o SBMOptions, centroids []float32) error {
	switch o.EdgeTarget {
	case "", "none":
		return nil
	case "inside", "distance":
	default:
		return errorf(g.Name, "edge_target = %q, want \"none\", \"inside\" or \"distance\"", o.EdgeTarget)
	}
	g.EdgeY = make([]float32, g.E())
	f := o.Features
	for e, s := range g.Src {
		a, b := int(g.Labels[s]), int(g.Labels[g.Dst[e]])
		if o.EdgeTarget == "inside" {
			if a == b {
				g.EdgeY[e] = 1
			}
			continue
		}
		var d2 float64
		for j := range f {
			d := float64(centroids[a*f+j] - centroids[b*f+j])
			d2 += d * d
		}
		if f > 0 {
			g.EdgeY[e] = float32(math.Sqrt(d2 / float64(2*f)))
		}
	}
	if o.EdgeTarget == "inside" {
		g.EdgeClasses = 2
	}
	return nil
}

// check refuses options that cannot be met, or only by a sampler that
// would take ages: more than half the possible pairs of a kind.
func (o SBMOptions) check(name string) error {
	switch {
	case o.Nodes < 2 || o.Nodes > MaxNodes:
		return errorf(name, "%d nodes, want 2 to %d", o.Nodes, MaxNodes)
	case o.Blocks < 1 || o.Blocks > o.Nodes/2 || o.Blocks > MaxClasses:
		return errorf(name, "%d blocks, want 1 to %d (at least two nodes each)", o.Blocks, min(o.Nodes/2, MaxClasses))
	case o.Edges < 0 || o.Edges%2 != 0 || o.Edges > MaxEdges:
		return errorf(name, "%d edges, want an even number from 0 to %d (each pair is stored both ways)", o.Edges, MaxEdges)
	case !(o.P >= 0 && o.P <= 1):
		return errorf(name, "intra-block share p = %v, want one in [0, 1]", o.P)
	case o.Blocks == 1 && o.P != 1 && o.Edges > 0:
		return errorf(name, "intra-block share p = %v with one block, want 1: there is no other block", o.P)
	case o.Features < 0 || o.Features > 0 && o.Nodes > MaxValues/o.Features:
		return errorf(name, "%d features per node, want 0 to %d", o.Features, MaxValues/o.Nodes)
	case !(o.Noise >= 0) || math.IsInf(o.Noise, 0):
		return errorf(name, "noise = %v, want a finite standard deviation >= 0", o.Noise)
	}
	pairs := float64(o.Edges / 2)
	// The smallest block has floor(N/K) nodes; count every block as that
	// small, to stay on the safe side.
	small := float64(o.Nodes / o.Blocks)
	intraPossible := float64(o.Blocks) * small * (small - 1) / 2
	all := float64(o.Nodes) * float64(o.Nodes-1) / 2
	intra := math.Round(o.P * pairs)
	if intra > intraPossible/2 || pairs-intra > (all-intraPossible)/2 {
		return errorf(name, "%.0f node pairs inside blocks and %.0f across, want at most half of the %.0f and %.0f possible: too dense to sample",
			intra, pairs-intra, intraPossible, all-intraPossible)
	}
	return nil
}

// CyclesOptions are the parameters of the tree-or-cycle data set.
type CyclesOptions struct {
	Graphs             int
	MinNodes, MaxNodes int    // each graph's node count is uniform in [MinNodes, MaxNodes]
	Features           string // "constant" (one feature, 1) or "degree" (one-hot degree, capped at CycleMaxDegree)
	Seed               uint64
}

// CycleMaxDegree is the last slot of the one-hot degree feature: a node
// of higher degree counts as this.
const CycleMaxDegree = 7

// Cycles generates a graph-classification set in which only structure
// decides the label: class 0 graphs are random trees, class 1 graphs the
// same kind of tree plus one edge between two nodes not yet adjacent, which
// closes exactly one cycle. Node counts vary over [MinNodes, MaxNodes], so
// neither the node nor the edge count alone gives the class away (the
// cycle rank E − N + 1 does, and a message-passing network with a sum
// readout can compute it), and node features carry no label information:
// constant, or the node's own degree. Graphs are undirected (both
// directions stored), node ids shuffled, the classes balanced (half of
// each, in random order).
func Cycles(o CyclesOptions) (*GraphSet, error) {
	name := fmt.Sprintf("cycles(graphs: %d)", o.Graphs)
	switch {
	case o.Graphs < 2 || o.Graphs > MaxNodes:
		return nil, errorf(name, "%d graphs, want 2 to %d", o.Graphs, MaxNodes)
	case o.MinNodes < 4 || o.MaxNodes < o.MinNodes || o.MaxNodes > 1<<12:
		return nil, errorf(name, "nodes per graph in [%d, %d], want 4 <= min <= max <= %d (a cycle needs a non-adjacent pair)",
			o.MinNodes, o.MaxNodes, 1<<12)
	case o.Features != "constant" && o.Features != "degree":
		return nil, errorf(name, "features %q, want \"constant\" or \"degree\"", o.Features)
	case float64(o.Graphs)*float64(o.MaxNodes) > MaxNodes:
		return nil, errorf(name, "%d graphs of up to %d nodes exceed %d nodes in all", o.Graphs, o.MaxNodes, MaxNodes)
	}
	rng := newRand(o.Seed, "cycles")
	labels := make([]int32, o.Graphs)
	for i := range labels {
		labels[i] = int32(i % 2)
	}
	rng.Shuffle(len(labels), func(i, j int) { labels[i], labels[j] = labels[j], labels[i] })
	set := &GraphSet{Name: name, Classes: 2, Graphs: make([]*Graph, o.Graphs)}
	for i, label := range labels {
		n := o.MinNodes + rng.IntN(o.MaxNodes-o.MinNodes+1)
		g := &Graph{Name: fmt.Sprintf("%s: graph %d", name, i), N: n, Classes: 2, Graphs: 1, GraphLabels: []int32{label}}
		// A random recursive tree: node v joins a uniformly chosen earlier
		// node, under a random relabelling.
		perm := rng.Perm(n)
		adj := make(map[uint64]bool, n)
		link := func(a, b int32) {
			g.Src = append(g.Src, a, b)
			g.Dst = append(g.Dst, b, a)
			adj[edgeKey(a, b)], adj[edgeKey(b, a)] = true, true
		}
		for v := 1; v < n; v++ {
			link(int32(perm[v]), int32(perm[rng.IntN(v)]))
		}
		if label == 1 {
			for {
				a, b := int32(rng.IntN(n)), int32(rng.IntN(n))
				if a != b && !adj[edgeKey(a, b)] {
					link(a, b)
					break
				}
			}
		}
		g.F, g.X = cycleFeatures(g, o.Features)
		set.Graphs[i] = g
	}
	return set, nil
}

func cycleFeatures(g *Graph, kind string) (int, []float32) {
	if kind == "constant" {
		x := make([]float32, g.N)
		for i := range x {
			x[i] = 1
		}
		return 1, x
	}
	f := CycleMaxDegree + 1
	x := make([]float32, g.N*f)
	for i, d := range g.InDegrees() {
		x[i*f+min(int(d), CycleMaxDegree)] = 1
	}
	return f, x
}

// IdentityFeatures returns the n×n identity as node features, [N, N]: the
// usual choice for a graph whose nodes have no features of their own, so
// that the first layer learns an embedding per node.
func IdentityFeatures(n int) []float32 {
	x := make([]float32, n*n)
	for i := range n {
		x[i*n+i] = 1
	}
	return x
}
