package train

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/data"
)

// cacheBytes is what the segment-index caches of tr's programs hold: the lengths of every
// entry's arrays (their capacities may be rounded up to an allocation size class).
func cacheBytes(tr *Trainer) (n int64, entries int) {
	for _, p := range tr.progs {
		pn, pe := p.IndexCacheBytes()
		n, entries = n+pn, entries+pe
	}
	return n, entries
}

// TestGraphMemoryCountsIndexes trains one epoch of a node-, a link- and a graph-level model
// and checks the estimate's segment indexes against what the programs' caches then hold
// (the set of graphs is one batch, as the estimate is made at a set's largest batch), and
// that they are part of the total that --max-memory checks.
func TestGraphMemoryCountsIndexes(t *testing.T) {
	for _, tc := range []struct {
		name, src string
	}{
		{"node", `
import "std/gnn"
model M(x: [N, 34], g: graph(undirected: true)) -> [N, 2] {
    return gcn(relu(sage(x, g, 8)), g, 2)
}
train M {
    data      = karate()
    loss      = cross_entropy
    labelled  = nodes([0, 33])
    optimizer = adam(lr: 0.01)
}
`},
		{"link", `
import "std/gnn"
model Link(x: [N, 8], g: graph(undirected: true), q: pairs) -> [P] {
    h = sage(relu(gin(x, g, 16)), g, 8)
    return sum(h[q.src] * h[q.dst], axis: 1)
}
train Link {
    data       = sbm(nodes: 200, blocks: 2, edges: 1600, features: 8, seed: 2)
    test_edges = 0.1
    optimizer  = adam(lr: 0.01)
}
`},
		{"graph", `
import "std/gnn"
model Kind(x: [N, 1], g: graph) -> [G, 2] {
    h = relu(gin(x, g, 8))
    return dense(readout(h, g, "max"), 2)
}
train Kind {
    data      = cycles(graphs: 40, seed: 1)
    test      = cycles(graphs: 20, seed: 2)
    loss      = cross_entropy
    optimizer = adam(lr: 0.01)
    batch     = 64
}
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.name+".dl")
			if err := os.WriteFile(path, []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			m, _, err := compiler.Compile(path, []byte(tc.src), compiler.Options{Optimize: true})
			if err != nil {
				t.Fatal(err)
			}
			tr, err := NewTrainer(m)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := TrainGraph(tr, RunOptions{Source: path, Epochs: 1, Seed: -1, Out: &out}); err != nil {
				t.Fatal(err)
			}
			run, err := newGraphRun(tr, tr.Spec.Task, tr.Spec, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			e, err := run.memory()
			if err != nil {
				t.Fatal(err)
			}
			got, entries := cacheBytes(tr)
			if entries == 0 || e.Index != got {
				t.Errorf("estimated segment indexes %d bytes, the caches hold %d in %d entries", e.Index, got, entries)
			}
			if e.Total() != e.Params+e.State+e.Optim+e.Activ+e.Index {
				t.Errorf("total %d leaves out the indexes", e.Total())
			}
			if !strings.Contains(out.String(), "segment indexes "+runtime.FormatBytes(e.Index)) {
				t.Errorf("the run's memory line does not give the indexes:\n%s", out.String())
			}
			// --max-memory one byte under the estimate refuses the run.
			tr2, _ := NewTrainer(m)
			err = TrainGraph(tr2, RunOptions{Source: path, Epochs: 1, Seed: -1, MaxMemory: e.Total() - 1})
			if err == nil || !strings.Contains(err.Error(), "--max-memory") {
				t.Errorf("--max-memory below the estimate: %v", err)
			}
		})
	}
}

// The estimate's activations are the buffers the programs really keep: after a step of each
// phase of a GAN with batch norm (two phases, a sample extra), the programs' planned bytes
// add up to the estimate's.
func TestEstimateMatchesPlan(t *testing.T) {
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("a,b,c,d,e,f\n")
	for i := range 40 {
		fmt.Fprintf(&csv, "%d,%d,%d,%d,%d,%d\n", i%3, i%5, i%7, i%2, i%4, i%6)
	}
	if err := os.WriteFile(filepath.Join(dir, "p.csv"), []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `
generator G(z: [B, 4]) -> [B, 6] {
    return dense(relu(batchnorm(dense(z, 16))), 6)
}
discriminator D(x: [B, 6]) -> [B, 1] {
    return dense(leaky_relu(dense(x, 16), 0.2), 1)
}
gan GAN(gen: G, disc: D) {
    noise = normal(4)
}
train GAN {
    data      = csv(path: "p.csv", label: "")
    optimizer = adam(lr: 0.01)
    batch     = 8
    epochs    = 1
}
`
	path := filepath.Join(dir, "g.dl")
	m, _, err := compiler.Compile(path, []byte(src), compiler.Options{Optimize: true})
	if err != nil {
		t.Fatal(err)
	}
	e, err := runtime.EstimateMemory(m, 0)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.InitParams(1); err != nil {
		t.Fatal(err)
	}
	set, err := data.Load(m.Train.Data, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7}
	for i := range m.Train.Phases {
		if _, _, err := tr.StepPhase(i, set, idx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tr.Sample(8, rand.New(rand.NewPCG(1, 1)), nil); err != nil {
		t.Fatal(err)
	}
	got := int64(0)
	for _, p := range tr.progs {
		got += int64(p.PlannedBytes())
	}
	// Scalars (a loss, a metric) may be planned as views; allow a few bytes.
	if d := e.Activ - got; d < 0 || d > 64 {
		t.Errorf("estimated activations %d bytes, the programs planned %d", e.Activ, got)
	}
}
