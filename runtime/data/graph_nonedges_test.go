package data

import (
	"math/rand/v2"
	"testing"
)

// The rejection sampler's bound is on the whole draw: it once shrank with the pairs still
// to find, and failed a sparse graph a few hundred pairs short of 22,500.
func TestNonEdgesManyOnSparseGraph(t *testing.T) {
	g, err := SBM(SBMOptions{Nodes: 5000, Blocks: 10, Edges: 50000, P: 0.7, Features: 2, Noise: 1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewEdgeIndex(g).NonEdges(Pairs{}, 22500, rand.New(rand.NewPCG(1, 2)))
	if err != nil || p.Len() != 22500 {
		t.Fatalf("got %d non-edges, %v; want 22500", p.Len(), err)
	}
}
