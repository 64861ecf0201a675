package train

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestSampledNodeTaskLearns trains a node task on neighbour-sampled mini-batches: the
// first line states the sampling, and the test accuracy (over sampled batches of the
// evaluated nodes) passes chance, 0.25, by far after 4 epochs.
func TestSampledNodeTaskLearns(t *testing.T) {
	out, err := edgeRun(t, `
import "std/gnn"
model M(x: [N, 8], g: graph) -> [N, 4] {
    return sage(relu(sage(x, g, 16)), g, 4)
}
train M {
    data      = sbm(nodes: 2000, blocks: 4, edges: 20000, features: 8, noise: 2)
    loss      = cross_entropy
    labelled  = fraction(0.2)
    optimizer = adam(lr: 0.01)
    batch     = 64
    neighbors = [5, 5]
    epochs    = 4
}
`)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "sampling neighbours [5, 5] of batches of 64 seed nodes: at most 1984 nodes and 1920 edges a batch") {
		t.Errorf("no sampling line:\n%s", out)
	}
	acc := regexp.MustCompile(`epoch 4/4 .* test_accuracy ([0-9.]+)`).FindStringSubmatch(out)
	if acc == nil {
		t.Fatalf("no last epoch line:\n%s", out)
	}
	if a, _ := strconv.ParseFloat(acc[1], 64); a < 0.6 {
		t.Errorf("test accuracy %v after 4 epochs, want ≥ 0.6 (chance is 0.25)\n%s", a, out)
	}
}
