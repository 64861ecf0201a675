package train

import (
	"bytes"
	"strings"
	"testing"
)

// TestGraphValidation: every graph task validates on what it holds out (labelled nodes,
// training edges, graphs), printing val_ metrics after the test ones, and a node-level
// run stops early on its validation accuracy.
func TestGraphValidation(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"node", `
import "std/gnn"
model M(x: [N, 34], g: graph(undirected: true)) -> [N, 2] {
    return gcn(relu(gcn(x, g, 8)), g, 2)
}
train M {
    data           = karate()
    loss           = cross_entropy
    labelled       = per_class(6)
    validation     = fraction(0.5)
    early_stopping = patience(2, monitor: "val_accuracy", min_delta: 2)
    optimizer      = adam(lr: 0.01)
    epochs         = 8
}
`, "6 labelled"},
		{"link", `
import "std/gnn"
model L(x: [N, 8], g: graph(undirected: true), q: pairs) -> [P] {
    h = sage(x, g, 8)
    return sum(h[q.src] * h[q.dst], axis: 1)
}
train L {
    data       = sbm(nodes: 200, blocks: 4, edges: 2000, features: 8, seed: 3)
    validation = fraction(0.2)
    optimizer  = adam(lr: 0.01)
    epochs     = 3
}
`, "val_auroc"},
		{"graph", `
import "std/gnn"
model Kind(x: [N, 1], g: graph) -> [G, 2] {
    return dense(readout(relu(gin(x, g, 8)), g, "mean"), 2)
}
train Kind {
    data       = cycles(graphs: 40, seed: 1)
    validation = fraction(0.25)
    loss       = cross_entropy
    batch      = 8
    epochs     = 2
}
`, "30 graphs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, path := graphModule(t, tc.name, tc.src)
			tr, err := NewTrainer(m)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := Train(tr, RunOptions{Source: path, Epochs: -1, Seed: -1, Out: &out}); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			s := out.String()
			if !strings.Contains(s, "val_loss") || !strings.Contains(s, tc.want) {
				t.Fatalf("output lacks val_loss or %q:\n%s", tc.want, s)
			}
			if tc.name == "node" && (!strings.Contains(s, "early stopping: val_accuracy") || strings.Contains(s, "epoch 4/8")) {
				t.Fatalf("node run did not stop after epoch 3:\n%s", s)
			}
		})
	}
}
