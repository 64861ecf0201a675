package runtime

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// The implicit loops against the im2col and col2im ones on geometries they take, the
// DCGAN's four among them. The forward pass adds the same products in the same order
// with the same GEMM blocking: the same floats. The gradients add them in another order:
// within a few ulps of the sum of the magnitudes of the products.
var implicitGeoms = []convGeom{
	geom(64, 1, 28, 28, 64, 4, 4, 2, 1),   // DCGAN D.conv1 (and G.deconv2's transpose)
	geom(64, 64, 14, 14, 128, 4, 4, 2, 1), // DCGAN D.conv2 (and G.deconv1's transpose)
	geom(5, 3, 9, 11, 4, 3, 3, 2, 1),      // odd sizes, a kernel the stride does not divide
	geom(3, 2, 10, 10, 3, 2, 2, 3, 2),     // stride past the kernel: phases no tap reaches
	geom(2, 2, 8, 8, 2, 5, 3, 2, 2),       // rectangular kernel
	geom(70, 4, 14, 14, 6, 4, 4, 2, 1),    // groups that do not divide the batch
	geom(33, 2, 7, 7, 3, 3, 3, 1, 1),      // stride 1
	geom(1, 1, 1, 1, 2, 3, 3, 1, 1),       // a single pixel
}

func TestConvImplicitMatchesIm2col(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	// An output_pad slack row and column: ho below what the image allows.
	slack := geom(3, 2, 8, 8, 3, 4, 4, 2, 1)
	slack.h, slack.w = 9, 9
	for _, g := range append(implicitGeoms, slack) {
		t.Run(g.String(), func(t *testing.T) {
			if !g.implicitOK() {
				t.Fatalf("geometry does not take the implicit loops")
			}
			x, w := randomSlice(r, g.b*g.c*g.h*g.w), randomSlice(r, g.o*g.ckk())
			dy := randomSlice(r, g.b*g.o*g.ho*g.wo)
			y, ref := randomSlice(r, len(dy)), make([]float32, len(dy))
			conv2dForwardImplicit(y, x, w, g)
			conv2dForwardIm2col(ref, x, w, g)
			for i := range y {
				if math.Float32bits(y[i]) != math.Float32bits(ref[i]) && y[i] != ref[i] {
					t.Fatalf("forward[%d] = %g, im2col gives %g", i, y[i], ref[i])
				}
			}
			ax, aw, ady := abs32(x), abs32(w), abs32(dy)
			dx, refx, magx := randomSlice(r, len(x)), make([]float32, len(x)), make([]float32, len(x))
			conv2dAdjointImplicit(dx, dy, w, g)
			conv2dAdjointCol2im(refx, dy, w, g)
			conv2dAdjointCol2im(magx, ady, aw, g)
			ex := ulpsOfSum(dx, refx, magx)
			if ex > 4 {
				t.Errorf("input gradient off col2im's by %.2f ulps of the sum", ex)
			}
			dw, refw, magw := randomSlice(r, len(w)), make([]float32, len(w)), make([]float32, len(w))
			conv2dWeightGradImplicit(dw, x, dy, g)
			conv2dWeightGradIm2col(refw, x, dy, g)
			conv2dWeightGradIm2col(magw, ax, ady, g)
			ew := ulpsOfSum(dw, refw, magw)
			if ew > 4 {
				t.Errorf("weight gradient off im2col's by %.2f ulps of the sum", ew)
			}
			t.Logf("input gradient %.3f, weight gradient %.3f ulps of the sum of magnitudes off im2col's", ex, ew)
		})
	}
}

// BenchmarkConvImplicit runs each DCGAN layer's three passes through the implicit loops
// and through im2col/col2im, alternately in one process, and reports the least time of
// each over the iterations: on a shared machine the least is the one least disturbed.
func BenchmarkConvImplicit(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, g := range implicitGeoms[:2] {
		x, w := randomSlice(r, g.b*g.c*g.h*g.w), randomSlice(r, g.o*g.ckk())
		dy := randomSlice(r, g.b*g.o*g.ho*g.wo)
		y, dx, dw := make([]float32, len(dy)), make([]float32, len(x)), make([]float32, len(w))
		for _, p := range []struct {
			name     string
			implicit func()
			im2col   func()
		}{
			{"forward", func() { conv2dForwardImplicit(y, x, w, g) }, func() { conv2dForwardIm2col(y, x, w, g) }},
			{"grad_input", func() { conv2dAdjointImplicit(dx, dy, w, g) }, func() { conv2dAdjointCol2im(dx, dy, w, g) }},
			{"grad_weight", func() { conv2dWeightGradImplicit(dw, x, dy, g) }, func() { conv2dWeightGradIm2col(dw, x, dy, g) }},
		} {
			b.Run(g.String()+"/"+p.name, func(b *testing.B) {
				best := [2]float64{math.Inf(1), math.Inf(1)}
				for b.Loop() {
					for i, f := range []func(){p.implicit, p.im2col} {
						t0 := time.Now()
						f()
						best[i] = min(best[i], time.Since(t0).Seconds()*1e3)
					}
				}
				b.ReportMetric(best[0], "implicit-ms")
				b.ReportMetric(best[1], "im2col-ms")
				b.ReportMetric(g.flops()/best[0]/1e6, "implicit-GFLOP/s")
			})
		}
	}
}
