package runtime

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The wide loops against the general ones on geometries they take, among them the
// convolutional autoencoder's and the DCGAN's first: the forward pass adds the same products in the same
// order, so it must give the same floats whenever the filter fits one GEMM k block; the
// gradients add them in another order and must agree to a few ulps of the sum of the
// magnitudes.
var wideGeoms = []convGeom{
	geom(3, 1, 28, 28, 16, 3, 3, 1, 1),
	geom(5, 16, 14, 14, 8, 3, 3, 1, 1),
	geom(2, 16, 28, 28, 1, 3, 3, 1, 1),
	geom(4, 3, 7, 9, 5, 3, 3, 1, 0),    // no padding
	geom(3, 2, 6, 5, 3, 5, 5, 1, 2),    // wider kernel, padding 2
	geom(2, 3, 5, 8, 2, 3, 2, 1, 1),    // rectangular kernel: the input gradient goes the general way
	geom(2, 2, 4, 4, 3, 3, 3, 1, 3),    // padding past the kernel's reach: likewise
	geom(9, 2, 3, 3, 4, 2, 2, 1, 1),    // many images to a group
	geom(1, 2, 1, 1, 2, 3, 3, 1, 1),    // a single pixel
	geom(2, 1, 6, 6, 2, 1, 1, 1, 1),    // 1×1 with padding
	geom(70, 4, 14, 14, 6, 3, 3, 1, 1), // groups that do not divide the batch
	geom(3, 1, 28, 28, 8, 4, 4, 2, 1),  // the DCGAN discriminator's first layer: phases
	geom(2, 2, 20, 19, 3, 3, 3, 2, 1),  // odd width, odd kernel, stride 2
	geom(2, 2, 27, 27, 2, 3, 3, 3, 0),  // stride 3, no padding
	geom(2, 2, 26, 26, 2, 2, 2, 3, 2),  // stride past the kernel: taps that skip phases
}

// ulpsOfSum is the largest |got − want| over the elements, in units of float32 epsilon times
// the sum of the magnitudes of the products that make up the element (mag).
func ulpsOfSum(got, want, mag []float32) float64 {
	worst := 0.0
	for i := range got {
		e := math.Abs(float64(got[i])-float64(want[i])) / (float64(mag[i]) * 0x1p-23)
		if mag[i] == 0 {
			e = math.Abs(float64(got[i] - want[i]))
		}
		worst = max(worst, e)
	}
	return worst
}

func abs32(s []float32) []float32 {
	a := make([]float32, len(s))
	for i, v := range s {
		a[i] = float32(math.Abs(float64(v)))
	}
	return a
}

func TestConvWideMatchesIm2col(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, g := range wideGeoms {
		t.Run(g.String(), func(t *testing.T) {
			if !g.wideOK() && !g.pointwise() {
				t.Fatalf("geometry does not take the wide loops")
			}
			x, w := randomSlice(r, g.b*g.c*g.h*g.w), randomSlice(r, g.o*g.ckk())
			dy := randomSlice(r, g.b*g.o*g.ho*g.wo)

			y, ref := randomSlice(r, len(dy)), make([]float32, len(dy))
			conv2dForward(y, x, w, g)
			conv2dForwardIm2col(ref, x, w, g)
			for i := range y {
				if math.Float32bits(y[i]) != math.Float32bits(ref[i]) && y[i] != ref[i] {
					t.Fatalf("forward[%d] = %g, the general loop gives %g", i, y[i], ref[i])
				}
			}
			// The magnitudes: the same loops on |x|, |w|, |dy|.
			ax, aw, ady := abs32(x), abs32(w), abs32(dy)

			dx, refx, magx := randomSlice(r, len(x)), make([]float32, len(x)), make([]float32, len(x))
			conv2dAdjoint(dx, dy, w, g)
			conv2dAdjointCol2im(refx, dy, w, g)
			conv2dAdjointCol2im(magx, ady, aw, g)
			if e := ulpsOfSum(dx, refx, magx); e > 4 {
				t.Errorf("input gradient off the general loop's by %.2f ulps of the sum", e)
			}
			dw, refw, magw := randomSlice(r, len(w)), make([]float32, len(w)), make([]float32, len(w))
			conv2dWeightGrad(dw, x, dy, g)
			conv2dWeightGradIm2col(refw, x, dy, g)
			conv2dWeightGradIm2col(magw, ax, ady, g)
			if e := ulpsOfSum(dw, refw, magw); e > 4 {
				t.Errorf("weight gradient off the general loop's by %.2f ulps of the sum", e)
			}
		})
	}
}

// TestConvAutoencoderKernelsAllocateNothing: in steady state the convolutional
// autoencoder's kernels (wide convolutions, 2×2 pooling, nearest upsampling and their
// gradients) allocate nothing: their scratch and their parallel loops are recycled.
func TestConvAutoencoderKernelsAllocateNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	g := geom(4, 16, 14, 14, 8, 3, 3, 1, 1)
	x, w, dy := randomSlice(r, g.b*g.c*g.h*g.w), randomSlice(r, g.o*g.ckk()), randomSlice(r, g.b*g.o*g.ho*g.wo)
	y, dx, dw := make([]float32, len(dy)), make([]float32, len(x)), make([]float32, len(w))
	pg := poolG(g.b*g.c, g.h, g.w, 2, 2, 0)
	py := make([]float32, pg.planes*pg.ho*pg.wo)
	ug := upGeom{planes: g.b * g.c, h: 7, w: 7, scale: 2}
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"conv2d", func() { conv2dForward(y, x, w, g) }},
		{"conv2d input gradient", func() { conv2dAdjoint(dx, dy, w, g) }},
		{"conv2d weight gradient", func() { conv2dWeightGrad(dw, x, dy, g) }},
		{"max_pool2d", func() { maxPool2dForward(py, x, pg) }},
		{"max_pool2d_grad", func() { maxPool2dBackward(dx, py, x, pg) }},
		{"upsample2d", func() { upsample2dForward(x, py, ug) }},
		{"upsample2d_grad", func() { upsample2dBackward(py, x, ug) }},
	} {
		// Warm the scratch pools up: the first calls size their buffers. A garbage
		// collection may empty the pools once in a while: allow for one allocation in
		// the runs.
		for range 3 {
			c.f()
		}
		if n := testing.AllocsPerRun(10, c.f); n > 0.1 {
			t.Errorf("%s: %v allocations per call, want 0", c.name, n)
		}
	}
}
