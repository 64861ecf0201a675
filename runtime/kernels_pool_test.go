package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naiveMaxPool returns the window maxima of x and, for each output, the flat index in x of
// its arg-max (the first in row-major order on ties), padding with −∞ explicitly.
func naiveMaxPool(x []float32, g poolGeom) (y []float32, arg []int) {
	for p := 0; p < g.planes; p++ {
		for oh := 0; oh < g.ho; oh++ {
			for ow := 0; ow < g.wo; ow++ {
				best, at := math.Inf(-1), -1
				for i := 0; i < g.k; i++ {
					for j := 0; j < g.k; j++ {
						ih, iw := oh*g.stride-g.pad+i, ow*g.stride-g.pad+j
						v := math.Inf(-1)
						if ih >= 0 && ih < g.h && iw >= 0 && iw < g.w {
							v = float64(x[(p*g.h+ih)*g.w+iw])
						}
						if at < 0 || v > best {
							best, at = v, (p*g.h+ih)*g.w+iw
						}
					}
				}
				y, arg = append(y, float32(best)), append(arg, at)
			}
		}
	}
	return y, arg
}

func poolG(planes, h, w, k, s, p int) poolGeom {
	return poolGeom{planes: planes, h: h, w: w, k: k, stride: s, pad: p, ho: (h+2*p-k)/s + 1, wo: (w+2*p-k)/s + 1}
}

func TestMaxPoolAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 1))
	for _, g := range []poolGeom{
		poolG(1, 4, 4, 2, 2, 0),
		poolG(6, 7, 5, 3, 2, 1), // odd, non-square, pad 1
		poolG(3, 6, 6, 3, 1, 1), // overlapping windows
		poolG(2, 5, 9, 2, 1, 0),
		poolG(3, 8, 8, 4, 4, 2),
	} {
		t.Run(fmt.Sprintf("%+v", g), func(t *testing.T) {
			// Quarter steps in [−2.25, 2.25] make ties common, which the reference breaks
			// the same way.
			x := randomFilled(r, []int{g.planes * g.h * g.w}).Data
			want, arg := naiveMaxPool(x, g)
			y := make([]float32, len(want))
			maxPool2dForward(y, x, g)
			if d := relDiff(y, want); d != 0 {
				t.Errorf("forward differs from the reference by %g", d)
			}
			dy := randomSlice(r, len(want))
			wantDx := make([]float32, len(x))
			for i, a := range arg {
				if a < 0 || a >= len(x) {
					t.Fatalf("reference arg-max %d of output %d is in the padding", a, i)
				}
				wantDx[a] += dy[i]
			}
			dx := randomSlice(r, len(x))
			maxPool2dBackward(dx, dy, x, g)
			if d := relDiff(dx, wantDx); d > 1e-6 {
				t.Errorf("gradient differs from the reference by %g", d)
			}
		})
	}
}

// TestMaxPoolTiesGoFirst: on a constant input every window's gradient goes to its first
// element in row-major order.
func TestMaxPoolTiesGoFirst(t *testing.T) {
	g := poolG(1, 4, 4, 2, 2, 0)
	x := make([]float32, 16)
	for i := range x {
		x[i] = 1
	}
	dx := make([]float32, 16)
	maxPool2dBackward(dx, []float32{1, 2, 3, 4}, x, g)
	want := []float32{1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0}
	if relDiff(dx, want) != 0 {
		t.Errorf("got %v, want %v", dx, want)
	}
}

func TestMaxPoolRandomGeometries(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 17))
	for i := 0; i < 300; i++ {
		k := 1 + r.IntN(4)
		g := poolG(1+r.IntN(4), 1+r.IntN(8), 1+r.IntN(8), k, 1+r.IntN(3), r.IntN(k/2+1))
		if g.h+2*g.pad < k || g.w+2*g.pad < k {
			continue
		}
		x := randomFilled(r, []int{g.planes * g.h * g.w}).Data
		want, arg := naiveMaxPool(x, g)
		y := make([]float32, len(want))
		maxPool2dForward(y, x, g)
		dy := randomSlice(r, len(want))
		wantDx := make([]float32, len(x))
		for j, a := range arg {
			wantDx[a] += dy[j]
		}
		dx := make([]float32, len(x))
		maxPool2dBackward(dx, dy, x, g)
		if relDiff(y, want) != 0 || relDiff(dx, wantDx) > 1e-6 {
			t.Errorf("%+v: differs from the reference", g)
		}
	}
}

// TestMaxPoolNaN: a NaN anywhere in a window is its maximum, and takes its gradient.
func TestMaxPoolNaN(t *testing.T) {
	g := poolG(1, 2, 4, 2, 2, 0)
	nan := float32(math.NaN())
	x := []float32{1, 2, 3, nan, 5, nan, 0, 4}
	y := make([]float32, 2)
	maxPool2dForward(y, x, g)
	if !math.IsNaN(float64(y[0])) || !math.IsNaN(float64(y[1])) {
		t.Errorf("got %v, want [NaN NaN]", y)
	}
	dx := make([]float32, 8)
	maxPool2dBackward(dx, []float32{1, 2}, x, g)
	if want := []float32{0, 0, 0, 2, 0, 1, 0, 0}; relDiff(dx, want) != 0 {
		t.Errorf("gradient %v, want %v", dx, want)
	}
}

// TestMaxPoolPairsMatchGeneral: the 2×2 loops pick the element poolRow picks, on values
// drawn from a handful so that ties are common, with NaNs and signed zeros among them, on
// odd and even sizes.
func TestMaxPoolPairsMatchGeneral(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	nan := float32(math.NaN())
	vals := []float32{-1, 0, 1, 2, nan, float32(math.Inf(-1))}
	for _, hw := range [][2]int{{2, 2}, {4, 6}, {5, 7}, {28, 28}, {3, 2}} {
		g := poolG(3, hw[0], hw[1], 2, 2, 0)
		if !g.pairs() {
			t.Fatal("not a pairs geometry")
		}
		x := make([]float32, g.planes*g.h*g.w)
		for i := range x {
			x[i] = vals[r.IntN(len(vals))]
		}
		dy := randomSlice(r, g.planes*g.ho*g.wo)
		y, dx := make([]float32, len(dy)), randomSlice(r, len(x))
		maxPool2dForward(y, x, g)
		maxPool2dBackward(dx, dy, x, g)
		// The general loop, one plane and row at a time.
		cols := poolCols(&g)
		wantDx := make([]float32, len(x))
		best, arg := make([]float32, g.wo), make([]int, g.wo)
		for p := 0; p < g.planes; p++ {
			plane := x[p*g.h*g.w : (p+1)*g.h*g.w]
			for oh := 0; oh < g.ho; oh++ {
				poolRow(best, arg, plane, oh, cols, &g)
				for ow := range best {
					i := (p*g.ho+oh)*g.wo + ow
					if got := y[i]; got != best[ow] && !(got != got && best[ow] != best[ow]) {
						t.Fatalf("%v: y[%d] = %g, want %g", hw, i, got, best[ow])
					}
					wantDx[p*g.h*g.w+arg[ow]] += dy[i]
				}
			}
		}
		for i := range dx {
			if math.Float32bits(dx[i]) != math.Float32bits(wantDx[i]) {
				t.Fatalf("%v: dx[%d] = %g, want %g", hw, i, dx[i], wantDx[i])
			}
		}
	}
}
