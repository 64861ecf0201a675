package runtime

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlc-lang/dlc/ir"
)

// spread returns a generator of n values that are pairwise at least 0.8/n apart in
// magnitude, with random signs, in random order: the winner of every max and min is then
// unique and stays the winner under a finite difference's step. Past n draws it repeats.
func spread(n int) valueGen {
	var vals []float32
	next := 0
	return func(r *rand.Rand) float32 {
		if vals == nil {
			for i := range n {
				v := 0.2 + 0.8*float32(i)/float32(n)
				if r.IntN(2) == 0 {
					v = -v
				}
				vals = append(vals, v)
			}
			r.Shuffle(n, func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
		}
		v := vals[next%n]
		next++
		return v
	}
}

// graphIdx is the index of the gradient cases: 7 entries into 6 segments, with repeats
// (segment 2 four times) and empty segments (1, 3 and 5).
var graphIdx = []int32{2, 0, 2, 4, 0, 2, 2}

// graphGradCases check every differentiable graph op at ranks 1, 2 and 3 and with
// symbolic sizes; the gradients run segment_count and segment_argext_grad.
func graphGradCases() []gradCase {
	N, E := ir.Sym("N"), ir.Sym("E")
	nodes := ir.Attrs{"n": ir.Shape{N}}
	six := ir.Attrs{"n": S(6)}
	var cs []gradCase
	gather := func(name string, x ir.Shape, idx []int32, dims map[string]int) {
		cs = append(cs, gradCase{name: "gather/" + name, kind: "gather", in: []ir.Shape{x, {ir.Const(len(idx))}},
			ints: [][]int32{nil, idx}, dims: dims})
	}
	gather("rank2", S(5, 3), []int32{0, 4, 4, 2, 0, 1, 4}, nil)
	gather("rank1", S(5), []int32{3, 3, 0, 4}, nil)
	gather("rank3", S(4, 2, 3), []int32{1, 3, 1, 0, 0, 2}, nil)
	cs = append(cs, gradCase{name: "gather/symbolic", kind: "gather", in: []ir.Shape{{N, ir.Const(3)}, {E}},
		ints: [][]int32{nil, {0, 4, 4, 2, 0, 1, 4}}, dims: map[string]int{"N": 5, "E": 7}})
	for _, k := range []string{"segment_sum", "segment_mean", "segment_max", "segment_min"} {
		for _, in := range []ir.Shape{S(7, 3), S(7), S(7, 2, 2)} {
			cs = append(cs, gradCase{name: fmt.Sprintf("%s%v", k, in), kind: k, attrs: six,
				in: []ir.Shape{in, S(7)}, ints: [][]int32{nil, graphIdx},
				gen: []valueGen{spread(in.NumElements().Coef)}})
		}
		cs = append(cs, gradCase{name: k + "/symbolic", kind: k, attrs: nodes,
			in: []ir.Shape{{E, ir.Const(3)}, {E}}, ints: [][]int32{nil, graphIdx},
			gen: []valueGen{spread(21)}, dims: map[string]int{"N": 6, "E": 7}})
	}
	return cs
}
