package runtime

import "github.com/dlc-lang/dlc/runtime/vecmath"

// Strided iteration, the one mechanism behind broadcasting, reductions and transposes.
//
// Every tensor is contiguous, so a view of it at another shape is fully described by one
// stride per dimension of that shape: its natural stride, or 0 along a dimension it is
// broadcast over. A binary op reads two such views and writes a contiguous result; sum
// writes through a view with zero strides on the reduced axes (so all the elements of a
// reduced group land on one output element); broadcast_like reads through one; transpose
// reads through permuted strides. A stridedLoop first drops dimensions of size 1 and merges
// neighbouring dimensions that every operand traverses contiguously, so [M, N] + [M, N]
// becomes one flat loop and [M, N] + [N] becomes M rows of N; the caller then runs a tight
// loop over each innermost row, whose strides are fixed for the whole loop.

// stridedLoop iterates over a shape with up to three operands' strides.
type stridedLoop struct {
	shape   []int
	strides [3][]int
	idx     []int // rows' index, in the scratch
	n       int   // operands
}

// loopRank is the rank a loopScratch, and the kernels' other shape scratch arrays, hold
// without allocating.
const loopRank = 8

// loopScratch is a stridedLoop's storage: a kernel declares one as a local variable, so
// that running a loop of rank up to loopRank allocates nothing (a higher rank grows onto
// the heap).
type loopScratch struct {
	shape   [loopRank]int
	strides [3][loopRank]int
	idx     [loopRank]int
}

// newStridedLoop returns a loop over shape with the given operands' strides, its slices in
// sc.
func newStridedLoop(sc *loopScratch, shape []int, strides ...[]int) stridedLoop {
	l := stridedLoop{n: len(strides), shape: sc.shape[:0], idx: sc.idx[:0]}
	for o := 0; o < l.n; o++ {
		l.strides[o] = sc.strides[o][:0]
	}
	for i, d := range shape {
		if d == 1 {
			continue
		}
		if k := len(l.shape) - 1; k >= 0 && mergeable(l.strides, strides, l.n, k, i, d) {
			l.shape[k] *= d
			for o := 0; o < l.n; o++ {
				l.strides[o][k] = strides[o][i]
			}
			continue
		}
		l.shape = append(l.shape, d)
		for o := 0; o < l.n; o++ {
			l.strides[o] = append(l.strides[o], strides[o][i])
		}
	}
	return l
}

// mergeable reports whether the collapsed dimension k can absorb original dimension i of
// size d: every operand steps over k exactly as it would over d consecutive steps of i.
func mergeable(have [3][]int, strides [][]int, n, k, i, d int) bool {
	for o := 0; o < n; o++ {
		if have[o][k] != strides[o][i]*d {
			return false
		}
	}
	return true
}

// shapeOr1 is the loop's dimension k, or 1 when it has fewer.
func (l *stridedLoop) shapeOr1(k int) int {
	if k < len(l.shape) {
		return l.shape[k]
	}
	return 1
}

// inner returns the length of the innermost row and each operand's stride along it.
func (l *stridedLoop) inner() (n int, st [3]int) {
	if len(l.shape) == 0 {
		return 1, st
	}
	k := len(l.shape) - 1
	for o := 0; o < l.n; o++ {
		st[o] = l.strides[o][k]
	}
	return l.shape[k], st
}

// rows calls row with the operands' offsets at the start of each innermost row. It does
// nothing for an empty shape (one with a zero dimension).
func (l *stridedLoop) rows(row func(off [3]int)) {
	for _, d := range l.shape {
		if d == 0 {
			return
		}
	}
	outer := len(l.shape) - 1
	if outer <= 0 {
		row([3]int{})
		return
	}
	idx := l.idx[:0]
	for range outer {
		idx = append(idx, 0)
	}
	var off [3]int
	for {
		row(off)
		k := outer - 1
		for ; k >= 0; k-- {
			idx[k]++
			for o := 0; o < l.n; o++ {
				off[o] += l.strides[o][k]
			}
			if idx[k] < l.shape[k] {
				break
			}
			for o := 0; o < l.n; o++ {
				off[o] -= l.strides[o][k] * l.shape[k]
			}
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// contiguousStrides returns the row-major strides of shape, appended to dst[:0] (a caller's
// scratch array, so that no allocation is needed up to its length).
func contiguousStrides(dst, shape []int) []int {
	st := Resize(dst, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= shape[i]
	}
	return st
}

// broadcastStrides returns the strides of a contiguous tensor of shape s read at the
// broadcast shape out (aligned at the last dimension): 0 where s lacks the dimension or
// has it as 1. The strides are written over dst[:0], as contiguousStrides does.
func broadcastStrides(dst, s, out []int) []int {
	st := Resize(dst, len(out))
	clear(st)
	acc := 1
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] != 1 {
			st[len(out)-len(s)+i] = acc
		}
		acc *= s[i]
	}
	return st
}

// broadcastShapes returns the NumPy broadcast of a and b, written over dst[:0], or false.
func broadcastShapes(dst, a, b []int) ([]int, bool) {
	n := max(len(a), len(b))
	out := Resize(dst, n)
	for i := range out {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, false
		}
	}
	return out, true
}

// broadcastTo reads x at shape out (which x must broadcast to) into dst.
func broadcastTo(dst []float32, x *Tensor, out []int) {
	var s0, s1 [loopRank]int
	var sc loopScratch
	l := newStridedLoop(&sc, out, contiguousStrides(s0[:], out), broadcastStrides(s1[:], x.Shape, out))
	n, st := l.inner()
	src := x.Data
	l.rows(func(off [3]int) {
		d := dst[off[0] : off[0]+n]
		if st[1] == 0 {
			v := src[off[1]]
			for j := range d {
				d[j] = v
			}
		} else {
			copy(d, src[off[1]:off[1]+n])
		}
	})
}

// accumulate adds every element of the contiguous array src, of the given shape, into
// dst[offset], where dstStrides maps src's index to dst's offset and has zeros along the
// dimensions being summed over. A row summed to one element is accumulated in float64.
func accumulate(dst, src []float32, shape, dstStrides []int) {
	var s1 [loopRank]int
	var sc loopScratch
	l := newStridedLoop(&sc, shape, dstStrides, contiguousStrides(s1[:], shape))
	n, st := l.inner()
	l.rows(func(off [3]int) {
		s := src[off[1] : off[1]+n]
		if st[0] == 0 {
			var acc float64
			for _, v := range s {
				acc += float64(v)
			}
			dst[off[0]] += float32(acc)
			return
		}
		d := dst[off[0] : off[0]+n]
		vecmath.Add(d, d, s) // each column summed in row order, as a scalar loop would
	})
}

// Resize returns dst[:n], reusing dst's array when it is long enough (the reused elements
// keep their values).
func Resize[T any](dst []T, n int) []T {
	if cap(dst) < n {
		return make([]T, n)
	}
	return dst[:n]
}
