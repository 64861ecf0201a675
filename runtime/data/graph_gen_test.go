package data

import (
	"math"
	"slices"
	"testing"
)

func sbmOptions() SBMOptions {
	return SBMOptions{Nodes: 2000, Blocks: 5, Edges: 20000, P: 0.7, Features: 8, Noise: 1.5, Seed: 7}
}

func TestSBM(t *testing.T) {
	o := sbmOptions()
	g, err := SBM(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	if g.N != o.Nodes || g.E() != o.Edges || g.F != o.Features || g.Classes != o.Blocks {
		t.Fatalf("got N %d, E %d, F %d, classes %d, want %d, %d, %d, %d", g.N, g.E(), g.F, g.Classes, o.Nodes, o.Edges, o.Features, o.Blocks)
	}
	if !g.Symmetric() {
		t.Error("an SBM graph is undirected, want every edge's reverse present")
	}
	// Distinct pairs of distinct nodes.
	keys := edgeKeys(g)
	if len(slices.Compact(slices.Clone(keys))) != len(keys) {
		t.Error("duplicate edges")
	}
	intra, size := 0, make([]int, o.Blocks)
	for e, s := range g.Src {
		if s == g.Dst[e] {
			t.Fatalf("edge %d is a self loop", e)
		}
		if g.Labels[s] == g.Labels[g.Dst[e]] {
			intra++
		}
	}
	if share := float64(intra) / float64(g.E()); math.Abs(share-o.P) > 0.001 {
		t.Errorf("intra-block share %.4f, want %.2f", share, o.P)
	}
	for _, l := range g.Labels {
		size[l]++
	}
	for b, n := range size {
		if n != o.Nodes/o.Blocks {
			t.Errorf("block %d has %d nodes, want %d", b, n, o.Nodes/o.Blocks)
		}
	}
	// Features: a node is nearer its own block's mean than any other's
	// far more often than chance (1/5), and the noise has the asked std.
	mean := make([]float64, o.Blocks*o.Features)
	for i := range g.N {
		for j := range o.Features {
			mean[int(g.Labels[i])*o.Features+j] += float64(g.X[i*o.Features+j]) / float64(size[g.Labels[i]])
		}
	}
	right, sq := 0, 0.0
	for i := range g.N {
		best, bestD := -1, math.Inf(1)
		for b := range o.Blocks {
			d := 0.0
			for j := range o.Features {
				v := float64(g.X[i*o.Features+j]) - mean[b*o.Features+j]
				d += v * v
				if b == int(g.Labels[i]) {
					sq += v * v
				}
			}
			if d < bestD {
				best, bestD = b, d
			}
		}
		if best == int(g.Labels[i]) {
			right++
		}
	}
	if acc := float64(right) / float64(g.N); acc < 0.5 {
		t.Errorf("nearest block mean classifies %.2f of nodes, want features correlated with the block", acc)
	}
	if std := math.Sqrt(sq / float64(g.N*o.Features)); math.Abs(std-o.Noise) > 0.05 {
		t.Errorf("noise std %.3f, want %.2f", std, o.Noise)
	}

	again, _ := SBM(o)
	if !slices.Equal(again.Src, g.Src) || !slices.Equal(again.X, g.X) || !slices.Equal(again.Labels, g.Labels) {
		t.Error("the same seed gave a different graph")
	}
	o.Seed++
	other, _ := SBM(o)
	if slices.Equal(other.Src, g.Src) {
		t.Error("another seed gave the same edges")
	}
}

func TestSBMErrors(t *testing.T) {
	for _, tc := range []struct {
		edit func(*SBMOptions)
		want string
	}{
		{func(o *SBMOptions) { o.Nodes = 1 }, "data: sbm(nodes: 1, blocks: 5, edges: 20000): 1 nodes, want 2 to 16777216"},
		{func(o *SBMOptions) { o.Blocks = 0 }, "data: sbm(nodes: 2000, blocks: 0, edges: 20000): 0 blocks, want 1 to 1000 (at least two nodes each)"},
		{func(o *SBMOptions) { o.Edges = 3 }, "data: sbm(nodes: 2000, blocks: 5, edges: 3): 3 edges, want an even number from 0 to 536870912 (each pair is stored both ways)"},
		{func(o *SBMOptions) { o.P = 1.5 }, "data: sbm(nodes: 2000, blocks: 5, edges: 20000): intra-block share p = 1.5, want one in [0, 1]"},
		{func(o *SBMOptions) { o.Blocks, o.P = 1, 0.5 }, "data: sbm(nodes: 2000, blocks: 1, edges: 20000): intra-block share p = 0.5 with one block, want 1: there is no other block"},
		{func(o *SBMOptions) { o.Noise = math.NaN() }, "data: sbm(nodes: 2000, blocks: 5, edges: 20000): noise = NaN, want a finite standard deviation >= 0"},
		{func(o *SBMOptions) { o.Nodes, o.Blocks, o.Edges = 10, 2, 40 }, "data: sbm(nodes: 10, blocks: 2, edges: 40): 14 node pairs inside blocks and 6 across, want at most half of the 20 and 25 possible: too dense to sample"},
	} {
		o := sbmOptions()
		tc.edit(&o)
		if _, err := SBM(o); err == nil || err.Error() != tc.want {
			t.Errorf("SBM(%+v): got %v\nwant %s", o, err, tc.want)
		}
	}
}

func TestCycles(t *testing.T) {
	for _, features := range []string{"constant", "degree"} {
		o := CyclesOptions{Graphs: 200, MinNodes: 6, MaxNodes: 12, Features: features, Seed: 3}
		set, err := Cycles(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := set.Validate(); err != nil {
			t.Fatal(err)
		}
		count := [2]int{}
		nodes := map[int][2]int{} // node count → graphs of each class
		for i, g := range set.Graphs {
			label := g.GraphLabels[0]
			count[label]++
			c := nodes[g.N]
			c[label]++
			nodes[g.N] = c
			if g.N < o.MinNodes || g.N > o.MaxNodes {
				t.Fatalf("graph %d has %d nodes, want %d to %d", i, g.N, o.MinNodes, o.MaxNodes)
			}
			// Connected, undirected, simple, and E/2 − N + 1 cycles: 0 or 1.
			if !g.Symmetric() || !connected(g) {
				t.Fatalf("graph %d is not a connected undirected graph", i)
			}
			keys := edgeKeys(g)
			if len(slices.Compact(keys)) != g.E() {
				t.Fatalf("graph %d has a duplicate edge", i)
			}
			if rank := g.E()/2 - g.N + 1; rank != int(label) {
				t.Fatalf("graph %d of class %d has cycle rank %d", i, label, rank)
			}
			for _, v := range g.X {
				if features == "constant" && v != 1 {
					t.Fatalf("graph %d: constant feature %v", i, v)
				}
			}
		}
		if count[0] != 100 || count[1] != 100 {
			t.Errorf("classes %v, want 100 each", count)
		}
		// Node counts do not give the class away: both classes appear at
		// most sizes.
		mixed := 0
		for _, c := range nodes {
			if c[0] > 0 && c[1] > 0 {
				mixed++
			}
		}
		if mixed < len(nodes)-1 {
			t.Errorf("only %d of %d node counts hold both classes", mixed, len(nodes))
		}
		again, _ := Cycles(o)
		for i := range set.Graphs {
			if !slices.Equal(again.Graphs[i].Src, set.Graphs[i].Src) {
				t.Fatal("the same seed gave different graphs")
			}
		}
	}
	if _, err := Cycles(CyclesOptions{Graphs: 10, MinNodes: 3, MaxNodes: 5, Features: "constant"}); err == nil {
		t.Error("graphs of 3 nodes: no error")
	}
	if _, err := Cycles(CyclesOptions{Graphs: 10, MinNodes: 5, MaxNodes: 5, Features: "pagerank"}); err == nil {
		t.Error("unknown features: no error")
	}
}

// connected reports whether every node is reachable from node 0 along
// edges.
func connected(g *Graph) bool {
	adj := make([][]int32, g.N)
	for e, s := range g.Src {
		adj[s] = append(adj[s], g.Dst[e])
	}
	seen := make([]bool, g.N)
	stack := []int32{0}
	seen[0] = true
	reached := 1
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, w := range adj[v] {
			if !seen[w] {
				seen[w] = true
				reached++
				stack = append(stack, w)
			}
		}
	}
	return reached == g.N
}

func BenchmarkSBM(b *testing.B) {
	for b.Loop() {
		if _, err := SBM(SBMOptions{Nodes: 100000, Blocks: 10, Edges: 1000000, P: 0.7, Features: 32, Noise: SBMNoise, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
