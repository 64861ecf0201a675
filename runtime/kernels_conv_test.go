package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

// The convolution loops against direct-loop references written from the definitions: each
// reference indexes every tap explicitly and shares no code with im2col, col2im or sgemm.

// naiveConv2d is y[b,o,oh,ow] = Σ_{c,i,j} x[b,c,oh·s−p+i, ow·s−p+j] · w[o,c,i,j].
func naiveConv2d(x, w []float32, g convGeom) []float32 {
	y := make([]float32, g.b*g.o*g.ho*g.wo)
	for b := 0; b < g.b; b++ {
		for o := 0; o < g.o; o++ {
			for oh := 0; oh < g.ho; oh++ {
				for ow := 0; ow < g.wo; ow++ {
					var s float64
					for c := 0; c < g.c; c++ {
						for i := 0; i < g.kh; i++ {
							for j := 0; j < g.kw; j++ {
								ih, iw := oh*g.stride-g.pad+i, ow*g.stride-g.pad+j
								if ih < 0 || ih >= g.h || iw < 0 || iw >= g.w {
									continue
								}
								s += float64(x[((b*g.c+c)*g.h+ih)*g.w+iw]) * float64(w[((o*g.c+c)*g.kh+i)*g.kw+j])
							}
						}
					}
					y[((b*g.o+o)*g.ho+oh)*g.wo+ow] = float32(s)
				}
			}
		}
	}
	return y
}

// naiveConv2dInputGrad scatters each dy[b,o,oh,ow]·w[o,c,i,j] onto the input element it
// came from.
func naiveConv2dInputGrad(dy, w []float32, g convGeom) []float32 {
	dx := make([]float64, g.b*g.c*g.h*g.w)
	for b := 0; b < g.b; b++ {
		for o := 0; o < g.o; o++ {
			for oh := 0; oh < g.ho; oh++ {
				for ow := 0; ow < g.wo; ow++ {
					d := float64(dy[((b*g.o+o)*g.ho+oh)*g.wo+ow])
					for c := 0; c < g.c; c++ {
						for i := 0; i < g.kh; i++ {
							for j := 0; j < g.kw; j++ {
								ih, iw := oh*g.stride-g.pad+i, ow*g.stride-g.pad+j
								if ih >= 0 && ih < g.h && iw >= 0 && iw < g.w {
									dx[((b*g.c+c)*g.h+ih)*g.w+iw] += d * float64(w[((o*g.c+c)*g.kh+i)*g.kw+j])
								}
							}
						}
					}
				}
			}
		}
	}
	return to32(dx)
}

// naiveConv2dWeightGrad is dw[o,c,i,j] = Σ_{b,oh,ow} dy[b,o,oh,ow] · x[b,c,oh·s−p+i, ow·s−p+j].
func naiveConv2dWeightGrad(x, dy []float32, g convGeom) []float32 {
	dw := make([]float32, g.o*g.c*g.kh*g.kw)
	for o := 0; o < g.o; o++ {
		for c := 0; c < g.c; c++ {
			for i := 0; i < g.kh; i++ {
				for j := 0; j < g.kw; j++ {
					var s float64
					for b := 0; b < g.b; b++ {
						for oh := 0; oh < g.ho; oh++ {
							for ow := 0; ow < g.wo; ow++ {
								ih, iw := oh*g.stride-g.pad+i, ow*g.stride-g.pad+j
								if ih >= 0 && ih < g.h && iw >= 0 && iw < g.w {
									s += float64(dy[((b*g.o+o)*g.ho+oh)*g.wo+ow]) * float64(x[((b*g.c+c)*g.h+ih)*g.w+iw])
								}
							}
						}
					}
					dw[((o*g.c+c)*g.kh+i)*g.kw+j] = float32(s)
				}
			}
		}
	}
	return dw
}

// naiveConvTranspose2d is PyTorch's ConvTranspose2d written as its definition: every input
// element x[b,c,h,w] adds x·w[c,o,i,j] to y[b,o,h·s−p+i, w·s−p+j], for y of size
// (H−1)·s − 2p + kh + output_pad.
func naiveConvTranspose2d(x, w []float32, bn, c, h, wd, o, kh, kw, s, p, op int) ([]float32, int, int) {
	hy, wy := (h-1)*s-2*p+kh+op, (wd-1)*s-2*p+kw+op
	y := make([]float64, bn*o*hy*wy)
	for b := 0; b < bn; b++ {
		for ci := 0; ci < c; ci++ {
			for ih := 0; ih < h; ih++ {
				for iw := 0; iw < wd; iw++ {
					v := float64(x[((b*c+ci)*h+ih)*wd+iw])
					for oc := 0; oc < o; oc++ {
						for i := 0; i < kh; i++ {
							for j := 0; j < kw; j++ {
								yh, yw := ih*s-p+i, iw*s-p+j
								if yh >= 0 && yh < hy && yw >= 0 && yw < wy {
									y[((b*o+oc)*hy+yh)*wy+yw] += v * float64(w[((ci*o+oc)*kh+i)*kw+j])
								}
							}
						}
					}
				}
			}
		}
	}
	return to32(y), hy, wy
}

