package data

import (
	"math"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// triangle is a valid directed graph of 3 nodes, 2 features, one edge
// feature, labels and a self loop.
func triangle() *Graph {
	return &Graph{
		Name: "tri", N: 3, F: 2, X: []float32{0, 1, 2, 3, 4, 5},
		Src: []int32{0, 1, 2, 2}, Dst: []int32{1, 2, 0, 2},
		Fe: 1, EdgeX: []float32{10, 11, 12, 13},
		Labels: []int32{0, -1, 1}, Classes: 2, Graphs: 1,
	}
}

func TestGraphValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(g *Graph)
		want string
	}{
		{"valid", func(g *Graph) {}, ""},
		{"ragged edges", func(g *Graph) { g.Dst = g.Dst[:3] },
			"data: tri: 4 edge sources but 3 targets, want one of each per edge"},
		{"negative source", func(g *Graph) { g.Src[2] = -1 },
			"data: tri: edge 2: source -1 out of range, want a node in [0, 3)"},
		{"target out of range", func(g *Graph) { g.Dst[1] = 3 },
			"data: tri: edge 1: target 3 out of range, want a node in [0, 3)"},
		{"features short", func(g *Graph) { g.X = g.X[:5] },
			"data: tri: node features hold 5 values, want 3 nodes × 2 = 6"},
		{"non-finite feature", func(g *Graph) { g.X[3] = float32(math.Inf(1)) },
			"data: tri: node 1: feature 1 is +Inf, want a finite number"},
		{"edge features short", func(g *Graph) { g.EdgeX = g.EdgeX[:2] },
			"data: tri: edge features hold 2 values, want 4 edges × 1 = 4"},
		{"labels for fewer nodes", func(g *Graph) { g.Labels = g.Labels[:2] },
			"data: tri: 2 node labels for 3 nodes, want one per node"},
		{"label too large", func(g *Graph) { g.Labels[2] = 2 },
			"data: tri: node 2: label 2, want a class in [0, 2) or -1 (unknown)"},
		{"label below -1", func(g *Graph) { g.Labels[0] = -2 },
			"data: tri: node 0: label -2, want a class in [0, 2) or -1 (unknown)"},
		{"no classes", func(g *Graph) { g.Classes = 0 },
			"data: tri: 0 classes, want 1 to 65536"},
		{"graphs without ids", func(g *Graph) { g.Graphs = 2 },
			"data: tri: 2 graphs but no graph id per node, want 1 graph or a graph id per node"},
		{"graph id out of range", func(g *Graph) { g.GraphID = []int32{0, 0, 2}; g.Graphs = 2 },
			"data: tri: node 2: graph id 2, want one in [0, 2)"},
		{"edge across graphs", func(g *Graph) { g.GraphID = []int32{0, 0, 1}; g.Graphs = 2 },
			"data: tri: edge 1: joins node 1 of graph 0 to node 2 of graph 1, want both ends in one graph"},
		{"graph labels short", func(g *Graph) {
			g.GraphID, g.Graphs, g.Src, g.Dst, g.EdgeX, g.GraphLabels = []int32{0, 0, 1}, 2, []int32{0}, []int32{1}, []float32{1}, []int32{1}
		}, "data: tri: 1 graph labels for 2 graphs, want one per graph"},
	} {
		g := triangle()
		tc.edit(g)
		err := g.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || err.Error() != tc.want) {
			t.Errorf("%s: got %v\nwant %q", tc.name, err, tc.want)
		}
	}
}

func TestUndirected(t *testing.T) {
	g := triangle()
	g.Src = append(g.Src, 0) // a duplicate 0→1: its reverse is added once
	g.Dst = append(g.Dst, 1)
	g.EdgeX = append(g.EdgeX, 14)
	u := g.Undirected()
	if err := u.Validate(); err != nil {
		t.Fatal(err)
	}
	want := &Graph{
		Src: []int32{0, 1, 2, 2, 0, 1, 2, 0}, Dst: []int32{1, 2, 0, 2, 1, 0, 1, 2},
		EdgeX: []float32{10, 11, 12, 13, 14, 10, 11, 12},
	}
	if d := cmp.Diff(want, &Graph{Src: u.Src, Dst: u.Dst, EdgeX: u.EdgeX}); d != "" {
		t.Errorf("Undirected (-want +got):\n%s", d)
	}
	if !u.Symmetric() || g.Symmetric() {
		t.Error("Symmetric: want the undirected graph symmetric and the directed one not")
	}
	if again := u.Undirected(); !slices.Equal(again.Src, u.Src) || !slices.Equal(again.Dst, u.Dst) {
		t.Error("Undirected of a symmetric graph changed its edges")
	}
	if g.E() != 5 {
		t.Error("Undirected changed its receiver")
	}
}

