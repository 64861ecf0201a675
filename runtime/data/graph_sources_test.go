package data

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

func TestValidateGraphSources(t *testing.T) {
	for _, tc := range []struct {
		source string
		args   map[string]string
		arg    string // the argument the error names
		want   string // "" for valid
	}{
		{"karate", nil, "", ""},
		{"sbm", map[string]string{"nodes": "100", "blocks": "2", "edges": "400", "p": "0.9", "noise": "1"}, "", ""},
		{"sbm", map[string]string{"nodes": "100", "blocks": "2", "edges": "400", "p": "1"}, "", ""},
		{"graph_csv", map[string]string{"nodes": "n.csv", "edges": "e.csv", "label": "club"}, "", ""},
		{"graph_npy", map[string]string{"x": "x.npy", "edges": "e.npy", "labels": "y.npy"}, "", ""},
		{"graphs", map[string]string{"dir": "d"}, "", ""},
		{"cycles", map[string]string{"graphs": "100", "features": "degree"}, "", ""},
		{"karate", map[string]string{"n": "3"}, "n", `karate: unknown argument "n" (want no arguments)`},
		{"sbm", map[string]string{"nodes": "100", "blocks": "2", "edges": "400", "p": "1.5"}, "p", "sbm: p = 1.5, want a number in [0, 1]"},
		{"sbm", map[string]string{"nodes": "100", "blocks": "2", "edges": "400", "p": "NaN"}, "p", "sbm: p = NaN, want a number in [0, 1]"},
		{"sbm", map[string]string{"nodes": "100", "blocks": "2", "edges": "400", "noise": "-1"}, "noise", "sbm: noise = -1, want a number ≥ 0"},
		{"sbm", map[string]string{"nodes": "100", "blocks": "2"}, "", "sbm: missing argument edges, want an int ≥ 0"},
		{"graph_npy", map[string]string{"x": "x.npy"}, "", "graph_npy: missing argument edges, want a file path"},
		{"cycles", map[string]string{"graphs": "10", "features": "pagerank"}, "features", `cycles: features = "pagerank", want "constant" or "degree"`},
	} {
		err := Validate(tc.source, tc.args)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Validate(%s, %v): %v", tc.source, tc.args, err)
		case tc.want == "":
		case err == nil || err.Error() != tc.want:
			t.Errorf("Validate(%s, %v): got error %v\nwant %s", tc.source, tc.args, err, tc.want)
		default:
			var ae *ArgError
			if !errors.As(err, &ae) || ae.Arg != tc.arg {
				t.Errorf("Validate(%s, %v): error names argument %q, want %q", tc.source, tc.args, ae.Arg, tc.arg)
			}
		}
	}
}

func TestGives(t *testing.T) {
	for name, want := range map[string]Gives{"mnist": GivesSamples, "csv": GivesSamples, "karate": GivesGraph, "sbm": GivesGraph,
		"graph_csv": GivesGraph, "graph_npy": GivesGraph, "graphs": GivesGraphs, "cycles": GivesGraphs} {
		src, ok := Lookup(name)
		if !ok || src.Gives() != want {
			t.Errorf("%s gives %v, want %v", name, src.Gives(), want)
		}
	}
}

func TestLoadGraph(t *testing.T) {
	g, err := LoadGraph(ir.DataSpec{Source: "sbm", Args: map[string]string{"nodes": "200", "blocks": "4", "edges": "1000", "p": "0.5"}})
	if err != nil {
		t.Fatal(err)
	}
	if g.N != 200 || g.E() != 1000 || g.F != 32 || g.Classes != 4 {
		t.Errorf("sbm: got %d nodes, %d edges, %d features, %d classes", g.N, g.E(), g.F, g.Classes)
	}
	if g, err = LoadGraph(ir.DataSpec{Source: "karate"}); err != nil || g.N != 34 {
		t.Errorf("karate: got %v, %v", g, err)
	}
	set, err := LoadGraphs(ir.DataSpec{Source: "cycles", Args: map[string]string{"graphs": "20"}})
	if err != nil || set.Len() != 20 || set.Graphs[0].F != 1 {
		t.Errorf("cycles: got %v, %v", set, err)
	}
	dir := writeGraphsDir(t, map[string][]byte{
		"graph_id.npy": ints("(3,)", 0, 0, 1), "graph_labels.npy": ints("(2,)", 0, 1), "edges.npy": ints("(1, 2)", 0, 1),
	})
	if set, err = LoadGraphs(ir.DataSpec{Source: "graphs", Args: map[string]string{"dir": dir}}); err != nil || set.Len() != 2 {
		t.Errorf("graphs: got %v, %v", set, err)
	}

	pos := ir.Pos{File: "g.dl", Line: 4, Col: 12}
	nodes := writeTemp(t, "n.csv", []byte("1\n2\n"))
	edges := filepath.Join(filepath.Dir(nodes), "e.csv")
	for _, tc := range []struct {
		spec ir.DataSpec
		load func(ir.DataSpec) error
		want string
	}{
		{ir.DataSpec{Source: "karate", Pos: pos}, func(s ir.DataSpec) error { _, err := Load(s, Options{}); return err },
			"g.dl:4:12: data: karate() gives a graph, want a source of samples"},
		{ir.DataSpec{Source: "csv", Args: map[string]string{"path": "a.csv"}}, func(s ir.DataSpec) error { _, err := LoadGraph(s); return err },
			`data: csv(path: "a.csv") gives samples, want a graph`},
		{ir.DataSpec{Source: "karate"}, func(s ir.DataSpec) error { _, err := LoadGraphs(s); return err },
			"data: karate() gives a graph, want a set of graphs"},
		{ir.DataSpec{Source: "sbm", Args: map[string]string{"nodes": "10"}, Pos: pos}, func(s ir.DataSpec) error { _, err := LoadGraph(s); return err },
			"g.dl:4:12: data: sbm: missing argument blocks, want an int ≥ 0"},
		{ir.DataSpec{Source: "graph_csv", Args: map[string]string{"nodes": nodes, "edges": edges}, Pos: pos},
			func(s ir.DataSpec) error { _, err := LoadGraph(s); return err },
			"g.dl:4:12: data: open " + edges + ": no such file or directory"},
	} {
		if err := tc.load(tc.spec); err == nil || err.Error() != tc.want {
			t.Errorf("%+v: got %v\nwant %s", tc.spec, err, tc.want)
		}
	}
}
