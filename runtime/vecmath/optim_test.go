package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// adam64 is AdamUpdate in float64, the reference for both paths.
func adam64(p, g, m, v []float64, s *AdamScalars) {
	for j := range p {
		pj := p[j] * float64(s.Decay)
		gj := g[j] + float64(s.WeightDecay)*pj
		m[j] += float64(s.OneMinusB1) * (gj - m[j])
		v[j] = float64(s.B2)*v[j] + float64(s.OneMinusB2)*gj*gj
		p[j] = pj - float64(s.StepSize)*m[j]/(math.Sqrt(v[j])/float64(s.BC2Sqrt)+float64(s.Eps))
	}
}

// TestAdamUpdate runs three steps on random data, of lengths that exercise the vector body
// and the padded tail, and checks every slot after each step against the same step in
// float64 from the same state. The bound allows 4 float32 roundings of each quantity's
// inputs: m and v are formed from g + wd·p, which can cancel, so their error is relative to
// the size of the terms, not of the result, and p inherits m's and v's errors through the
// step. A wrong formula is off by far more.
func TestAdamUpdate(t *testing.T) {
	const u = 4 * 0x1p-24
	withPaths(t, func(t *testing.T, _ int64) {
		for _, n := range []int{1, 7, 8, 9, 31, 1000} {
			for _, decoupled := range []bool{false, true} {
				r := rand.New(rand.NewPCG(uint64(n), 7))
				p32, g32, m32, v32 := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
				p64, g64, m64, v64 := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
				for j := range p32 {
					p32[j] = float32(r.NormFloat64())
				}
				for step := 1; step <= 3; step++ {
					for j := range g32 {
						g32[j] = float32(r.NormFloat64() * 0.1)
						p64[j], g64[j], m64[j], v64[j] = float64(p32[j]), float64(g32[j]), float64(m32[j]), float64(v32[j])
					}
					lr, b1, b2, wd := 0.01, 0.9, 0.999, 0.1
					s := &AdamScalars{Decay: 1, WeightDecay: float32(wd), OneMinusB1: float32(1 - b1), B2: float32(b2),
						OneMinusB2: float32(1 - b2), BC2Sqrt: float32(math.Sqrt(1 - math.Pow(b2, float64(step)))),
						Eps: 1e-8, StepSize: float32(lr / (1 - math.Pow(b1, float64(step))))}
					if decoupled {
						s.Decay, s.WeightDecay = float32(1-lr*wd), 0
					}
					pOld := append([]float64(nil), p64...)
					AdamUpdate(p32, g32, m32, v32, s)
					adam64(p64, g64, m64, v64, s)
					for j := range p32 {
						gs := math.Abs(g64[j]) + math.Abs(float64(s.WeightDecay)*pOld[j])
						tolM := u * (math.Abs(m64[j]) + gs)
						tolV := u * (v64[j] + float64(s.OneMinusB2)*gs*gs)
						denom := math.Sqrt(v64[j])/float64(s.BC2Sqrt) + float64(s.Eps)
						tolP := u*math.Abs(pOld[j]) + float64(s.StepSize)*(tolM+math.Abs(m64[j])*tolV/v64[j])/denom
						for _, c := range []struct {
							name      string
							got       float32
							want, tol float64
						}{{"p", p32[j], p64[j], tolP}, {"m", m32[j], m64[j], tolM}, {"v", v32[j], v64[j], tolV}} {
							if d := math.Abs(float64(c.got) - c.want); !(d <= c.tol) {
								t.Fatalf("n %d, decoupled %v, step %d, %s[%d]: got %g, want %g ± %.3g", n, decoupled, step, c.name, j, c.got, c.want, c.tol)
							}
						}
					}
				}
			}
		}
	})
}

