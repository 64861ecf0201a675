package export

import (
	"fmt"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/data"
)

// LoadGraphData loads a node task's graph as dlc run does, with the labelled nodes its
// train block chooses (drawn, for per_class and fraction, with the run's seed), so that
// train.py trains on exactly dlc's graph and split.
func LoadGraphData(spec *ir.TrainSpec) (*GraphData, error) {
	if spec.Task != ir.TaskNode {
		return nil, nil
	}
	g, err := data.LoadGraph(spec.Data)
	if err != nil {
		return nil, err
	}
	v := spec.Graph.Labelled
	if v == nil {
		return nil, fmt.Errorf("%s: train: a node-level task needs labelled", spec.Pos)
	}
	tr, _, err := data.SplitNodes(g, data.NodeSplit{Nodes: v.Nodes, PerClass: v.PerClass, Fraction: v.Fraction, Seed: uint64(spec.Seed)})
	if err != nil {
		return nil, fmt.Errorf("%s: labelled: %v", spec.Pos, err)
	}
	return &GraphData{N: g.N, F: g.F, X: g.X, Src: g.Src, Dst: g.Dst, Labels: g.Labels, Classes: g.Classes, Train: tr}, nil
}