func to32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func randomSlice(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 2*r.Float32() - 1
	}
	return v
}

// relDiff is max|got − want| / max|want| (or the absolute difference when want is 0).
func relDiff(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var d, s float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(got[i])-float64(want[i])))
		s = math.Max(s, math.Abs(float64(want[i])))
	}
	if s == 0 {
		return d
	}
	return d / s
}

// geom fills in the output size of a convolution the way the kernels see it (rounding
// down, as a transposed convolution with output_pad needs).
func geom(b, c, h, w, o, kh, kw, s, p int) convGeom {
	return convGeom{b: b, c: c, h: h, w: w, o: o, kh: kh, kw: kw, stride: s, pad: p,
		ho: (h+2*p-kh)/s + 1, wo: (w+2*p-kw)/s + 1}
}

var convGeoms = []convGeom{
	geom(1, 1, 5, 5, 1, 3, 3, 1, 0),
	geom(3, 2, 7, 5, 4, 3, 2, 2, 1),  // odd, non-square input, rectangular kernel, stride 2, pad 1
	geom(2, 3, 6, 9, 5, 1, 1, 1, 0),  // pointwise: im2col skipped
	geom(3, 4, 8, 8, 2, 4, 4, 2, 1),  // the DCGAN layer's shape rule, small
	geom(1, 3, 5, 7, 2, 5, 3, 1, 2),  // padding as wide as the kernel's reach
	geom(2, 2, 9, 4, 3, 2, 3, 3, 0),  // stride 3, rows left unread
	geom(7, 3, 11, 6, 3, 3, 3, 2, 1), // more images than weight-gradient parts
	geom(1, 2, 4, 4, 3, 1, 1, 2, 1),  // 1×1 taps with stride and padding
	geom(2, 2, 2, 1, 3, 3, 5, 1, 2),  // a kernel that only fits with the padding: taps left of every output
}

func (g convGeom) String() string {
	return fmt.Sprintf("b%d_c%d_%dx%d_o%d_k%dx%d_s%d_p%d", g.b, g.c, g.h, g.w, g.o, g.kh, g.kw, g.stride, g.pad)
}

func TestConv2dAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for _, g := range convGeoms {
		t.Run(g.String(), func(t *testing.T) {
			x := randomSlice(r, g.b*g.c*g.h*g.w)
			w := randomSlice(r, g.o*g.ckk())
			dy := randomSlice(r, g.b*g.o*g.ho*g.wo)

			y := make([]float32, len(dy))
			conv2dForward(y, x, w, g)
			if d := relDiff(y, naiveConv2d(x, w, g)); d > 1e-5 {
				t.Errorf("forward differs from the reference by %g", d)
			}
			dx := randomSlice(r, len(x)) // garbage, to show the loop overwrites it
			conv2dAdjoint(dx, dy, w, g)
			if d := relDiff(dx, naiveConv2dInputGrad(dy, w, g)); d > 1e-5 {
				t.Errorf("input gradient differs from the reference by %g", d)
			}
			dw := randomSlice(r, len(w))
			conv2dWeightGrad(dw, x, dy, g)
			if d := relDiff(dw, naiveConv2dWeightGrad(x, dy, g)); d > 1e-5 {
				t.Errorf("weight gradient differs from the reference by %g", d)
			}
		})
	}
}

