package data

import (
	"slices"
	"testing"
)

func TestSplitNodes(t *testing.T) {
	g, err := SBM(SBMOptions{Nodes: 1000, Blocks: 4, Edges: 4000, P: 0.8, Features: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	g.Labels[5], g.Labels[6] = -1, -1 // unknown: in neither list
	check := func(name string, train, test []int32) {
		t.Helper()
		if !slices.IsSorted(train) || !slices.IsSorted(test) {
			t.Errorf("%s: lists not sorted", name)
		}
		all := slices.Concat(train, test)
		slices.Sort(all)
		if len(slices.Compact(slices.Clone(all))) != len(all) {
			t.Errorf("%s: a node is in both lists", name)
		}
		if len(all) != g.N-2 || slices.Contains(all, 5) || slices.Contains(all, 6) {
			t.Errorf("%s: %d nodes in the lists, want every labelled node (%d)", name, len(all), g.N-2)
		}
	}

	train, test, err := SplitNodes(g, NodeSplit{PerClass: 3, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	check("per class", train, test)
	perClass := make([]int, g.Classes)
	for _, v := range train {
		perClass[g.Labels[v]]++
	}
	if !slices.Equal(perClass, []int{3, 3, 3, 3}) {
		t.Errorf("per class: %v training nodes per class, want 3 each", perClass)
	}
	again, _, _ := SplitNodes(g, NodeSplit{PerClass: 3, Seed: 9})
	other, _, _ := SplitNodes(g, NodeSplit{PerClass: 3, Seed: 10})
	if !slices.Equal(again, train) || slices.Equal(other, train) {
		t.Error("per class: want the same split for a seed and another for another seed")
	}

	train, test, err = SplitNodes(g, NodeSplit{Fraction: 0.1, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	check("fraction", train, test)
	if len(train) != 100 { // round(0.1 × 998)
		t.Errorf("fraction: %d training nodes, want 100", len(train))
	}
	// The graph and the split share a seed; they must not share choices.
	g1, _ := SBM(SBMOptions{Nodes: 1000, Blocks: 4, Edges: 4000, P: 0.8, Seed: 1})
	train, _, _ = SplitNodes(g1, NodeSplit{Fraction: 0.2, Seed: 1})
	perClass = make([]int, g1.Classes)
	for _, v := range train {
		perClass[g1.Labels[v]]++
	}
	for c, n := range perClass {
		if n < 25 || n > 75 { // 50 expected; 25 is over 5 standard deviations away
			t.Errorf("fraction: class %d has %d of the 200 training nodes, want about 50: %v", c, n, perClass)
		}
	}

	train, test, err = SplitNodes(g, NodeSplit{Nodes: []int32{33, 0}})
	if err != nil {
		t.Fatal(err)
	}
	check("explicit", train, test)
	if !slices.Equal(train, []int32{0, 33}) {
		t.Errorf("explicit: training nodes %v, want [0 33]", train)
	}

	for _, tc := range []struct {
		split NodeSplit
		want  string
	}{
		{NodeSplit{}, "data: G: node split: want exactly one of explicit nodes, a count per class or a fraction, got 0"},
		{NodeSplit{PerClass: 1, Fraction: 0.5}, "data: G: node split: want exactly one of explicit nodes, a count per class or a fraction, got 2"},
		{NodeSplit{Nodes: []int32{1000}}, "data: G: node split: node 1000 out of range, want one in [0, 1000)"},
		{NodeSplit{Nodes: []int32{5}}, "data: G: node split: node 5 has no label (-1), want a labelled node"},
		{NodeSplit{Nodes: []int32{1, 1}}, "data: G: node split: node 1 given twice"},
		{NodeSplit{PerClass: 300}, "data: G: node split: class 0 has 250 labelled nodes, want at least 300"},
		{NodeSplit{Fraction: 1.5}, "data: G: node split: fraction 1.5, want one in (0, 1]"},
	} {
		g.Name = "G"
		if _, _, err := SplitNodes(g, tc.split); err == nil || err.Error() != tc.want {
			t.Errorf("SplitNodes(%+v): got %v\nwant %s", tc.split, err, tc.want)
		}
	}
}

func TestSplitEdges(t *testing.T) {
	g, err := SBM(SBMOptions{Nodes: 500, Blocks: 5, Edges: 4000, P: 0.7, Features: 2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	train, test, err := SplitEdges(g, 0.1, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := train.Validate(); err != nil {
		t.Fatal(err)
	}
	pairs := g.E() / 2
	held := 200 // round(0.1 × 2000 pairs)
	if test.Len() != 2*held || train.E() != 2*(pairs-held) {
		t.Fatalf("%d test pairs and %d training edges, want %d and %d", test.Len(), train.E(), 2*held, 2*(pairs-held))
	}
	full, kept := NewEdgeIndex(g), NewEdgeIndex(train)
	seen := map[uint64]bool{}
	for i := range test.Len() {
		s, d, label := test.Src[i], test.Dst[i], test.Label[i]
		key := edgeKey(min(s, d), max(s, d))
		if seen[key] || s == d {
			t.Fatalf("pair %d (%d, %d) repeated or a self loop", i, s, d)
		}
		seen[key] = true
		switch {
		case label == 1 && (i >= held || !full.Has(s, d)):
			t.Fatalf("positive pair %d (%d, %d) is not an edge of the graph among the first %d", i, s, d, held)
		case label == 1 && (kept.Has(s, d) || kept.Has(d, s)):
			t.Fatalf("held-out edge (%d, %d) is still in the training graph, in one direction or both", s, d)
		case label == 0 && (i < held || full.Has(s, d) || full.Has(d, s)):
			t.Fatalf("negative pair %d (%d, %d) is an edge of the graph or among the positives", i, s, d)
		}
	}
	if !train.Symmetric() {
		t.Error("the training graph of an undirected graph is not undirected")
	}
	_, again, _ := SplitEdges(g, 0.1, 4)
	_, other, _ := SplitEdges(g, 0.1, 5)
	if !slices.Equal(again.Src, test.Src) || slices.Equal(other.Src, test.Src) {
		t.Error("want the same split for a seed and another for another seed")
	}

	// A directed graph: a held-out edge leaves alone, its pair keeps its
	// direction, self loops stay.
	d := &Graph{Name: "d", N: 6, Src: []int32{0, 1, 2, 3, 4, 5, 5}, Dst: []int32{1, 2, 3, 4, 5, 0, 5}, Graphs: 1}
	tr, pos, err := SplitEdges(d, 0.5, 1)
	if err != nil {
		t.Fatal(err)
	}
	if tr.E() != 4 || pos.Len() != 6 || !NewEdgeIndex(tr).Has(5, 5) {
		t.Errorf("directed: %d training edges and %d pairs, want 4 (with the self loop) and 6", tr.E(), pos.Len())
	}
	for i := range 3 {
		if !NewEdgeIndex(d).Has(pos.Src[i], pos.Dst[i]) {
			t.Errorf("directed: positive (%d, %d) is not an edge in that direction", pos.Src[i], pos.Dst[i])
		}
	}

	for _, tc := range []struct {
		g    *Graph
		frac float64
		want string
	}{
		{g, 0, "data: sbm(nodes: 500, blocks: 5, edges: 4000): edge split: test fraction 0, want one in (0, 1)"},
		{&Graph{Name: "one", N: 2, Src: []int32{0, 1}, Dst: []int32{1, 0}, Graphs: 1}, 0.5,
			"data: one: edge split: 1 node pairs joined by an edge, want at least 2"},
		{&Graph{Name: "dense", N: 3, Src: []int32{0, 1, 2}, Dst: []int32{1, 2, 0}, Graphs: 1}, 0.5,
			"data: dense: edge split: want 2 non-edges, but a graph of 3 nodes with 3 node pairs joined by an edge has 0"},
	} {
		if _, _, err := SplitEdges(tc.g, tc.frac, 1); err == nil || err.Error() != tc.want {
			t.Errorf("SplitEdges(%s, %v): got %v\nwant %s", tc.g.Name, tc.frac, err, tc.want)
		}
	}
}

func TestNonEdges(t *testing.T) {
	// 4 nodes, 6 pairs; 0-1 both ways, 1→2 one way and a self loop: 4
	// pairs are free, so 4 non-edges can be drawn and 5 cannot.
	g := &Graph{Name: "g", N: 4, Src: []int32{0, 1, 1, 3}, Dst: []int32{1, 0, 2, 3}, Graphs: 1}
	x := NewEdgeIndex(g)
	p, err := x.NonEdges(Pairs{}, 4, newRand(1, "test"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint64]bool{}
	for i := range p.Len() {
		s, d := p.Src[i], p.Dst[i]
		got[edgeKey(min(s, d), max(s, d))] = true
		if p.Label[i] != 0 {
			t.Errorf("non-edge %d has label %v", i, p.Label[i])
		}
	}
	for _, k := range []uint64{edgeKey(0, 2), edgeKey(0, 3), edgeKey(1, 3), edgeKey(2, 3)} {
		if !got[k] {
			t.Errorf("non-edge (%d, %d) not drawn; got %v", k>>32, uint32(k), p)
		}
	}
	want := "data: want 5 non-edges, but a graph of 4 nodes with 2 node pairs joined by an edge has 4"
	if _, err := x.NonEdges(Pairs{}, 5, newRand(1, "test")); err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestGraphSetSplit(t *testing.T) {
	set, err := Cycles(CyclesOptions{Graphs: 100, MinNodes: 5, MaxNodes: 9, Features: "constant", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	train, test, err := set.Split(0.2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 80 || test.Len() != 20 {
		t.Fatalf("got %d training and %d test graphs, want 80 and 20", train.Len(), test.Len())
	}
	classes := [2]int{}
	for _, g := range test.Graphs {
		classes[g.GraphLabels[0]]++
		if slices.Contains(train.Graphs, g) {
			t.Fatal("a graph in both sets")
		}
	}
	if classes != [2]int{10, 10} {
		t.Errorf("test classes %v, want 10 of each", classes)
	}
	_, again, _ := set.Split(0.2, 3)
	_, other, _ := set.Split(0.2, 4)
	if !slices.Equal(again.Graphs, test.Graphs) || slices.Equal(other.Graphs, test.Graphs) {
		t.Error("want the same split for a seed and another for another seed")
	}
	if _, _, err := set.Split(1, 3); err == nil {
		t.Error("test fraction 1: no error")
	}
}
