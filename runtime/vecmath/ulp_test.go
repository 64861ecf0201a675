package vecmath

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

var (
	full    = flag.Bool("vecmath.full", false, "sweep every float32 of each range instead of a sample")
	samples = flag.Int64("vecmath.samples", 1e7, "points per function sampled by TestULPBounds on the vector path")
)

// ulp32 is the spacing of float32 values at |w|: 2^(e−23) in the binade [2^e, 2^(e+1)) of w,
// and 2^−149 among subnormals.
func ulp32(w float64) float64 {
	a := math.Abs(w)
	if a < 0x1p-126 {
		return 0x1p-149
	}
	_, e := math.Frexp(a) // a = f·2^e, f ∈ [0.5, 1)
	return math.Ldexp(1, e-1-23)
}

// ulpErr is |got − want| in ulps of want: 0 when both are the same infinity or both NaN,
// +Inf when only one of them is NaN or infinite. want beyond the float32 range counts as
// the infinity it rounds to.
func ulpErr(got float32, want float64) float64 {
	g := float64(got)
	if w32 := float32(want); math.IsInf(float64(w32), 0) {
		want = float64(w32)
	}
	switch {
	case math.IsNaN(want) || math.IsNaN(g):
		if math.IsNaN(want) && math.IsNaN(g) {
			return 0
		}
		return math.Inf(1)
	case math.IsInf(want, 0) || math.IsInf(g, 0):
		if g == want {
			return 0
		}
		return math.Inf(1)
	}
	return math.Abs(g-want) / ulp32(want)
}

// ordered maps float32 values to integers in the same order, −0 and +0 both to 0.
func ordered(x float32) int64 {
	b := math.Float32bits(x)
	if b>>31 == 1 {
		return -int64(b &^ (1 << 31))
	}
	return int64(b)
}

func fromOrdered(o int64) float32 {
	if o < 0 {
		return math.Float32frombits(uint32(-o) | 1<<31)
	}
	return math.Float32frombits(uint32(o))
}

// sweep calls visit on chunks of the float32 values in [lo, hi]: every one with -vecmath.full,
// else every stride-th with an odd stride giving at least samples values, plus hi.
func sweep(lo, hi float32, samples int64, visit func(xs []float32)) int64 {
	a, b := ordered(lo), ordered(hi)
	stride := int64(1)
	if !*full {
		stride = max((b-a)/samples, 1) | 1
	}
	buf := make([]float32, 0, 1<<14)
	var n int64
	flush := func() {
		visit(buf)
		n += int64(len(buf))
		buf = buf[:0]
	}
	for o := a; o <= b; o += stride {
		if buf = append(buf, fromOrdered(o)); len(buf) == cap(buf) {
			flush()
		}
	}
	buf = append(buf, hi)
	flush()
	return n
}

func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func bceLogits64(z, t float64) float64 {
	return math.Max(z, 0) - z*t + math.Log1p(math.Exp(-math.Abs(z)))
}

func bce64(p, t float64) float64 {
	return -(t*math.Max(math.Log(p), -100) + (1-t)*math.Max(math.Log1p(-p), -100))
}

// ulpBounds are the documented maximum errors (doc.go), in ulps of the exact result, over
// the ranges that matter: every finite input, except for exp, whose result is 0 below −104
// and +Inf above 89 (TestEdges checks those).
var ulpBounds = []struct {
	name   string
	f      func(dst, x []float32)
	ref    func(float64) float64
	lo, hi float32
	bound  float64
}{
	{"exp", Exp, math.Exp, -104, 89, 1},
	{"log", Log, math.Log, 0, math.MaxFloat32, 1},
	{"log1p", Log1p, math.Log1p, -1, math.MaxFloat32, 2},
	{"sigmoid", Sigmoid, sigmoid64, -math.MaxFloat32, math.MaxFloat32, 2.5},
	{"tanh", Tanh, math.Tanh, -math.MaxFloat32, math.MaxFloat32, 2},
}

