package data

import (
	"fmt"
	"strconv"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
)

// The graph sources' loaders. A source gives samples, one graph or a set
// of graphs; Gives says which, so a run can check its model's task against
// its data before anything loads, and LoadGraph and LoadGraphs are Load's
// counterparts.

// Gives is what a data source produces.
type Gives int

const (
	GivesSamples Gives = iota // a Set: samples [N, ...] and targets
	GivesGraph                // one Graph (node, edge or link tasks)
	GivesGraphs               // a GraphSet of small graphs, one label each
)

func (g Gives) String() string {
	switch g {
	case GivesGraph:
		return "a graph"
	case GivesGraphs:
		return "a set of graphs"
	}
	return "samples"
}

// Gives says what the source produces.
func (s *Source) Gives() Gives {
	switch {
	case s.graph != nil:
		return GivesGraph
	case s.graphs != nil:
		return GivesGraphs
	}
	return GivesSamples
}

// SBMNoise is the sbm source's default noise (see schema.SBMNoise).
const SBMNoise = schema.SBMNoise

// graphLoaders holds the graph sources' loaders, keyed like loaders by
// their schema names.
var graphLoaders = map[string]Source{
	"karate": {graph: func(*Source, map[string]string) (*Graph, error) {
		return Karate()
	}},
	"sbm": {graph: func(src *Source, args map[string]string) (*Graph, error) {
		return SBM(SBMOptions{
			Nodes: intArg(src, args, "nodes"), Blocks: intArg(src, args, "blocks"), Edges: intArg(src, args, "edges"),
			P: floatArg(src, args, "p"), Features: intArg(src, args, "features"), Noise: floatArg(src, args, "noise"),
			Seed: uint64(intArg(src, args, "seed")), EdgeTarget: src.value(args, "edge_target"),
		})
	}},
	"graph_csv": {graph: func(src *Source, args map[string]string) (*Graph, error) {
		label := src.value(args, "label")
		if label == "-1" {
			label = ""
		}
		edgeLabel := src.value(args, "edge_label")
		if edgeLabel == "-1" {
			edgeLabel = ""
		}
		return GraphCSV(GraphFiles{Nodes: args["nodes"], Edges: args["edges"], Label: label,
			Labels: args["labels"], Classes: intArg(src, args, "classes"),
			EdgeLabel: edgeLabel, EdgeValues: src.value(args, "edge_target") == "value"})
	}},
	"graph_npy": {graph: func(src *Source, args map[string]string) (*Graph, error) {
		return GraphNPY(GraphFiles{Nodes: args["x"], Edges: args["edges"], Labels: args["labels"],
			EdgeX: args["edge_x"], EdgeY: args["edge_y"], Classes: intArg(src, args, "classes")})
	}},
	"graphs": {graphs: func(src *Source, args map[string]string) (*GraphSet, error) {
		return GraphsDir(args["dir"], intArg(src, args, "classes"))
	}},
	"cycles": {graphs: func(src *Source, args map[string]string) (*GraphSet, error) {
		return Cycles(CyclesOptions{Graphs: intArg(src, args, "graphs"), MinNodes: intArg(src, args, "min_nodes"),
			MaxNodes: intArg(src, args, "max_nodes"), Features: src.value(args, "features"), Seed: uint64(intArg(src, args, "seed"))})
	}},
}

// EdgeTargets reports whether a train block's data source gives its graph's edges
// targets (sbm's edge_target, graph_csv's edge_label, graph_npy's edge_y), which makes a
// model that scores pairs an edge-level model rather than a link predictor.
func EdgeTargets(spec ir.DataSpec) bool {
	src, ok := Lookup(spec.Source)
	if !ok {
		return false
	}
	switch spec.Source {
	case "sbm":
		v := src.value(spec.Args, "edge_target")
		return v != "" && v != "none"
	case "graph_csv":
		v := src.value(spec.Args, "edge_label")
		return v != "" && v != "-1"
	case "graph_npy":
		return spec.Args["edge_y"] != ""
	}
	return false
}

// intArg and floatArg read an argument Validate has checked.
func intArg(src *Source, args map[string]string, name string) int {
	v, _ := strconv.Atoi(src.value(args, name))
	return v
}

func floatArg(src *Source, args map[string]string, name string) float64 {
	v, _ := strconv.ParseFloat(src.value(args, name), 64)
	return v
}

// LoadGraph validates a train block's data source, which must give a
// graph, and loads it. Errors carry the source's .dl position.
func LoadGraph(spec ir.DataSpec) (*Graph, error) {
	src, err := graphSource(spec, GivesGraph)
	if err != nil {
		return nil, positioned(spec, err)
	}
	g, err := src.graph(src, spec.Args)
	if err == nil && g.N == 0 {
		err = fmt.Errorf("data: %s: no nodes, want at least one", describe(src, spec.Args))
	}
	if err != nil {
		return nil, positioned(spec, err)
	}
	return g, nil
}

// LoadGraphs validates a train block's data source, which must give a set
// of graphs, and loads it, checking the whole set.
func LoadGraphs(spec ir.DataSpec) (*GraphSet, error) {
	src, err := graphSource(spec, GivesGraphs)
	if err != nil {
		return nil, positioned(spec, err)
	}
	s, err := src.graphs(src, spec.Args)
	if err == nil && s.Len() == 0 {
		err = fmt.Errorf("data: %s: no graphs, want at least one", describe(src, spec.Args))
	}
	if err == nil {
		err = s.Validate()
	}
	if err != nil {
		return nil, positioned(spec, err)
	}
	return s, nil
}

func graphSource(spec ir.DataSpec, want Gives) (*Source, error) {
	if err := Validate(spec.Source, spec.Args); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	src, _ := Lookup(spec.Source)
	if got := src.Gives(); got != want {
		return nil, fmt.Errorf("data: %s gives %s, want %s", describe(src, spec.Args), got, want)
	}
	return src, nil
}

func positioned(spec ir.DataSpec, err error) error {
	if spec.Pos.IsValid() {
		return fmt.Errorf("%s: %w", spec.Pos, err)
	}
	return err
}
