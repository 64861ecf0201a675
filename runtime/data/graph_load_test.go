package data

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGraphCSV(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	nodes := file("nodes.csv", "a,b,y\n0.5,1,0\n2,3,-1\n4,5,1\n")
	edges := file("edges.csv", "src,dst\n0,1\n1,2\n\n2,0\n")
	g, err := GraphCSV(GraphFiles{Nodes: nodes, Edges: edges, Label: "y"})
	if err != nil {
		t.Fatal(err)
	}
	want := &Graph{Name: edges, N: 3, F: 2, X: []float32{0.5, 1, 2, 3, 4, 5}, Src: []int32{0, 1, 2}, Dst: []int32{1, 2, 0},
		Labels: []int32{0, -1, 1}, Classes: 2, Graphs: 1}
	if d := cmp.Diff(want, g); d != "" {
		t.Errorf("GraphCSV (-want +got):\n%s", d)
	}

	// Edge features, no header, a separate label table, declared classes.
	plain := file("plain.csv", "1\n2\n3\n")
	weighted := file("w.csv", "0, 1, 0.5\n2, 2, 1.5\n")
	labels := file("labels.csv", "class\n2\n0\n1\n")
	g, err = GraphCSV(GraphFiles{Nodes: plain, Edges: weighted, Labels: labels, Classes: 4})
	if err != nil {
		t.Fatal(err)
	}
	want = &Graph{Name: weighted, N: 3, F: 1, X: []float32{1, 2, 3}, Src: []int32{0, 2}, Dst: []int32{1, 2},
		Fe: 1, EdgeX: []float32{0.5, 1.5}, Labels: []int32{2, 0, 1}, Classes: 4, Graphs: 1}
	if d := cmp.Diff(want, g); d != "" {
		t.Errorf("GraphCSV with edge features (-want +got):\n%s", d)
	}

	for _, tc := range []struct {
		name  string
		files GraphFiles
		want  string
	}{
		{"ragged edge list", GraphFiles{Nodes: nodes, Edges: file("r.csv", "0,1\n1,2,3\n")},
			"data: DIR/r.csv:2: got 3 fields, want 2 like the first row"},
		{"negative index", GraphFiles{Nodes: nodes, Edges: file("n.csv", "s,d\n0,1\n-1,2\n")},
			"data: DIR/n.csv:3: source -1 out of range, want a node in [0, 3)"},
		{"index out of range", GraphFiles{Nodes: nodes, Edges: file("o.csv", "0,1\n1,2\n2,3\n")},
			"data: DIR/o.csv:3: target 3 out of range, want a node in [0, 3)"},
		{"fractional index", GraphFiles{Nodes: nodes, Edges: file("f.csv", "0,1.5\n")},
			`data: DIR/f.csv:1: target "1.5", want a node index (an integer)`},
		{"one column", GraphFiles{Nodes: nodes, Edges: file("c.csv", "0\n1\n")},
			"data: DIR/c.csv:1: got 1 field, want a source and a target per edge"},
		{"bad edge feature", GraphFiles{Nodes: nodes, Edges: file("bf.csv", "0,1,2\n0,1,x\n")},
			`data: DIR/bf.csv:2: edge feature 0: got "x", want a number`},
		{"label table too short", GraphFiles{Nodes: plain, Edges: edges, Labels: file("short.csv", "0\n1\n")},
			"data: DIR/short.csv has 2 labels but DIR/plain.csv has 3 nodes, want one label per node"},
		{"label table too wide", GraphFiles{Nodes: plain, Edges: edges, Labels: file("wide.csv", "0,1\n1,1\n0,0\n")},
			"data: DIR/wide.csv: 2 columns, want one: the class of each node"},
		{"fractional label", GraphFiles{Nodes: file("fl.csv", "1,0.5\n"), Edges: edges, Label: "1"},
			"data: DIR/fl.csv: node 0: label 0.5, want a class index in [0, 65536) or -1 (unknown)"},
		{"label not below classes", GraphFiles{Nodes: nodes, Edges: edges, Label: "y", Classes: 1},
			"data: DIR/nodes.csv: node 2: label 1, want a class below 1"},
		{"labels twice", GraphFiles{Nodes: nodes, Edges: edges, Label: "y", Labels: labels},
			`data: DIR/nodes.csv: labels given both as column "y" and as file DIR/labels.csv, want one`},
		{"ragged node table", GraphFiles{Nodes: file("rn.csv", "1,2\n3\n"), Edges: edges},
			"data: DIR/rn.csv:2: got 1 fields, want 2 like the first row"},
		{"missing edge file", GraphFiles{Nodes: nodes, Edges: filepath.Join(dir, "none.csv")},
			"data: open DIR/none.csv: no such file or directory"},
	} {
		_, err := GraphCSV(tc.files)
		if got := errText(err, dir); got != tc.want {
			t.Errorf("%s: got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

// errText is the error's message with dir shown as DIR.
func errText(err error, dir string) string {
	if err == nil {
		return "no error"
	}
	return strings.ReplaceAll(err.Error(), dir, "DIR")
}

func TestGraphNPY(t *testing.T) {
	dir := t.TempDir()
	file := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	x := file("x.npy", npyFile(1, npyHeader("<f4", "(3, 2)"), []float32{0, 1, 2, 3, 4, 5}))
	e := file("e.npy", npyFile(1, npyHeader("<i8", "(2, 2)"), []int64{0, 1, 2, 1}))
	y := file("y.npy", npyFile(1, npyHeader("<i4", "(3,)"), []int32{1, -1, 0}))
	ex := file("ex.npy", npyFile(1, npyHeader("<f4", "(2,)"), []float32{7, 8}))
	g, err := GraphNPY(GraphFiles{Nodes: x, Edges: e, Labels: y, EdgeX: ex})
	if err != nil {
		t.Fatal(err)
	}
	want := &Graph{Name: e, N: 3, F: 2, X: []float32{0, 1, 2, 3, 4, 5}, Src: []int32{0, 2}, Dst: []int32{1, 1},
		Fe: 1, EdgeX: []float32{7, 8}, Labels: []int32{1, -1, 0}, Classes: 2, Graphs: 1}
	if d := cmp.Diff(want, g); d != "" {
		t.Errorf("GraphNPY (-want +got):\n%s", d)
	}

	for _, tc := range []struct {
		name  string
		files GraphFiles
		want  string
	}{
		{"ragged edge list", GraphFiles{Nodes: x, Edges: file("r.npy", npyFile(1, npyHeader("<i8", "(2, 3)"), []int64{0, 1, 2, 1, 2, 0}))},
			"data: DIR/r.npy: shape [2 3], want edges [E, 2]: a source and a target per row"},
		{"negative index", GraphFiles{Nodes: x, Edges: file("n.npy", npyFile(1, npyHeader("<i4", "(3, 2)"), []int32{0, 1, 1, 2, -4, 0}))},
			"data: DIR/n.npy: edge 2 (row 2): source -4 out of range, want a node in [0, 3)"},
		{"index out of range", GraphFiles{Nodes: x, Edges: file("o.npy", npyFile(1, npyHeader("<i8", "(2, 2)"), []int64{0, 1, 1, 1 << 40}))},
			"data: DIR/o.npy: edge 1 (row 1): target 1099511627776 out of range, want a node in [0, 3)"},
		{"float edges", GraphFiles{Nodes: x, Edges: file("fe.npy", npyFile(1, npyHeader("<f4", "(1, 2)"), []float32{0, 1}))},
			"data: DIR/fe.npy: dtype <f4, want an integer array (<i4, <i8 or |u1)"},
		{"label table size", GraphFiles{Nodes: x, Edges: e, Labels: file("y2.npy", npyFile(1, npyHeader("<i8", "(2,)"), []int64{0, 1}))},
			"data: DIR/y2.npy has 2 labels but DIR/x.npy has 3 nodes, want one label per node"},
		{"edge features for other edges", GraphFiles{Nodes: x, Edges: e, EdgeX: file("ex3.npy", npyFile(1, npyHeader("<f4", "(3, 1)"), []float32{1, 2, 3}))},
			"data: DIR/ex3.npy has shape [3 1], want edge features [2, Fe] for the 2 edges of DIR/e.npy"},
		{"3-d node features", GraphFiles{Nodes: file("x3.npy", npyFile(1, npyHeader("<f4", "(1, 1, 1)"), []float32{1})), Edges: e},
			"data: DIR/x3.npy: shape [1 1 1], want node features [N, F]"},
		{"every label unknown", GraphFiles{Nodes: x, Edges: e, Labels: file("yu.npy", npyFile(1, npyHeader("<i8", "(3,)"), []int64{-1, -1, -1}))},
			"data: DIR/yu.npy: every label is -1 (unknown), want at least one class"},
	} {
		_, err := GraphNPY(tc.files)
		if got := errText(err, dir); got != tc.want {
			t.Errorf("%s: got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

// writeGraphsDir writes the many-graphs format; nil arrays are left out.
func writeGraphsDir(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func ints(shape string, v ...int64) []byte { return npyFile(1, npyHeader("<i8", shape), v) }

func TestGraphsDir(t *testing.T) {
	// Two graphs: nodes 0-1 (one edge) and nodes 2-4 (a path 2-3-4).
	good := map[string][]byte{
		"graph_id.npy":     ints("(5,)", 0, 0, 1, 1, 1),
		"graph_labels.npy": ints("(2,)", 1, 0),
		"edges.npy":        ints("(3, 2)", 0, 1, 2, 3, 4, 3),
		"edge_x.npy":       npyFile(1, npyHeader("<f4", "(3, 1)"), []float32{1, 2, 3}),
	}
	dir := writeGraphsDir(t, good)
	set, err := GraphsDir(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := &GraphSet{Name: dir, Classes: 2, Graphs: []*Graph{
		{Name: dir + ": graph 0", N: 2, F: 1, X: []float32{1, 1}, Src: []int32{0}, Dst: []int32{1}, Fe: 1, EdgeX: []float32{1},
			Classes: 2, Graphs: 1, GraphLabels: []int32{1}},
		{Name: dir + ": graph 1", N: 3, F: 1, X: []float32{1, 1, 1}, Src: []int32{0, 2}, Dst: []int32{1, 1}, Fe: 1, EdgeX: []float32{2, 3},
			Classes: 2, Graphs: 1, GraphLabels: []int32{0}},
	}}
	if d := cmp.Diff(want, set); d != "" {
		t.Errorf("GraphsDir (-want +got):\n%s", d)
	}
	if err := set.Validate(); err != nil {
		t.Fatal(err)
	}
	// Batching the set back gives the union that was read.
	u := set.Batch(nil, []int{0, 1})
	if d := cmp.Diff([]int32{0, 2, 4}, u.Src); d != "" {
		t.Errorf("batched sources (-want +got):\n%s", d)
	}

	with := func(name string, b []byte) map[string][]byte {
		m := map[string][]byte{}
		for k, v := range good {
			m[k] = v
		}
		if b == nil {
			delete(m, name)
		} else {
			m[name] = b
		}
		return m
	}
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"edge across graphs", with("edges.npy", ints("(2, 2)", 0, 1, 1, 2)),
			"data: DIR/edges.npy: edge 1 (row 1): joins node 1 of graph 0 to node 2 of graph 1, want both ends in one graph"},
		{"ragged edge list", with("edges.npy", ints("(6,)", 0, 1, 2, 3, 4, 3)),
			"data: DIR/edges.npy: shape [6], want edges [E, 2]: a source and a target per row"},
		{"edge index out of range", with("edges.npy", ints("(1, 2)", 0, 5)),
			"data: DIR/edges.npy: edge 0 (row 0): target 5 out of range, want a node in [0, 5)"},
		{"graph ids out of order", with("graph_id.npy", ints("(5,)", 0, 1, 0, 1, 1)),
			"data: DIR/graph_id.npy: node 2: graph 0 after graph 1, want graphs numbered 0 to 1 in order, none empty"},
		{"graph ids not from 0", with("graph_id.npy", ints("(5,)", 1, 1, 1, 1, 1)),
			"data: DIR/graph_id.npy: node 0: graph 1 after graph -1, want graphs numbered 0 to 1 in order, none empty"},
		{"more labels than graphs", with("graph_labels.npy", ints("(3,)", 0, 1, 1)),
			"data: DIR/graph_labels.npy has 3 graph labels but DIR/graph_id.npy has nodes for 2 graphs, want one label per graph"},
		{"unknown graph label", with("graph_labels.npy", ints("(2,)", 0, -1)),
			"data: DIR/graph_labels.npy: graph 1: label -1, want a class index"},
		{"features for other nodes", with("x.npy", npyFile(1, npyHeader("<f4", "(4, 1)"), []float32{1, 2, 3, 4})),
			"data: DIR/x.npy has shape [4 1], want node features [5, F] for the 5 nodes of DIR/graph_id.npy"},
		{"no edges file", with("edges.npy", nil),
			"data: open DIR/edges.npy: no such file or directory"},
	} {
		dir := writeGraphsDir(t, tc.files)
		_, err := GraphsDir(dir, 0)
		if got := errText(err, dir); got != tc.want {
			t.Errorf("%s: got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

// FuzzEdgeCSV: an edge list either fails with an error naming the file or
// gives a graph that passes Validate.
func FuzzEdgeCSV(f *testing.F) {
	f.Add([]byte("src,dst\n0,1\n1,2\n"), 3)
	f.Add([]byte("0,1,0.5\n2,2,1.5\n"), 3)
	f.Add([]byte("0,1\n1,2,3\n"), 3)
	f.Add([]byte("0,-1\n"), 2)
	f.Add([]byte("0,1e9\n"), 5)
	f.Add([]byte("0,1,NaN\n"), 2)
	f.Add([]byte("\"0\",\"1\n"), 2)
	f.Fuzz(func(t *testing.T, in []byte, n int) {
		g := &Graph{Name: "fuzz", N: n % 64, Graphs: 1}
		if g.N < 0 {
			g.N = -g.N
		}
		_, err := readEdgeCSV(bytes.NewReader(in), "fuzz", g)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "data: fuzz") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := g.Validate(); err != nil {
			t.Fatalf("accepted an edge list that does not validate: %v", err)
		}
	})
}

// FuzzGraphNPY: node, edge and label arrays either fail with an error
// naming a file or give a graph that passes Validate.
func FuzzGraphNPY(f *testing.F) {
	f.Add(npyFile(1, npyHeader("<f4", "(3, 2)"), []float32{0, 1, 2, 3, 4, 5}),
		npyFile(1, npyHeader("<i8", "(2, 2)"), []int64{0, 1, 2, 1}),
		npyFile(1, npyHeader("<i4", "(3,)"), []int32{1, -1, 0}))
	f.Add(npyFile(1, npyHeader("<f4", "(2,)"), []float32{0, 1}),
		npyFile(1, npyHeader("<i4", "(1, 2)"), []int32{0, 7}),
		npyFile(1, npyHeader("<i4", "(2,)"), []int32{-3, 0}))
	f.Fuzz(func(t *testing.T, x, e, y []byte) {
		dir := t.TempDir()
		files := GraphFiles{Nodes: filepath.Join(dir, "x.npy"), Edges: filepath.Join(dir, "e.npy"), Labels: filepath.Join(dir, "y.npy")}
		for name, b := range map[string][]byte{files.Nodes: x, files.Edges: e, files.Labels: y} {
			if err := os.WriteFile(name, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		g, err := GraphNPY(files)
		if err != nil {
			if !strings.Contains(err.Error(), dir) {
				t.Fatalf("error names no file: %v", err)
			}
			return
		}
		if err := g.Validate(); err != nil {
			t.Fatalf("accepted a graph that does not validate: %v", err)
		}
	})
}
