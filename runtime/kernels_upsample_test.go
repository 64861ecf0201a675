package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naiveUpsample computes each output from the definition: nearest copies x[oh/s, ow/s];
// bilinear (align_corners=False) samples at ((o + ½)/s − ½) clamped to [0, n−1] on each axis,
// in float64.
func naiveUpsample(x []float32, g upGeom) []float32 {
	s := g.scale
	ho, wo := g.h*s, g.w*s
	y := make([]float32, g.planes*ho*wo)
	src := func(o, n int) (int, int, float64) {
		v := math.Max((float64(o)+0.5)/float64(s)-0.5, 0)
		i0 := int(math.Floor(v))
		return i0, min(i0+1, n-1), v - float64(i0)
	}
	for p := 0; p < g.planes; p++ {
		at := func(i, j int) float64 { return float64(x[(p*g.h+i)*g.w+j]) }
		for oh := 0; oh < ho; oh++ {
			for ow := 0; ow < wo; ow++ {
				var v float64
				if g.bilinear {
					i0, i1, a := src(oh, g.h)
					j0, j1, b := src(ow, g.w)
					v = (1-a)*((1-b)*at(i0, j0)+b*at(i0, j1)) + a*((1-b)*at(i1, j0)+b*at(i1, j1))
				} else {
					v = at(oh/s, ow/s)
				}
				y[(p*ho+oh)*wo+ow] = float32(v)
			}
		}
	}
	return y
}

// TestUpsampleKnownValues: the 2×2 image [[1, 2], [3, 4]] scaled by 2, as
// torch.nn.functional.interpolate gives it.
func TestUpsampleKnownValues(t *testing.T) {
	x := []float32{1, 2, 3, 4}
	for _, tc := range []struct {
		bilinear bool
		want     []float32
	}{
		{false, []float32{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}},
		{true, []float32{
			1, 1.25, 1.75, 2,
			1.5, 1.75, 2.25, 2.5,
			2.5, 2.75, 3.25, 3.5,
			3, 3.25, 3.75, 4}},
	} {
		y := make([]float32, 16)
		upsample2dForward(y, x, upGeom{planes: 1, h: 2, w: 2, scale: 2, bilinear: tc.bilinear})
		if relDiff(y, tc.want) > 1e-7 {
			t.Errorf("bilinear=%v: got %v, want %v", tc.bilinear, y, tc.want)
		}
	}
}

// TestUpsampleAgainstReference checks the forward pass against the definition and the
// backward pass by the dot-product test ⟨up(x), dy⟩ = ⟨x, upᵀ(dy)⟩.
func TestUpsampleAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 9))
	for _, bilinear := range []bool{false, true} {
		for _, g := range []upGeom{
			{planes: 1, h: 1, w: 1, scale: 2},
			{planes: 3, h: 3, w: 5, scale: 2},
			{planes: 2, h: 4, w: 3, scale: 3},
			{planes: 4, h: 7, w: 7, scale: 4},
			{planes: 2, h: 5, w: 2, scale: 1},
		} {
			g.bilinear = bilinear
			t.Run(fmt.Sprintf("%+v", g), func(t *testing.T) {
				x := randomSlice(r, g.planes*g.h*g.w)
				y := make([]float32, g.planes*g.h*g.w*g.scale*g.scale)
				upsample2dForward(y, x, g)
				if d := relDiff(y, naiveUpsample(x, g)); d > 1e-6 {
					t.Errorf("forward differs from the reference by %g", d)
				}
				dy := randomSlice(r, len(y))
				dx := randomSlice(r, len(x))
				upsample2dBackward(dx, dy, g)
				var a, b float64
				for i := range y {
					a += float64(y[i]) * float64(dy[i])
				}
				for i := range x {
					b += float64(x[i]) * float64(dx[i])
				}
				if math.Abs(a-b) > 1e-5*(1+math.Abs(a)) {
					t.Errorf("⟨up(x), dy⟩ = %g, ⟨x, upᵀ(dy)⟩ = %g", a, b)
				}
			})
		}
	}
}