// TestConvTranspose2dAgainstReference runs a transposed convolution the way its kernel
// does, as conv2dAdjoint under the relabelled geometry, against PyTorch's definition.
func TestConvTranspose2dAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 6))
	for _, tc := range []struct{ b, c, h, w, o, kh, kw, s, p, op int }{
		{1, 1, 3, 3, 1, 3, 3, 1, 0, 0},
		{3, 4, 7, 7, 2, 4, 4, 2, 1, 0}, // the DCGAN generator's 7 → 14
		{2, 3, 5, 4, 2, 3, 2, 2, 1, 1}, // output_pad adds a row and a column nobody writes
		{1, 2, 4, 6, 3, 3, 3, 3, 0, 2},
		{3, 2, 3, 5, 2, 1, 1, 1, 0, 0},
		{2, 2, 4, 3, 3, 5, 3, 2, 2, 1},
	} {
		t.Run(fmt.Sprintf("%+v", tc), func(t *testing.T) {
			x := randomSlice(r, tc.b*tc.c*tc.h*tc.w)
			w := randomSlice(r, tc.c*tc.o*tc.kh*tc.kw)
			want, hy, wy := naiveConvTranspose2d(x, w, tc.b, tc.c, tc.h, tc.w, tc.o, tc.kh, tc.kw, tc.s, tc.p, tc.op)
			g := geom(tc.b, tc.o, hy, wy, tc.c, tc.kh, tc.kw, tc.s, tc.p)
			if g.ho != tc.h || g.wo != tc.w {
				t.Fatalf("relabelled geometry gives %d×%d, want the input's %d×%d", g.ho, g.wo, tc.h, tc.w)
			}
			y := randomSlice(r, len(want))
			conv2dAdjoint(y, x, w, g)
			if d := relDiff(y, want); d > 1e-5 {
				t.Errorf("differs from the reference by %g", d)
			}
		})
	}
}

// TestConvAdjointIdentity checks the three loops against each other with the dot-product
// test: ⟨conv(x, w), dy⟩ = ⟨x, adjoint(dy, w)⟩ = ⟨w, weightgrad(x, dy)⟩.
func TestConvAdjointIdentity(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	dot := func(a, b []float32) float64 {
		var s float64
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		return s
	}
	for _, g := range convGeoms {
		x, w := randomSlice(r, g.b*g.c*g.h*g.w), randomSlice(r, g.o*g.ckk())
		dy := randomSlice(r, g.b*g.o*g.ho*g.wo)
		y, dx, dw := make([]float32, len(dy)), make([]float32, len(x)), make([]float32, len(w))
		conv2dForward(y, x, w, g)
		conv2dAdjoint(dx, dy, w, g)
		conv2dWeightGrad(dw, x, dy, g)
		a, b, c := dot(y, dy), dot(x, dx), dot(w, dw)
		if math.Abs(a-b) > 1e-4*(1+math.Abs(a)) || math.Abs(a-c) > 1e-4*(1+math.Abs(a)) {
			t.Errorf("%v: ⟨y, dy⟩ = %g, ⟨x, dx⟩ = %g, ⟨w, dw⟩ = %g", g, a, b, c)
		}
	}
}

func TestValidOut(t *testing.T) {
	for _, tc := range []struct{ k, n, s, p, out int }{
		{0, 5, 1, 0, 3}, {2, 5, 1, 0, 3}, {0, 7, 2, 1, 4}, {3, 7, 2, 1, 4}, {0, 4, 3, 2, 3}, {4, 3, 2, 2, 3},
		{0, 1, 1, 2, 1}, {4, 1, 1, 2, 1},
	} {
		lo, hi := validOut(tc.k, tc.n, tc.s, tc.p, tc.out)
		for o := 0; o < tc.out; o++ {
			i := o*tc.s - tc.p + tc.k
			if in, got := i >= 0 && i < tc.n, o >= lo && o < hi; in != got {
				t.Errorf("%+v: output %d reads %d; in range %v, validOut [%d, %d)", tc, o, i, in, lo, hi)
			}
		}
	}
}