// ulpPairBounds are the same for the two-input losses, with t drawn uniformly from [0, 1]:
// for t outside [0, 1] the terms can cancel and no ulp bound holds.
var ulpPairBounds = []struct {
	name   string
	f      func(dst, a, b []float32)
	ref    func(a, b float64) float64
	lo, hi float32
	bound  float64
}{
	{"bce_logits", BCELogits, bceLogits64, -100, 100, 2.5},
	{"bce", BCE, bce64, 0, 1, 2.5},
}

// measure returns the largest error in ulps of f against ref over the sweep, and where.
func measure(f func(dst, x []float32), ref func(float64) float64, lo, hi float32, samples int64) (worst float64, at float32, n int64) {
	var out []float32
	n = sweep(lo, hi, samples, func(xs []float32) {
		out = append(out[:0], xs...)
		f(out, xs)
		for i, x := range xs {
			if e := ulpErr(out[i], ref(float64(x))); e > worst || math.IsNaN(e) {
				worst, at = e, x
			}
		}
	})
	return worst, at, n
}

func measurePair(f func(dst, a, b []float32), ref func(a, b float64) float64, lo, hi float32, samples int64) (worst float64, atA, atB float32, n int64) {
	r := rand.New(rand.NewPCG(9, 9))
	var out, ts []float32
	n = sweep(lo, hi, samples, func(xs []float32) {
		out = append(out[:0], xs...)
		ts = ts[:0]
		for range xs {
			ts = append(ts, r.Float32())
		}
		f(out, xs, ts)
		for i, x := range xs {
			if e := ulpErr(out[i], ref(float64(x), float64(ts[i]))); e > worst {
				worst, atA, atB = e, x, ts[i]
			}
		}
	})
	return worst, atA, atB, n
}

// withPaths runs body once on the vector path (where the machine has one) and once on the
// scalar path, with a fifth of the samples there to keep the test fast (and a tenth of
// both with -short).
func withPaths(t *testing.T, body func(t *testing.T, samples int64)) {
	vector := useAVX2
	defer func() { useAVX2 = vector }()
	n := *samples
	if testing.Short() {
		n /= 10
	}
	if vector {
		t.Run("avx2", func(t *testing.T) { body(t, n) })
	}
	useAVX2 = false
	t.Run("scalar", func(t *testing.T) { body(t, max(n/5, 1)) })
}

func TestULPBounds(t *testing.T) {
	withPaths(t, func(t *testing.T, samples int64) {
		for _, c := range ulpBounds {
			worst, at, n := measure(c.f, c.ref, c.lo, c.hi, samples)
			t.Logf("%-10s [%g, %g]: %d points, max error %.3f ulp at %g", c.name, c.lo, c.hi, n, worst, at)
			if !(worst <= c.bound) {
				t.Errorf("%s: max error %.3f ulp at %g (%v), want ≤ %g", c.name, worst, at, math.Float32bits(at), c.bound)
			}
		}
		for _, c := range ulpPairBounds {
			worst, a, b, n := measurePair(c.f, c.ref, c.lo, c.hi, samples)
			t.Logf("%-10s [%g, %g]: %d points, max error %.3f ulp at (%g, %g)", c.name, c.lo, c.hi, n, worst, a, b)
			if !(worst <= c.bound) {
				t.Errorf("%s: max error %.3f ulp at (%g, %g), want ≤ %g", c.name, worst, a, b, c.bound)
			}
		}
	})
}

