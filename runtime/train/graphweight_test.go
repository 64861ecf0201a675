package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
)

// weightedGCN is a two-layer model over weighted edges: std/gnn's gcn_weighted, and a
// layer whose weights are computed from the edge features by a trained dense layer, so
// that the gradient also flows through the weighted degrees into the weights themselves.
const weightedGCN = `
import "std/gnn"
%s
model M(x: [N, 3], g: graph(edge: [E, 1])) -> [N, 2] {
    return %s
}
train M {
    data      = graph_npy(x: "x.npy", edges: "e.npy", edge_x: "w.npy", labels: "y.npy")
    loss      = cross_entropy
    labelled  = nodes([0, 1, 2, 3])
}
`

const learnedWeights = `layer Learned(h: [N, F], g: graph(edge: [E, 1]), units: int) -> [N, units] {
    hw          = linear(h, units)
    self_loops  = true
    normalize   = sym
    edge_weight = sigmoid(dense(g.edge, 1))
    message     = hw[g.src]
    aggregate   = sum
    update      = aggregated
}`

// weightedInputs feeds a step function of weightedGCN a random graph of 6 nodes and 14
// weighted edges, node 5 reached by none (its weighted degree is the self loop's alone).
func weightedInputs(t *testing.T, w []float32) map[string]*runtime.Tensor {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	n, e := 6, 14
	x := make([]float32, n*3)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	src, dst := make([]int32, e), make([]int32, e)
	for i := range src {
		src[i], dst[i] = int32(r.IntN(n)), int32(r.IntN(n-1))
	}
	y := []float32{1, 0, 0, 1, 1, 0, 0, 1}
	in := map[string]*runtime.Tensor{}
	var err error
	must := func(v *runtime.Tensor, e error) *runtime.Tensor {
		if e != nil {
			err = e
		}
		return v
	}
	in["x"] = must(runtime.FromData([]int{n, 3}, x))
	in["g_src"] = must(runtime.FromInts([]int{e}, src))
	in["g_dst"] = must(runtime.FromInts([]int{e}, dst))
	in["g_edge"] = must(runtime.FromData([]int{e, 1}, w))
	in["nodes"] = must(runtime.FromInts([]int{4}, []int32{0, 1, 2, 3}))
	in["y"] = must(runtime.FromData([]int{4, 2}, y))
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestWeightedGCNGradients checks the step's gradients of weighted-edge layers against
// central differences of its loss, for every parameter element, with the IR passes on.
func TestWeightedGCNGradients(t *testing.T) {
	for _, c := range []struct{ decls, body string }{
		{"", "gcn_weighted(relu(gcn_weighted(x, g, 4)), g, 2)"},
		{learnedWeights, "Learned(tanh(Learned(x, g, 4)), g, 2)"},
	} {
		t.Run(strings.Fields(strings.ReplaceAll(c.body, "(", " "))[0], func(t *testing.T) {
			m, _ := graphModule(t, "w", fmt.Sprintf(weightedGCN, c.decls, c.body))
			tr, err := NewTrainer(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := tr.InitParams(1); err != nil {
				t.Fatal(err)
			}
			w := make([]float32, 14)
			for i := range w {
				w[i] = 0.1 + 0.2*float32(i%7) // fractional weights, so degrees are too
			}
			in := weightedInputs(t, w)
			prog, err := tr.Program(tr.Spec.Phases[0].Step)
			if err != nil {
				t.Fatal(err)
			}
			loss := func() float64 {
				outs, err := prog.Run(in, tr.Vars)
				if err != nil {
					t.Fatal(err)
				}
				return float64(outs["loss"].Data[0])
			}
			outs, err := prog.Run(in, tr.Vars)
			if err != nil {
				t.Fatal(err)
			}
			grads := map[string][]float32{}
			for name, v := range outs {
				if kind, p := ir.ParseOutputName(name); kind == ir.OutGrad {
					grads[p] = append([]float32(nil), v.Data...)
				}
			}
			if len(grads) == 0 {
				t.Fatal("the step has no gradients")
			}
			const h = 1e-3
			checked := 0
			for p, g := range grads {
				v := tr.Vars[p].Data
				for i := range v {
					old := v[i]
					v[i] = old + h
					up := loss()
					v[i] = old - h
					down := loss()
					v[i] = old
					fd := (up - down) / (2 * h)
					if d := math.Abs(fd - float64(g[i])); d > 2e-3+2e-2*math.Abs(fd) {
						t.Errorf("%s[%d]: gradient %.6g, finite difference %.6g", p, i, g[i], fd)
					}
					checked++
				}
			}
			t.Logf("%d parameter elements checked", checked)
		})
	}
}

// TestWeightedGCNOfOnesIsGCN checks that gcn_weighted with every weight 1 computes what
// gcn does: the weighted degrees are then the counts.
func TestWeightedGCNOfOnesIsGCN(t *testing.T) {
	run := func(body string) []float32 {
		m, _ := graphModule(t, "w", fmt.Sprintf(weightedGCN, "", body))
		tr, err := NewTrainer(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.InitParams(1); err != nil {
			t.Fatal(err)
		}
		prog, err := tr.Program("M")
		if err != nil {
			t.Fatal(err)
		}
		ones := make([]float32, 14)
		for i := range ones {
			ones[i] = 1
		}
		outs, err := prog.Run(weightedInputs(t, ones), tr.Vars)
		if err != nil {
			t.Fatal(err)
		}
		return outs["out"].Data
	}
	w, u := run("gcn_weighted(x, g, 2)"), run("gcn(x, g, 2)")
	for i := range w {
		if d := math.Abs(float64(w[i] - u[i])); d > 1e-6 {
			t.Fatalf("out[%d]: gcn_weighted %g, gcn %g", i, w[i], u[i])
		}
	}
}
