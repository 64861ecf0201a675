package train

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/checkpoint"
)

// graphModule compiles a graph model's source.
func graphModule(t *testing.T, name, src string) (*ir.Module, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".dl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	m, _, err := compiler.Compile(path, []byte(src), compiler.Options{Optimize: true})
	if err != nil {
		t.Fatal(err)
	}
	return m, path
}

// TestGraphInterruptResume stops graph runs as Ctrl-C does (RunOptions.Stop turning true
// before a step): a node-level run between epochs, a graph-level one inside an epoch. The
// run must return ErrInterrupted having saved a checkpoint that --resume continues to the
// uninterrupted run's weights and optimiser state, bit for bit.
func TestGraphInterruptResume(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		stopAt    int // Stop turns true at its stopAt-th call
	}{
		{"node", `
import "std/gnn"
model M(x: [N, 34], g: graph(undirected: true)) -> [N, 2] {
    return gcn(relu(gcn(x, g, 8)), g, 2)
}
train M {
    data      = karate()
    loss      = cross_entropy
    labelled  = nodes([0, 33])
    optimizer = adam(lr: 0.01)
    epochs    = 6
}
`, 4},
		{"graph", `
import "std/gnn"
model Kind(x: [N, 1], g: graph) -> [G, 2] {
    return dense(readout(relu(batchnorm(gin(x, g, 8))), g, "mean"), 2)
}
train Kind {
    data      = cycles(graphs: 50, seed: 1)
    loss      = cross_entropy
    optimizer = adam(lr: 0.01)
    batch     = 8
    epochs    = 3
}
`, 10}, // 7 steps an epoch: stopped before the third step of epoch 2
		{"sampled", `
import "std/gnn"
model M(x: [N, 4], g: graph) -> [N, 2] {
    return sage(relu(sage(x, g, 8)), g, 2)
}
train M {
    data      = sbm(nodes: 200, blocks: 2, edges: 1000, features: 4, noise: 1)
    loss      = cross_entropy
    labelled  = fraction(0.2)
    optimizer = adam(lr: 0.01)
    batch     = 8
    neighbors = [3, 2]
    epochs    = 3
}
`, 9}, // 5 steps an epoch: stopped inside epoch 2
		{"edge", `
import "std/gnn"
model E(x: [N, 4], g: graph(undirected: true), q: pairs) -> [P, 2] {
    h = relu(sage(x, g, 8))
    return dense(concat(h[q.src], h[q.dst], axis: 1), 2)
}
train E {
    data       = sbm(nodes: 60, blocks: 2, edges: 200, features: 4, noise: 1, edge_target: "inside")
    loss       = cross_entropy
    test_edges = 0.2
    optimizer  = adam(lr: 0.01)
    epochs     = 5
}
`, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, path := graphModule(t, tc.name, tc.src)
			dir := t.TempDir()
			full, part := filepath.Join(dir, "full.safetensors"), filepath.Join(dir, "part.safetensors")
			train := func(o RunOptions) (string, error) {
				tr, err := NewTrainer(m)
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				o.Source, o.Epochs, o.Seed, o.Out = path, -1, -1, &out
				err = TrainGraph(tr, o)
				return out.String(), err
			}
			if out, err := train(RunOptions{Save: full}); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			calls := 0
			out, err := train(RunOptions{Save: part, Stop: func() bool { calls++; return calls >= tc.stopAt }})
			if !errors.Is(err, ErrInterrupted) || !strings.Contains(out, "continue with --resume "+part) {
				t.Fatalf("stopped run: %v\n%s", err, out)
			}
			if out, err := train(RunOptions{Resume: part, Save: part}); err != nil || !strings.Contains(out, "resuming") {
				t.Fatalf("resumed run: %v\n%s", err, out)
			}
			sameTensors(t, part, full)
		})
	}
}

// sameTensors fails unless the checkpoints at got and want hold the same tensors, bit for
// bit (want is the uninterrupted run's).
func sameTensors(t *testing.T, got, want string) {
	t.Helper()
	g, _, err := checkpoint.Load(got)
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := checkpoint.Load(want)
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != len(w) {
		t.Errorf("%d tensors, want %d", len(g), len(w))
	}
	for n, wt := range w {
		if !slices.EqualFunc(g[n].Data, wt.Data, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
			t.Errorf("%s differs from the uninterrupted run's", n)
		}
	}
}
