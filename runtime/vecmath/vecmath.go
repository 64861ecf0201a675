package vecmath

// Each function writes f(x[i]) (or f(a[i], b[i])) into dst[i] for every i < len(dst). The
// inputs must be at least as long as dst; they may be dst itself, but must not overlap it
// otherwise. The functions panic when an input is shorter than dst: that is a bug in the
// caller, which checks shapes before it gets here.
//
// On amd64 with AVX2 and FMA the work is done eight lanes at a time in assembly; elsewhere
// by the scalar code of scalar.go. A tail shorter than eight lanes goes through the vector
// code too (via a padded buffer), so an element's result never depends on its position.

// Exp sets dst[i] = e^x[i].
func Exp(dst, x []float32) { unary(dst, x, kExp, exp1) }

// Log sets dst[i] = log x[i]: −Inf at ±0, NaN below 0.
func Log(dst, x []float32) { unary(dst, x, kLog, log1) }

// Log1p sets dst[i] = log(1 + x[i]): −Inf at −1, NaN below −1.
func Log1p(dst, x []float32) { unary(dst, x, kLog1p, log1p1) }

// Sigmoid sets dst[i] = 1/(1 + e^−x[i]), computed without overflow for either sign.
func Sigmoid(dst, x []float32) { unary(dst, x, kSigmoid, sigmoid1) }

// Tanh sets dst[i] = tanh x[i].
func Tanh(dst, x []float32) { unary(dst, x, kTanh, tanh1) }

// BCELogits sets dst[i] = max(z, 0) − z·t + log1p(e^−|z|) for z = z[i], t = t[i]: the binary
// cross-entropy of sigmoid(z) against t, without overflow or cancellation.
func BCELogits(dst, z, t []float32) { binary(dst, z, t, kBCELogits, bceLogits1) }

// BCE sets dst[i] = −(t·log p + (1−t)·log(1−p)) for p = p[i], t = t[i], each log clamped at
// −100 as PyTorch's BCELoss does, so p = 0 or 1 costs 100 rather than Inf.
func BCE(dst, p, t []float32) { binary(dst, p, t, kBCE, bce1) }

// The kernels the assembly provides, indexed for vectorUnary and vectorBinary.
const (
	kExp = iota
	kLog
	kLog1p
	kSigmoid
	kTanh
	kBCELogits
	kBCE
	kRelu
	kReluGrad
	kAdd
	kSub
	kMul
	kDiv
)

// Add sets dst[i] = a[i] + b[i]; Sub, Mul and Div likewise. Each element is one IEEE
// float32 operation, so the results are those of the scalar loop to the bit; dst may be a
// or b. a and b must be at least as long as dst.
func Add(dst, a, b []float32) { binary(dst, a, b, kAdd, func(x, y float32) float32 { return x + y }) }

// Sub sets dst[i] = a[i] − b[i].
func Sub(dst, a, b []float32) { binary(dst, a, b, kSub, func(x, y float32) float32 { return x - y }) }

// Mul sets dst[i] = a[i]·b[i].
func Mul(dst, a, b []float32) { binary(dst, a, b, kMul, func(x, y float32) float32 { return x * y }) }

// Div sets dst[i] = a[i] / b[i].
func Div(dst, a, b []float32) { binary(dst, a, b, kDiv, func(x, y float32) float32 { return x / y }) }

func checkLen(dst []float32, srcs ...[]float32) {
	for _, s := range srcs {
		if len(s) < len(dst) {
			panic("vecmath: input shorter than dst")
		}
	}
}

func unary(dst, x []float32, k int, f func(float32) float32) {
	checkLen(dst, x)
	if useAVX2 {
		n := len(dst) &^ 7
		if n > 0 {
			vectorUnary(k, dst[:n], x[:n])
		}
		if n < len(dst) {
			var buf [8]float32
			copy(buf[:], x[n:len(dst)])
			vectorUnary(k, buf[:], buf[:])
			copy(dst[n:], buf[:])
		}
		return
	}
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = f(v)
	}
}

func binary(dst, a, b []float32, k int, f func(float32, float32) float32) {
	checkLen(dst, a, b)
	if useAVX2 {
		n := len(dst) &^ 7
		if n > 0 {
			vectorBinary(k, dst[:n], a[:n], b[:n])
		}
		if n < len(dst) {
			var ab, bb [8]float32
			copy(ab[:], a[n:len(dst)])
			copy(bb[:], b[n:len(dst)])
			vectorBinary(k, ab[:], ab[:], bb[:])
			copy(dst[n:], ab[:])
		}
		return
	}
	a, b = a[:len(dst)], b[:len(dst)]
	for i, v := range a {
		dst[i] = f(v, b[i])
	}
}
