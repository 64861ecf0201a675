package runtime

import (
	"math/rand/v2"
	"testing"
)

// TestBroadcastSplit: broadcasts large enough to be split over the pool (a batch norm's
// [B, C, H, W] against [1, C, 1, 1], a [B, F] against [F], a broadcast on both sides) give,
// element for element, the one operation a plain loop over the indices gives.
func TestBroadcastSplit(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	cases := [][2][]int{
		{{64, 64, 14, 14}, {1, 64, 1, 1}},
		{{64, 128, 7, 7}, {128, 1, 1}},
		{{512, 6272}, {6272}},
		{{1, 64, 1, 1}, {64, 64, 14, 14}},
		{{64, 1, 28, 28}, {1, 32, 28, 1}},
		{{3, 5, 7, 11, 13}, {3, 1, 7, 1, 13}},
	}
	for _, c := range cases {
		a, b := randomFilled(r, c[0]), randomFilled(r, c[1])
		var sb [loopRank]int
		shape, ok := broadcastShapes(sb[:], a.Shape, b.Shape)
		if !ok {
			t.Fatalf("%v %v: not broadcastable", c[0], c[1])
		}
		shape = append([]int(nil), shape...)
		for _, o := range []binOp{opAdd, opSub, opMul, opDiv} {
			n := 1
			for _, d := range shape {
				n *= d
			}
			got := make([]float32, n)
			o.broadcast(got, a, b, shape)
			var s1, s2 [loopRank]int
			sa, sbr := broadcastStrides(s1[:], a.Shape, shape), broadcastStrides(s2[:], b.Shape, shape)
			idx := make([]int, len(shape))
			for i := 0; i < n; i++ {
				ia, ib := 0, 0
				for k := range shape {
					ia += idx[k] * sa[k]
					ib += idx[k] * sbr[k]
				}
				if want := o.apply(a.Data[ia], b.Data[ib]); got[i] != want {
					t.Fatalf("%v %v op %d: [%d] = %v, want %v", c[0], c[1], o, i, got[i], want)
				}
				for k := len(shape) - 1; k >= 0; k-- {
					if idx[k]++; idx[k] < shape[k] {
						break
					}
					idx[k] = 0
				}
			}
		}
	}
}
