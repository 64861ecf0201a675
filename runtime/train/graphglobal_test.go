package train

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"
)

// TestGlobalAttributeOnOneGraph trains a node-level model whose layer broadcasts a readout
// of the graph back to its nodes (u[g.graph]): on one graph every node is in graph 0, and
// the run must feed the graph ids and learn (the test accuracy above chance after 30 epochs).
func TestGlobalAttributeOnOneGraph(t *testing.T) {
	m, path := graphModule(t, "ku", `
import "std/gnn"
layer WithU(h: [N, F], g: graph, H: int) -> [N, H] {
    u         = relu(dense(readout(h, g, "mean"), H))
    message   = h[g.src]
    aggregate = mean
    update    = relu(dense(concat(h, aggregated, u[g.graph], axis: 1), H))
}
model Club(x: [N, 34], g: graph(undirected: true)) -> [N, 2] {
    return dense(WithU(x, g, H: 16), 2)
}
train Club {
    data      = karate()
    loss      = cross_entropy
    labelled  = nodes([0, 33])
    optimizer = adam(lr: 0.01)
    epochs    = 30
}
`)
	tr, err := NewTrainer(m)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Train(tr, RunOptions{Source: path, Epochs: -1, Seed: -1, Out: &out}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	acc := regexp.MustCompile(`epoch 30/30 .* test_accuracy ([0-9.]+)`).FindStringSubmatch(out.String())
	if acc == nil {
		t.Fatalf("no last epoch line:\n%s", out.String())
	}
	if a, _ := strconv.ParseFloat(acc[1], 64); a < 0.75 {
		t.Errorf("test accuracy %v after 30 epochs, want ≥ 0.75 (chance is 0.5)\n%s", a, out.String())
	}
}
