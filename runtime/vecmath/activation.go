package vecmath

import "math"

// The piecewise-linear activations select with masks (v > 0), never branches: their inputs
// are about half positive in no pattern, where a branch is mispredicted half the time. They
// are exact (relu) or correctly rounded (the alpha products), on both paths alike; NaN takes
// the "not positive" side, as the comparison v > 0 is false for it.

// Relu sets dst[i] = x[i] where x[i] > 0, else +0.
func Relu(dst, x []float32) { unary(dst, x, kRelu, relu1) }

// ReluGrad sets dst[i] = dy[i] where y[i] > 0, else +0.
func ReluGrad(dst, dy, y []float32) { binary(dst, dy, y, kReluGrad, reluGrad1) }

// LeakyRelu sets dst[i] = x[i] where x[i] > 0, else alpha·x[i].
func LeakyRelu(dst, x []float32, alpha float32) {
	checkLen(dst, x)
	if useAVX2 {
		s := alpha
		tails2(dst, x, nil, func(d, a, _ []float32) { leakyVector(d, a, nil, s) })
		return
	}
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = selectBits(positiveMask(v), v, alpha*v)
	}
}

// LeakyReluGrad sets dst[i] = dy[i] where y[i] > 0, else alpha·dy[i]. For alpha > 0, y > 0
// exactly when the activation's input was.
func LeakyReluGrad(dst, dy, y []float32, alpha float32) {
	checkLen(dst, dy, y)
	if useAVX2 {
		tails2(dst, dy, y, func(d, a, b []float32) { leakyVector(d, a, b, alpha) })
		return
	}
	dy, y = dy[:len(dst)], y[:len(dst)]
	for i, v := range y {
		dst[i] = selectBits(positiveMask(v), dy[i], alpha*dy[i])
	}
}

// Sign sets dst[i] to 1 where x[i] > 0, −1 where x[i] < 0, and x[i] itself where it is ±0
// or NaN. It is scalar Go on every machine (no model spends time in it).
func Sign(dst, x []float32) {
	checkLen(dst, x)
	x = x[:len(dst)]
	for i, v := range x {
		nonzero := positiveMask(v) | positiveMask(-v) // neither zero nor NaN
		one := math.Float32frombits(math.Float32bits(v)&(1<<31) | math.Float32bits(1))
		dst[i] = selectBits(nonzero, one, v)
	}
}

// tails2 runs f over the whole vectors of dst, a (and b if not nil), then over the tail
// padded to eight lanes.
func tails2(dst, a, b []float32, f func(dst, a, b []float32)) {
	n := len(dst) &^ 7
	if n > 0 {
		var bn []float32
		if b != nil {
			bn = b[:n]
		}
		f(dst[:n], a[:n], bn)
	}
	if n == len(dst) {
		return
	}
	var ab, bb [8]float32
	copy(ab[:], a[n:len(dst)])
	var bt []float32
	if b != nil {
		copy(bb[:], b[n:len(dst)])
		bt = bb[:]
	}
	f(ab[:], ab[:], bt)
	copy(dst[n:], ab[:])
}

// positiveMask is all ones when v > 0 and zero otherwise (NaN included); the compiler turns
// the conditional assignment into a conditional move.
func positiveMask(v float32) uint32 {
	var m uint32
	if v > 0 {
		m = ^uint32(0)
	}
	return m
}

// selectBits is a where mask is all ones and b where it is zero.
func selectBits(mask uint32, a, b float32) float32 {
	return math.Float32frombits(math.Float32bits(a)&mask | math.Float32bits(b)&^mask)
}

func relu1(v float32) float32 { return math.Float32frombits(math.Float32bits(v) & positiveMask(v)) }

func reluGrad1(dy, y float32) float32 {
	return math.Float32frombits(math.Float32bits(dy) & positiveMask(y))
}
