package vecmath

import "math"

// The scalar forms of the kernels: the portable fallback, and the reference the vector code
// follows step for step (same reductions, same polynomials, same constants), so both meet the
// bounds in doc.go. The vector code uses fused multiply-adds where these round twice, so the
// two may differ in the last bit.

// Cody–Waite split of ln 2: ln2Hi has 9 significant bits, so n·ln2Hi is exact for |n| < 2^15
// and x − n·ln2Hi loses nothing; ln2Lo carries the rest.
const (
	ln2Hi = 0.693359375
	ln2Lo = float32(math.Ln2 - 0.693359375)
	log2e = float32(math.Log2E)
)

// exp: e^x = 2^n · e^r with n = round(x/ln2), |r| ≤ ln2/2, e^r = 1 + r + r²·P(r).
// Inputs are clamped to [expLo, expHi] first: below, e^x is under half the smallest
// subnormal and rounds to 0; above, the scaling overflows to +Inf. So the clamp alone
// handles ±Inf, overflow and underflow, and NaN passes through min and max.
const (
	expLo = -104
	expHi = 89
	// P(r), degree 4, fitted by fit_coeffs.go; relative error of e^r ≤ 3.8e-9 on [-ln2/2, ln2/2].
	expP0 = 0.499999881
	expP1 = 0.166665182
	expP2 = 0.0416695327
	expP3 = 0.00836891588
	expP4 = 0.00137514074
)

// log: x = 2^k · m with m ∈ [√½, √2), log x = k·ln2 + log1p(f) with f = m − 1 exact, and
// log1p(f) = f − f²/2 + f³·Q(f).
const (
	sqrt2 = float32(math.Sqrt2)
	// Q(f), degree 7, fitted by fit_coeffs.go; relative error of log1p(f) ≤ 7.4e-9 on [√½−1, √2−1].
	logQ0 = 0.333333552
	logQ1 = -0.250008523
	logQ2 = 0.19999826
	logQ3 = -0.166213706
	logQ4 = 0.142271146
	logQ5 = -0.13202104
	logQ6 = 0.126203269
	logQ7 = -0.0736286789
)

// tanh: below tanhSmall (where tanh = 1/2), tanh a = a + a³·T(a²); above, 1 − 2/(e^{2a} + 1),
// which then has no cancellation because the result is at least 1/2.
const (
	tanhSmall = float32(0.549306144334054845697622618461262852) // atanh(1/2)
	// T(s), degree 4, fitted by fit_coeffs.go; relative error of tanh ≤ 4.5e-9 on [0, atanh ½].
	tanhT0 = -0.333333164
	tanhT1 = 0.133325875
	tanhT2 = -0.0538526513
	tanhT3 = 0.0210737269
	tanhT4 = -0.00627783407
)

// exp1 carries the reduced argument as r + rl (rl the rounding error of r) and forms
// 1 + r exactly as h + e (Fast2Sum, |r| < 1), so that the only rounding of size is the last
// addition: this keeps exp within 1 ulp where 1 + (r + r²P) alone reaches 1.01.
func exp1(x float32) float32 {
	x = min(max(x, expLo), expHi)
	n := float32(math.RoundToEven(float64(x * log2e)))
	x1 := x - n*ln2Hi // exact
	nLo := n * ln2Lo
	r := x1 - nLo
	rl := (x1 - r) - nLo
	p := expP0 + r*(expP1+r*(expP2+r*(expP3+r*expP4)))
	s := r*r*p + rl
	h := 1 + r
	e := (1 - h) + r // exact
	return scale2(h+(e+s), int32(n))
}

// scale2 returns p·2^n for n ∈ [-150, 128] in two steps, each factor a normal float32, so
// that a subnormal or overflowing result is rounded once, by the second product.
func scale2(p float32, n int32) float32 {
	n1 := n >> 1
	n2 := n - n1
	return p * math.Float32frombits(uint32(n1+127)<<23) * math.Float32frombits(uint32(n2+127)<<23)
}

func log1(x float32) float32 {
	switch {
	case x == 0:
		return float32(math.Inf(-1))
	case x < 0:
		return float32(math.NaN())
	case !(x < float32(math.Inf(1))): // +Inf and NaN
		return x
	}
	return logCore(x)
}

// logCore is log x for finite x > 0, subnormals included.
func logCore(x float32) float32 {
	var k int32
	if x < 0x1p-126 {
		x *= 0x1p23
		k = -23
	}
	b := math.Float32bits(x)
	k += int32(b>>23) - 127
	m := math.Float32frombits(b&0x007fffff | 0x3f800000)
	if m > sqrt2 {
		m *= 0.5
		k++
	}
	f := m - 1
	q := logQ0 + f*(logQ1+f*(logQ2+f*(logQ3+f*(logQ4+f*(logQ5+f*(logQ6+f*logQ7))))))
	f2 := f * f
	kf := float32(k)
	lo := f2*f*q - 0.5*f2 + kf*ln2Lo
	return kf*ln2Hi + (f + lo)
}

func log1p1(x float32) float32 {
	u := 1 + x
	switch {
	case u == 1: // |x| below half an ulp of 1: log1p x = x, ±0 included
		return x
	case x == -1:
		return float32(math.Inf(-1))
	case x < -1:
		return float32(math.NaN())
	case !(x < float32(math.Inf(1))):
		return x
	}
	return log1pCore(x, u)
}

// log1pCore is log1p x for u = 1 + x rounded, finite and > 0: log u plus the first-order
// correction for the rounding of 1 + x.
func log1pCore(x, u float32) float32 {
	return logCore(u) + (x-(u-1))/u
}

func sigmoid1(x float32) float32 {
	e := exp1(-abs(x))
	num := float32(1)
	if x < 0 {
		num = e
	}
	return num / (1 + e)
}

func tanh1(x float32) float32 {
	a := abs(x)
	var y float32
	if a < tanhSmall {
		s := a * a
		y = a + a*s*(tanhT0+s*(tanhT1+s*(tanhT2+s*(tanhT3+s*tanhT4))))
	} else {
		y = 1 - 2/(exp1(2*a)+1)
	}
	return math.Float32frombits(math.Float32bits(y) | math.Float32bits(x)&(1<<31))
}

// bceLogits1 is max(z, 0) − z·t + log1p(e^−|z|). The first two terms are formed in float64,
// where z·t is exact, and rounded once, as the vector code's fused multiply-add does.
func bceLogits1(z, t float32) float32 {
	base := float32(float64(max(z, 0)) - float64(z)*float64(t))
	e := exp1(-abs(z))
	return base + log1pCore(e, 1+e)
}

// bce1 is −(t·log p + (1−t)·log(1−p)) with each log clamped at −100 as PyTorch's BCELoss does;
// log(1−p) is taken as log1p(−p), so 1 − p is never rounded.
func bce1(p, t float32) float32 {
	lp := max(log1(p), -100)
	lq := max(log1p1(-p), -100)
	return -(t*lp + (1-t)*lq)
}

func abs(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }
