//go:build ignore

// fit_coeffs prints the polynomial coefficients used by the float32 kernels of package vecmath.
// Each polynomial is a weighted least-squares fit on Chebyshev nodes (close to minimax for
// these smooth functions), solved in float64 and then rounded to float32. Run it with
//
//	go run fit_coeffs.go
//
// and copy the printed coefficients into scalar.go and vecmath_amd64.s (as float32 bits) when
// a degree or an interval changes.
package main

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// fit returns c[0..deg] minimising Σ w(x)·(Σ c_k x^k − f(x))² over Chebyshev nodes of [lo, hi].
func fit(f, w func(float64) float64, lo, hi float64, deg int) []float64 {
	const n = 2000
	a := mat.NewDense(n, deg+1, nil)
	b := mat.NewVecDense(n, nil)
	for i := 0; i < n; i++ {
		x := (lo+hi)/2 + (hi-lo)/2*math.Cos(math.Pi*(float64(i)+0.5)/n)
		wx := w(x)
		p := 1.0
		for k := 0; k <= deg; k++ {
			a.Set(i, k, p*wx)
			p *= x
		}
		b.SetVec(i, f(x)*wx)
	}
	var c mat.VecDense
	if err := c.SolveVec(a, b); err != nil {
		panic(err)
	}
	out := make([]float64, deg+1)
	for k := range out {
		out[k] = float64(float32(c.AtVec(k)))
	}
	return out
}

func horner(c []float64, x float64) float64 {
	s := 0.0
	for k := len(c) - 1; k >= 0; k-- {
		s = s*x + c[k]
	}
	return s
}

// report prints the coefficients and the fit's worst relative error of the whole function.
func report(name string, c []float64, lo, hi float64, full func(p, x float64) float64, ref func(float64) float64) {
	worst := 0.0
	for i := 0; i <= 100000; i++ {
		x := lo + (hi-lo)*float64(i)/100000
		if x == 0 {
			continue
		}
		want := ref(x)
		got := full(horner(c, x), x)
		worst = math.Max(worst, math.Abs(got-want)/math.Abs(want))
	}
	fmt.Printf("%s: worst relative error %.3g (%.2f float32 ulps at most)\n", name, worst, worst/0x1p-24)
	for k, v := range c {
		fmt.Printf("\tc%d = %.9g\n", k, v)
	}
}

func main() {

	// exp(r) = 1 + r + r²·P(r) on [-ln2/2, ln2/2].
	lo, hi := -math.Ln2/2, math.Ln2/2
	expP := func(r float64) float64 {
		if r == 0 {
			return 0.5
		}
		return (math.Exp(r) - 1 - r) / (r * r)
	}
	for _, deg := range []int{4, 5} {
		c := fit(expP, func(r float64) float64 { return r * r / math.Exp(r) }, lo, hi, deg)
		report(fmt.Sprintf("exp deg %d", deg), c, lo, hi, func(p, r float64) float64 { return 1 + r + r*r*p }, math.Exp)
	}

	// log(1+f) = f − f²/2 + f³·Q(f) on [√½−1, √2−1].
	lo, hi = math.Sqrt2/2-1, math.Sqrt2-1
	logQ := func(f float64) float64 {
		if f == 0 {
			return 1.0 / 3
		}
		return (math.Log1p(f) - f + f*f/2) / (f * f * f)
	}
	for _, deg := range []int{6, 7, 8} {
		c := fit(logQ, func(f float64) float64 { return math.Abs(f*f*f) / math.Abs(math.Log1p(f)+1e-300) }, lo, hi, deg)
		report(fmt.Sprintf("log deg %d", deg), c, lo, hi, func(q, f float64) float64 { return f - f*f/2 + f*f*f*q }, math.Log1p)
	}

	// tanh(a) = a + a³·T(a²) on [0, atanh(1/2)].
	hi = math.Atanh(0.5)
	tanhT := func(s float64) float64 {
		if s == 0 {
			return -1.0 / 3
		}
		a := math.Sqrt(s)
		return (math.Tanh(a) - a) / (s * a)
	}
	for _, deg := range []int{3, 4, 5} {
		c := fit(tanhT, func(s float64) float64 { return s }, 0, hi*hi, deg)
		report(fmt.Sprintf("tanh deg %d", deg), c, 0, hi, func(_, a float64) float64 { return a + a*a*a*horner(c, a*a) }, math.Tanh)
	}
}
