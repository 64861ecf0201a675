package data

import (
	"runtime"
	"slices"
	"testing"
)

// TestNeighborSampler checks a sampled subgraph: seeds first, every edge a sampled
// in-edge of a node of the previous hop, at most the fan-out per node, features and
// labels carried, and the same subgraph on one core as on several.
func TestNeighborSampler(t *testing.T) {
	g, err := SBM(SBMOptions{Nodes: 30000, Blocks: 3, Edges: 600000, P: 0.7, Features: 2, Noise: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewNeighborSampler(g, []int{4, 2})
	if err != nil {
		t.Fatal(err)
	}
	seeds := make([]int32, 5000)
	for i := range seeds {
		seeds[i] = int32(i * 3)
	}
	sub, ids := s.Sample(nil, seeds, 7)
	if !slices.Equal(ids[:len(seeds)], seeds) {
		t.Fatal("the seeds are not the subgraph's first rows")
	}
	if n, e := s.MaxSizes(len(seeds)); sub.N > n || sub.E() > e || sub.N != len(ids) {
		t.Errorf("%d nodes and %d edges, bound %d and %d", sub.N, sub.E(), n, e)
	}
	if err := sub.Validate(); err != nil {
		t.Fatal(err)
	}
	edges := map[[2]int32]bool{}
	for e, u := range g.Src {
		edges[[2]int32{u, g.Dst[e]}] = true
	}
	perTarget := map[int32]int{}
	for e, u := range sub.Src {
		v := sub.Dst[e]
		if !edges[[2]int32{ids[u], ids[v]}] {
			t.Fatalf("edge %d→%d is not an edge of the graph", ids[u], ids[v])
		}
		perTarget[v]++
	}
	for v, k := range perTarget {
		if want := 4; int(v) >= len(seeds) {
			want = 2
			if k > want {
				t.Fatalf("node %d of hop 1 has %d sampled in-edges, want at most %d", ids[v], k, want)
			}
		} else if k > want {
			t.Fatalf("seed %d has %d sampled in-edges, want at most %d", ids[v], k, want)
		}
	}
	for i, v := range ids[:50] {
		if sub.Labels[i] != g.Labels[v] || sub.X[2*i] != g.X[2*v] {
			t.Fatalf("row %d (node %d): features or label not the node's", i, v)
		}
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	one, ids1 := s.Sample(nil, seeds, 7)
	runtime.GOMAXPROCS(4)
	if !slices.Equal(one.Src, sub.Src) || !slices.Equal(one.Dst, sub.Dst) || !slices.Equal(ids1, ids) {
		t.Error("one core sampled another subgraph than several")
	}
	other, _ := s.Sample(nil, seeds, 8)
	if slices.Equal(other.Src, sub.Src) {
		t.Error("another key drew the same subgraph")
	}
}
