package vecmath

import "golang.org/x/sys/cpu"

// useAVX2 selects the assembly kernels; tests turn it off to check the scalar code.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// The assembly kernels take n, a positive multiple of 8.

//go:noescape
func expAVX2(dst, x *float32, n int)

//go:noescape
func logAVX2(dst, x *float32, n int)

//go:noescape
func log1pAVX2(dst, x *float32, n int)

//go:noescape
func sigmoidAVX2(dst, x *float32, n int)

//go:noescape
func tanhAVX2(dst, x *float32, n int)

//go:noescape
func bceLogitsAVX2(dst, z, t *float32, n int)

//go:noescape
func bceAVX2(dst, p, t *float32, n int)

//go:noescape
func addAVX2(dst, a, b *float32, n int)

//go:noescape
func subAVX2(dst, a, b *float32, n int)

//go:noescape
func mulAVX2(dst, a, b *float32, n int)

//go:noescape
func divAVX2(dst, a, b *float32, n int)

func vectorUnary(k int, dst, x []float32) {
	switch k {
	case kExp:
		expAVX2(&dst[0], &x[0], len(dst))
	case kLog:
		logAVX2(&dst[0], &x[0], len(dst))
	case kLog1p:
		log1pAVX2(&dst[0], &x[0], len(dst))
	case kSigmoid:
		sigmoidAVX2(&dst[0], &x[0], len(dst))
	case kTanh:
		tanhAVX2(&dst[0], &x[0], len(dst))
	case kRelu:
		reluAVX2(&dst[0], &x[0], len(dst))
	}
}

func vectorBinary(k int, dst, a, b []float32) {
	switch k {
	case kBCELogits:
		bceLogitsAVX2(&dst[0], &a[0], &b[0], len(dst))
	case kBCE:
		bceAVX2(&dst[0], &a[0], &b[0], len(dst))
	case kReluGrad:
		reluGradAVX2(&dst[0], &a[0], &b[0], len(dst))
	case kAdd:
		addAVX2(&dst[0], &a[0], &b[0], len(dst))
	case kSub:
		subAVX2(&dst[0], &a[0], &b[0], len(dst))
	case kMul:
		mulAVX2(&dst[0], &a[0], &b[0], len(dst))
	case kDiv:
		divAVX2(&dst[0], &a[0], &b[0], len(dst))
	}
}

//go:noescape
func adamAVX2(param, grad, m, v *float32, n int, s *AdamScalars)

func adamVector(p, g, m, v []float32, s *AdamScalars) {
	adamAVX2(&p[0], &g[0], &m[0], &v[0], len(p), s)
}

//go:noescape
func sgdAVX2(param, grad *float32, n int, s *SGDScalars)

//go:noescape
func sgdMomentumAVX2(param, grad, buf *float32, n int, s *SGDScalars, nesterov bool)

// sgdVector is plain SGD when b is nil, else SGD with momentum buffer b.
func sgdVector(p, g, b []float32, s *SGDScalars, nesterov bool) {
	if b == nil {
		sgdAVX2(&p[0], &g[0], len(p), s)
		return
	}
	sgdMomentumAVX2(&p[0], &g[0], &b[0], len(p), s, nesterov)
}

//go:noescape
func reluAVX2(dst, x *float32, n int)

//go:noescape
func reluGradAVX2(dst, dy, y *float32, n int)

//go:noescape
func leakyAVX2(dst, x, y *float32, n int, alpha float32)

// leakyVector is LeakyRelu when y is nil, else LeakyReluGrad with x as dy.
func leakyVector(dst, x, y []float32, alpha float32) {
	if y == nil {
		y = x
	}
	leakyAVX2(&dst[0], &x[0], &y[0], len(dst), alpha)
}