func TestKarate(t *testing.T) {
	g, err := Karate()
	if err != nil {
		t.Fatal(err)
	}
	if g.N != 34 || g.E() != 2*78 || g.F != 34 || g.Classes != 2 || !g.Symmetric() {
		t.Fatalf("got %d nodes, %d edges, %d features, %d classes, want 34, 156, 34, 2, symmetric", g.N, g.E(), g.F, g.Classes)
	}
	// Each member's friend count, from Zachary's table.
	wantDeg := []int32{16, 9, 10, 6, 3, 4, 4, 4, 5, 2, 3, 1, 2, 5, 2, 2, 2, 2, 2, 3, 2, 2, 2, 5, 3, 3, 2, 4, 3, 4, 4, 6, 12, 17}
	if d := cmp.Diff(wantDeg, g.InDegrees()); d != "" {
		t.Errorf("degrees (-want +got):\n%s", d)
	}
	officer := []int32{9, 14, 15, 18, 20, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33}
	for i, l := range g.Labels {
		want := int32(0)
		if slices.Contains(officer, int32(i)) {
			want = 1
		}
		if l != want {
			t.Errorf("node %d: club %d, want %d", i, l, want)
		}
	}
	if g.Labels[0] != 0 || g.Labels[33] != 1 {
		t.Error("Mr. Hi is node 0 (club 0), the Officer node 33 (club 1)")
	}
	for i := range g.N {
		for j := range g.N {
			want := float32(0)
			if i == j {
				want = 1
			}
			if g.X[i*34+j] != want {
				t.Fatalf("X[%d, %d] = %v, want the identity", i, j, g.X[i*34+j])
			}
		}
	}
}

func TestGraphSetBatch(t *testing.T) {
	a := &Graph{Name: "a", N: 2, F: 1, X: []float32{1, 2}, Src: []int32{0}, Dst: []int32{1}, Labels: []int32{0, 1},
		Classes: 2, Graphs: 1, GraphLabels: []int32{1}}
	b := &Graph{Name: "b", N: 3, F: 1, X: []float32{3, 4, 5}, Src: []int32{2, 1}, Dst: []int32{0, 2}, Labels: []int32{1, -1, 0},
		Classes: 2, Graphs: 1, GraphLabels: []int32{0}}
	set := &GraphSet{Name: "s", Graphs: []*Graph{a, b}, Classes: 2}
	if err := set.Validate(); err != nil {
		t.Fatal(err)
	}
	u := set.Batch(nil, []int{1, 0, 1})
	want := &Graph{
		Name: "s", N: 8, F: 1, X: []float32{3, 4, 5, 1, 2, 3, 4, 5},
		Src: []int32{2, 1, 3, 7, 6}, Dst: []int32{0, 2, 4, 5, 7},
		Labels: []int32{1, -1, 0, 0, 1, 1, -1, 0}, Classes: 2,
		GraphID: []int32{0, 0, 0, 1, 1, 2, 2, 2}, Graphs: 3, GraphLabels: []int32{0, 1, 0},
	}
	if d := cmp.Diff(want, u); d != "" {
		t.Fatalf("Batch (-want +got):\n%s", d)
	}
	if err := u.Validate(); err != nil {
		t.Fatal(err)
	}
	// A second, smaller batch into the same graph reuses its arrays.
	x, src := &u.X[0], &u.Src[0]
	u2 := set.Batch(u, []int{0})
	if u2 != u || &u2.X[0] != x || &u2.Src[0] != src {
		t.Error("Batch did not reuse dst's arrays")
	}
	if d := cmp.Diff(&Graph{Name: "s", N: 2, F: 1, X: []float32{1, 2}, Src: []int32{0}, Dst: []int32{1}, Labels: []int32{0, 1},
		Classes: 2, GraphID: []int32{0, 0}, Graphs: 1, GraphLabels: []int32{1}}, u2); d != "" {
		t.Errorf("second Batch (-want +got):\n%s", d)
	}
	if n := testing.AllocsPerRun(10, func() { set.Batch(u, []int{1, 0, 1}) }); n != 0 {
		t.Errorf("Batch into a large enough graph allocated %v times, want 0", n)
	}
}

func TestGraphSetValidate(t *testing.T) {
	one := func(f int, label int32) *Graph {
		return &Graph{Name: "g", N: 1, F: f, X: make([]float32, f), Classes: 2, Graphs: 1, GraphLabels: []int32{label}}
	}
	for _, tc := range []struct {
		graphs []*Graph
		want   string
	}{
		{[]*Graph{one(1, 0), one(1, 1)}, ""},
		{[]*Graph{one(1, 0), one(2, 1)}, "data: s: graph 1: 2 node and 0 edge features, want 1 and 0 like graph 0"},
		{[]*Graph{one(1, 0), one(1, 2)}, "data: g: graph 0: label 2, want a class in [0, 2)"},
		{[]*Graph{one(1, 0), {Name: "g", N: 1, F: 1, X: []float32{0}, Graphs: 1}}, "data: s: graph 1: want a single graph with one label"},
	} {
		s := &GraphSet{Name: "s", Graphs: tc.graphs, Classes: 2}
		err := s.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || err.Error() != tc.want) {
			t.Errorf("got %v\nwant %q", err, tc.want)
		}
	}
}