func TestSGD(t *testing.T) {
	p, g := []float32{1, 2}, []float32{0.5, -1}
	SGD(p, g, 0.1, 0.5)
	if want := []float32{1 - 0.1*(0.5+0.5), 2 - 0.1*(-1+1)}; p[0] != want[0] || p[1] != want[1] {
		t.Errorf("SGD: got %v, want %v", p, want)
	}
	for _, nesterov := range []bool{false, true} {
		p, b := []float32{1}, []float32{0}
		SGDMomentum(p, []float32{1}, b, 0.1, 0.9, 1, 0, nesterov, true)
		SGDMomentum(p, []float32{2}, b, 0.1, 0.9, 1, 0, nesterov, false)
		// b = 1, then 0.9·1 + 2 = 2.9; p = 1 − 0.1·1 − 0.1·2.9, or with Nesterov
		// 1 − 0.1·(1 + 0.9) − 0.1·(2 + 0.9·2.9).
		want := float32(1 - 0.1*1 - 0.1*2.9)
		if nesterov {
			want = 1 - 0.1*(1+0.9) - 0.1*(2+0.9*2.9)
		}
		if math.Abs(float64(p[0]-want)) > 1e-6 || math.Abs(float64(b[0])-2.9) > 1e-6 {
			t.Errorf("SGDMomentum nesterov=%v: got p %g, b %g, want %g, 2.9", nesterov, p[0], b[0], want)
		}
	}
}

// TestSGDPaths runs three steps of each SGD form on 37 elements (vector body and tail) on
// both paths and checks them against each other: the vector path fuses multiply-adds the
// scalar path rounds twice, so they may differ by a few roundings of the step.
func TestSGDPaths(t *testing.T) {
	if !useAVX2 {
		t.Skip("no vector path on this machine")
	}
	defer func() { useAVX2 = true }()
	const n = 37
	for _, c := range []struct {
		mom, damp, wd float32
		nesterov      bool
	}{{0, 1, 0.01, false}, {0.9, 1, 0, false}, {0.9, 0.7, 0.01, false}, {0.9, 1, 0.01, true}} {
		var ps [2][]float32
		for path := range ps {
			useAVX2 = path == 0
			r := rand.New(rand.NewPCG(1, 2))
			p, b := make([]float32, n), make([]float32, n)
			for j := range p {
				p[j], b[j] = float32(r.NormFloat64()), 99 // b is ignored on the first step
			}
			for step := 0; step < 3; step++ {
				g := make([]float32, n)
				for j := range g {
					g[j] = float32(r.NormFloat64())
				}
				if c.mom == 0 {
					SGD(p, g, 0.1, c.wd)
				} else {
					SGDMomentum(p, g, b, 0.1, c.mom, c.damp, c.wd, c.nesterov, step == 0)
				}
			}
			ps[path] = p
		}
		for j := range ps[0] {
			if d := math.Abs(float64(ps[0][j] - ps[1][j])); d > 1e-6*math.Max(1, math.Abs(float64(ps[1][j]))) {
				t.Errorf("%+v: p[%d]: vector %g, scalar %g", c, j, ps[0][j], ps[1][j])
			}
		}
	}
}

// BenchmarkAdamUpdate: one update of a 784×256 weight on one goroutine and split over the
// pool, for the split's gain (memory bandwidth bounds both).
func BenchmarkAdamUpdate(b *testing.B) {
	n := 784 * 256
	p, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range g {
		g[i] = float32(i%7) - 3
	}
	s := &AdamScalars{Decay: 1, OneMinusB1: 0.1, B2: 0.999, OneMinusB2: 0.001, BC2Sqrt: 1, Eps: 1e-8, StepSize: 1e-3}
	b.Run("1t", func(b *testing.B) {
		b.SetBytes(int64(28 * n))
		for b.Loop() {
			adamRange(p, g, m, v, s)
		}
	})
	b.Run("split", func(b *testing.B) {
		b.SetBytes(int64(28 * n))
		for b.Loop() {
			AdamUpdate(p, g, m, v, s)
		}
	})
}
