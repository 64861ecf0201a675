package train

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// edgeRun trains src and returns its output.
func edgeRun(t *testing.T, src string) (string, error) {
	t.Helper()
	m, path := graphModule(t, "e", src)
	tr, err := NewTrainer(m)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = Train(tr, RunOptions{Source: path, Epochs: -1, Seed: -1, Out: &out})
	return out.String(), err
}

const edgeClassifier = `
import "std/gnn"
model E(x: [N, 8], g: graph(undirected: true), q: pairs) -> [P, %s] {
    h = relu(sage(x, g, 16))
    h = sage(h, g, 16)
    return dense(relu(dense(concat(h[q.src], h[q.dst], axis: 1), 16)), %s)
}
train E {
    data       = sbm(nodes: 400, blocks: 4, edges: 4000, features: 8, noise: 1, edge_target: "inside")
    loss       = cross_entropy
    test_edges = 0.2
    optimizer  = adam(lr: 0.01)
    epochs     = 60
}
`

// TestEdgeClassesLearn trains an edge classifier on sbm's inside/across edges: the test
// accuracy must pass always answering the majority class (70% of the edges are inside).
func TestEdgeClassesLearn(t *testing.T) {
	out, err := edgeRun(t, strings.ReplaceAll(edgeClassifier, "%s", "2"))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "edge targets (2 classes) on 1600 training and 400 held-out pairs") {
		t.Errorf("first line does not describe the split:\n%s", out)
	}
	acc := regexp.MustCompile(`epoch 60/60 .* test_accuracy ([0-9.]+)`).FindStringSubmatch(out)
	if acc == nil {
		t.Fatalf("no last epoch line:\n%s", out)
	}
	if a, _ := strconv.ParseFloat(acc[1], 64); a < 0.8 {
		t.Errorf("test accuracy %v after 60 epochs, want ≥ 0.8 (the majority class is 0.7)\n%s", a, out)
	}
}

// TestEdgeTargetErrors: a class count other than the data's, and class predictions of
// edge values, are refused before training, naming the data.
func TestEdgeTargetErrors(t *testing.T) {
	if out, err := edgeRun(t, strings.ReplaceAll(edgeClassifier, "%s", "3")); err == nil || !strings.Contains(err.Error(), "the model predicts 3 classes per pair, the data's edges have 2 classes") {
		t.Errorf("3 classes against 2: got %v\n%s", err, out)
	}
	values := strings.ReplaceAll(strings.ReplaceAll(edgeClassifier, "%s", "2"), `"inside"`, `"distance"`)
	if out, err := edgeRun(t, values); err == nil || !strings.Contains(err.Error(), "the data's edge targets are values") {
		t.Errorf("classes of values: got %v\n%s", err, out)
	}
}
