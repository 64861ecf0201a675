package data

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestGraphCSVEdgeTargets reads an edge list's target column out of its features, by
// header name and by index, as classes and as values, and refuses a bad column.
func TestGraphCSVEdgeTargets(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	nodes := file("nodes.csv", "a\n1\n2\n3\n")
	edges := file("edges.csv", "src,dst,w,kind,len\n0,1,0.5,1,2.5\n1,2,1.5,-1,3\n2,0,2,0,1\n")
	g, err := GraphCSV(GraphFiles{Nodes: nodes, Edges: edges, EdgeLabel: "kind"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]float32{1, -1, 0}, g.EdgeY); d != "" || g.EdgeClasses != 2 || g.Fe != 2 || !slices.Equal(g.EdgeX, []float32{0.5, 2.5, 1.5, 3, 2, 1}) {
		t.Errorf("classes by name: EdgeY %v (%s), %d classes, Fe %d, EdgeX %v", g.EdgeY, d, g.EdgeClasses, g.Fe, g.EdgeX)
	}
	g, err = GraphCSV(GraphFiles{Nodes: nodes, Edges: edges, EdgeLabel: "4", EdgeValues: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.EdgeY, []float32{2.5, 3, 1}) || g.EdgeClasses != 0 || !slices.Equal(g.EdgeX, []float32{0.5, 1, 1.5, -1, 2, 0}) {
		t.Errorf("values by index: EdgeY %v, %d classes, EdgeX %v", g.EdgeY, g.EdgeClasses, g.EdgeX)
	}
	// Undirected: the reverse edges carry their edge's target.
	u := g.Undirected()
	if !slices.Equal(u.EdgeY, []float32{2.5, 3, 1, 2.5, 3, 1}) {
		t.Errorf("undirected EdgeY %v", u.EdgeY)
	}
	for _, c := range []struct{ label, want string }{
		{"kinds", `edge_label "kinds": no such column (have src, dst, w, kind, len)`},
		{"1", "edge_label 1: column 1, want one of the columns after the source and target, 2 to 4"},
		{"len", "edge 0: target 2.5, want a class index"},
	} {
		if _, err := GraphCSV(GraphFiles{Nodes: nodes, Edges: edges, EdgeLabel: c.label}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("edge_label %s: got %v, want %q", c.label, err, c.want)
		}
	}
}

// TestSBMEdgeTargets: edge targets leave the graph as it is and follow the blocks.
func TestSBMEdgeTargets(t *testing.T) {
	o := SBMOptions{Nodes: 200, Blocks: 4, Edges: 1000, P: 0.7, Features: 4, Noise: 1, Seed: 2}
	plain, err := SBM(o)
	if err != nil {
		t.Fatal(err)
	}
	o.EdgeTarget = "inside"
	in, err := SBM(o)
	if err != nil {
		t.Fatal(err)
	}
	o.EdgeTarget = "distance"
	dist, err := SBM(o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(plain.Src, in.Src) || !slices.Equal(plain.X, dist.X) || plain.EdgeY != nil {
		t.Fatal("edge targets changed the graph")
	}
	inside := 0
	for e, s := range in.Src {
		same := in.Labels[s] == in.Labels[in.Dst[e]]
		if same != (in.EdgeY[e] == 1) || same != (dist.EdgeY[e] == 0) {
			t.Fatalf("edge %d (%d→%d): inside %v, distance %v", e, s, in.Dst[e], in.EdgeY[e], dist.EdgeY[e])
		}
		if same {
			inside++
		}
	}
	if inside != 700 || in.EdgeClasses != 2 || dist.EdgeClasses != 0 {
		t.Errorf("%d of 1000 edges inside (want 700), classes %d and %d", inside, in.EdgeClasses, dist.EdgeClasses)
	}
	train, test, err := SplitEdgeTargets(in, 0.2, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 400 || test.Len() != 100 {
		t.Errorf("split %d / %d pairs, want 400 / 100 (each undirected pair once)", train.Len(), test.Len())
	}
	again, _, _ := SplitEdgeTargets(in, 0.2, 1, true)
	if !slices.Equal(again.Src, train.Src) {
		t.Error("the same seed split differently")
	}
}

// TestGraphNPYEdgeTargets reads edge_y: integer classes, float values, and refuses a
// length other than the edges'.
func TestGraphNPYEdgeTargets(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, f func(w *os.File) error) string {
		p := filepath.Join(dir, name)
		w, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f(w); err != nil {
			t.Fatal(err)
		}
		w.Close()
		return p
	}
	x := write("x.npy", func(w *os.File) error { return WriteNPY(w, []int{3, 1}, []float32{1, 2, 3}) })
	e := write("e.npy", func(w *os.File) error { return WriteNPYInt32(w, []int{2, 2}, []int32{0, 1, 1, 2}) })
	cls := write("c.npy", func(w *os.File) error { return WriteNPYInt32(w, []int{2}, []int32{2, -1}) })
	val := write("v.npy", func(w *os.File) error { return WriteNPY(w, []int{2}, []float32{0.5, 7}) })
	short := write("s.npy", func(w *os.File) error { return WriteNPY(w, []int{1}, []float32{0.5}) })
	g, err := GraphNPY(GraphFiles{Nodes: x, Edges: e, EdgeY: cls})
	if err != nil || !slices.Equal(g.EdgeY, []float32{2, -1}) || g.EdgeClasses != 3 {
		t.Errorf("classes: %v, %d classes, %v", g.EdgeY, g.EdgeClasses, err)
	}
	g, err = GraphNPY(GraphFiles{Nodes: x, Edges: e, EdgeY: val})
	if err != nil || !slices.Equal(g.EdgeY, []float32{0.5, 7}) || g.EdgeClasses != 0 {
		t.Errorf("values: %v, %d classes, %v", g.EdgeY, g.EdgeClasses, err)
	}
	if _, err := GraphNPY(GraphFiles{Nodes: x, Edges: e, EdgeY: short}); err == nil || !strings.Contains(err.Error(), "want edge targets [2] for the 2 edges") {
		t.Errorf("short: %v", err)
	}
}
