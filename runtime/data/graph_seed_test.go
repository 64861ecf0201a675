package data

import "testing"

// A generator and a split given the same seed must draw independently: with one stream
// for both, a 10% fraction of an SBM graph's nodes "drawn at random" was exactly the
// generator's first block, all of one class.
func TestSplitIndependentOfGeneratorSeed(t *testing.T) {
	g, err := SBM(SBMOptions{Nodes: 2000, Blocks: 10, Edges: 20000, P: 0.7, Features: 4, Noise: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	train, _, err := SplitNodes(g, NodeSplit{Fraction: 0.1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	count := make([]int, g.Classes)
	for _, v := range train {
		count[g.Labels[v]]++
	}
	for c, n := range count {
		if n < 5 || n > 40 {
			t.Errorf("class %d has %d of the %d labelled nodes, want about %d: %v", c, n, len(train), len(train)/g.Classes, count)
		}
	}
}