// TestImageKernelErrors: operands or attributes that do not fit are errors naming the
// problem, never panics.
func TestImageKernelErrors(t *testing.T) {
	img := func(d ...int) *Tensor { return NewTensor(d...) }
	conv := ir.Attrs{"stride": 2, "pad": 1}
	for _, tc := range []struct {
		kind  string
		attrs ir.Attrs
		args  []*Tensor
		want  string
	}{
		{"conv2d", conv, []*Tensor{img(2, 3, 8, 8), img(4, 2, 4, 4)}, "has 3 channels, weight [4, 2, 4, 4] wants 2"},
		{"conv2d", conv, []*Tensor{img(2, 3, 7, 8), img(4, 3, 4, 4)}, "height: (7 + 2·1 − 4)/2 + 1 = 3.5 is not a whole number"},
		{"conv2d", conv, []*Tensor{img(2, 3, 8), img(4, 3, 4, 4)}, "got input [2, 3, 8], want rank 4"},
		{"conv2d", ir.Attrs{"stride": 2.5, "pad": 1}, []*Tensor{img(2, 3, 8, 8), img(4, 3, 4, 4)}, "attribute stride is 2.5, want an int"},
		{"conv2d", ir.Attrs{"stride": 2, "pad": 1, "slack": 2}, []*Tensor{img(2, 3, 8, 8), img(4, 3, 4, 4)}, "attribute slack is 2, want an int in [0, stride 2)"},
		{"conv_transpose2d", ir.Attrs{"stride": 2, "pad": 1}, []*Tensor{img(2, 3, 4, 4), img(3, 2, 4, 4)}, "attribute output_pad is <nil>, want an int"},
		{"conv_transpose2d", ir.Attrs{"stride": 2, "pad": 1, "output_pad": 0}, []*Tensor{img(2, 3, 4, 4), img(2, 3, 4, 4)}, "weight [2, 3, 4, 4] [in, out, kh, kw] wants 2"},
		{"conv_transpose2d", ir.Attrs{"stride": 1, "pad": 3, "output_pad": 0}, []*Tensor{img(2, 3, 1, 4), img(3, 2, 4, 4)}, "height: (1 − 1)·1 − 2·3 + 4 = -2: the output is empty"},
		{"conv2d_weight_grad", ir.Attrs{"stride": 2, "pad": 1, "kernel": []int{4, 4}}, []*Tensor{img(2, 3, 8, 8), img(2, 5, 3, 4)}, "gives [2, O, 4, 4], got gradient [2, 5, 3, 4]"},
		{"conv2d_weight_grad", ir.Attrs{"stride": 2, "pad": 1, "kernel": []int{4}}, []*Tensor{img(2, 3, 8, 8), img(2, 5, 4, 4)}, "attribute kernel is [4], want [kh, kw]"},
		{"max_pool2d", ir.Attrs{"kernel": 2, "stride": 2, "pad": 0}, []*Tensor{img(2, 3, 7, 8)}, "height: (7 + 2·0 − 2)/2 + 1 = 3.5"},
		{"max_pool2d", ir.Attrs{"kernel": 2, "stride": 2, "pad": 2}, []*Tensor{img(2, 3, 8, 8)}, "pad 2, want at most half the kernel 2"},
		{"max_pool2d_grad", ir.Attrs{"kernel": 2, "stride": 2, "pad": 0}, []*Tensor{img(2, 3, 4, 3), img(2, 3, 8, 8)}, "got gradient [2, 3, 4, 3], want [2, 3, 4, 4]"},
		{"upsample2d", ir.Attrs{"scale": 0, "mode": "nearest"}, []*Tensor{img(2, 3, 4, 4)}, "attribute scale is 0, want an int ≥ 1"},
		{"upsample2d", ir.Attrs{"scale": 2, "mode": "area"}, []*Tensor{img(2, 3, 4, 4)}, `attribute mode is area, want "nearest" or "bilinear"`},
		{"upsample2d_grad", ir.Attrs{"scale": 2, "mode": "nearest"}, []*Tensor{img(2, 3, 4, 5)}, "want its height and width multiples of scale 2"},
	} {
		_, err := runKernel(tc.kind, tc.attrs, nil, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: got error %v, want one containing %q", tc.kind, tc.attrs, err, tc.want)
		}
	}
}

// TestConvRandomGeometries compares the three loops with the references on many small
// random geometries, including ones whose windows do not tile the input (the kernels round
// down, as a transposed convolution's gradient needs) and padding wider than the kernel.
func TestConvRandomGeometries(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 13))
	for i := 0; i < 300; i++ {
		g := geom(1+r.IntN(3), 1+r.IntN(3), 1+r.IntN(7), 1+r.IntN(7), 1+r.IntN(3), 1+r.IntN(5), 1+r.IntN(5), 1+r.IntN(3), r.IntN(4))
		if g.h+2*g.pad < g.kh || g.w+2*g.pad < g.kw {
			continue
		}
		x, w := randomSlice(r, g.b*g.c*g.h*g.w), randomSlice(r, g.o*g.ckk())
		dy := randomSlice(r, g.b*g.o*g.ho*g.wo)
		y, dx, dw := make([]float32, len(dy)), make([]float32, len(x)), make([]float32, len(w))
		conv2dForward(y, x, w, g)
		conv2dAdjoint(dx, dy, w, g)
		conv2dWeightGrad(dw, x, dy, g)
		for _, c := range []struct {
			name      string
			got, want []float32
		}{
			{"forward", y, naiveConv2d(x, w, g)},
			{"input gradient", dx, naiveConv2dInputGrad(dy, w, g)},
			{"weight gradient", dw, naiveConv2dWeightGrad(x, dy, g)},
		} {
			if d := relDiff(c.got, c.want); d > 1e-5 {
				t.Errorf("%v: %s differs from the reference by %g", g, c.name, d)
			}
		}
	}
}