// TestEdges checks the values math defines exactly: infinities, NaN, signed zeros, the
// overflow and underflow thresholds, and the clamps of bce.
func TestEdges(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	type edge struct{ x, want float32 }
	cases := []struct {
		name string
		f    func(dst, x []float32)
		in   []edge
	}{
		{"exp", Exp, []edge{{inf, inf}, {-inf, 0}, {nan, nan}, {0, 1}, {negZero, 1},
			{88.72283, 3.4027985e38}, {88.7229, inf}, {-103.9, 1e-45}, {-103.98, 0}, {-1000, 0}, {1000, inf}}},
		{"log", Log, []edge{{inf, inf}, {-inf, nan}, {nan, nan}, {0, -inf}, {negZero, -inf}, {-1, nan}, {1, 0},
			{1e-45, -103.27893}, {math.MaxFloat32, 88.72284}}},
		{"log1p", Log1p, []edge{{inf, inf}, {-inf, nan}, {nan, nan}, {0, 0}, {negZero, negZero}, {-1, -inf},
			{-2, nan}, {1e-30, 1e-30}, {-1e-30, -1e-30}}},
		{"sigmoid", Sigmoid, []edge{{inf, 1}, {-inf, 0}, {nan, nan}, {0, 0.5}, {100, 1}, {-200, 0}}},
		{"tanh", Tanh, []edge{{inf, 1}, {-inf, -1}, {nan, nan}, {0, 0}, {negZero, negZero}, {1e-40, 1e-40}, {20, 1}, {-20, -1}}},
	}
	withPaths(t, func(t *testing.T, _ int64) {
		for _, c := range cases {
			xs := make([]float32, len(c.in))
			for i, e := range c.in {
				xs[i] = e.x
			}
			got := make([]float32, len(xs))
			c.f(got, xs)
			for i, e := range c.in {
				if g := got[i]; math.Float32bits(g) != math.Float32bits(e.want) && !(g != g && e.want != e.want) {
					t.Errorf("%s(%g) = %g, want %g", c.name, e.x, g, e.want)
				}
			}
		}
		got := make([]float32, 6)
		BCE(got, []float32{0, 1, 0, 1, 0.5, 2}, []float32{1, 0, 0, 1, 1, 1})
		want := []float32{100, 100, 0, 0, float32(math.Ln2), nan}
		for i := range want {
			if got[i] != want[i] && !(got[i] != got[i] && want[i] != want[i]) {
				t.Errorf("bce case %d: got %g, want %g", i, got[i], want[i])
			}
		}
		BCELogits(got[:4], []float32{1e30, -1e30, -1e30, nan}, []float32{0, 0, 1, 0.5})
		if !(got[0] == 1e30 && got[1] == 0 && got[2] == 1e30 && got[3] != got[3]) {
			t.Errorf("bce_logits(1e30, -1e30, -1e30, NaN against 0, 0, 1, 0.5) = %v, want [1e30 0 1e30 NaN]", got[:4])
		}
	})
}

// TestTailsAndAliasing checks that an element's result does not depend on its position or
// on the slice's length (the tail goes through a padded buffer), and that dst may be x.
func TestTailsAndAliasing(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	xs := make([]float32, 40)
	for i := range xs {
		xs[i] = float32(r.NormFloat64() * 5)
	}
	ref := make([]float32, len(xs))
	for _, c := range ulpBounds {
		c.f(ref, xs)
		for n := 0; n <= len(xs); n++ {
			for _, off := range []int{0, 3} {
				if off > n {
					continue
				}
				got := append([]float32(nil), xs[off:n]...)
				c.f(got, got)
				for i, g := range got {
					if math.Float32bits(g) != math.Float32bits(ref[off+i]) {
						t.Errorf("%s: length %d, offset %d, element %d: got %g, want %g", c.name, n, off, i, g, ref[off+i])
					}
				}
			}
		}
	}
}

func TestShortInputPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Exp with a short input did not panic")
		}
	}()
	Exp(make([]float32, 4), make([]float32, 3))
}

func ExampleSigmoid() {
	x := []float32{-2, 0, 2}
	Sigmoid(x, x)
	fmt.Printf("%.6f\n", x)
	// Output: [0.119203 0.500000 0.880797]
}
