package data

import (
	"bytes"
	_ "embed"
)

// Zachary's karate club (W. W. Zachary, "An information flow model for
// conflict and fission in small groups", J. Anthropological Research 33,
// 1977): 34 members, 78 friendships, and the two clubs the members joined
// when the club split, class 0 for Mr. Hi's (node 0 is Mr. Hi) and class 1
// for the Officer's (node 33 is the Officer, John A.). The numbering and
// the club of each member are those of the edge list and "club" attribute
// NetworkX and PyTorch Geometric ship, so figures compare with theirs.
// The two files are in the graph CSV format and are read by its readers.

//go:embed graphdata/karate_nodes.csv
var karateNodes []byte

//go:embed graphdata/karate_edges.csv
var karateEdges []byte

// Karate returns the karate club graph: 34 nodes with one-hot identity
// features [34, 34], its 78 undirected edges stored both ways (156), and
// the club of each member as its label (2 classes).
func Karate() (*Graph, error) {
	const nodesName, edgesName = "karate_nodes.csv", "karate_edges.csv"
	nodes, err := readCSV(bytes.NewReader(karateNodes), nodesName, CSVOptions{LabelColumn: "club", Regression: true})
	if err != nil {
		return nil, err
	}
	labels, err := classIndices(nodesName, nodes.Y)
	if err != nil {
		return nil, err
	}
	n := nodes.Len()
	g := &Graph{Name: "karate", N: n, F: n, X: IdentityFeatures(n), Labels: labels, Classes: 2, Graphs: 1}
	if _, err := readEdgeCSV(bytes.NewReader(karateEdges), edgesName, g); err != nil {
		return nil, err
	}
	g = g.Undirected()
	return g, g.Validate()
}
