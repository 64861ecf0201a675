//go:build !amd64

package vecmath

var useAVX2 = false

func vectorUnary(k int, dst, x []float32) { panic("vecmath: no vector kernels on this architecture") }

func vectorBinary(k int, dst, a, b []float32) {
	panic("vecmath: no vector kernels on this architecture")
}

func adamVector(p, g, m, v []float32, s *AdamScalars) {
	panic("vecmath: no vector kernels on this architecture")
}

func sgdVector(p, g, b []float32, s *SGDScalars, nesterov bool) {
	panic("vecmath: no vector kernels on this architecture")
}

func leakyVector(dst, x, y []float32, alpha float32) {
	panic("vecmath: no vector kernels on this architecture")
}
