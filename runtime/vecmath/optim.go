package vecmath

import (
	"math"
	"sync"

	"github.com/dlc-lang/dlc/runtime/parallel"
)

// AdamScalars are the per-step constants of one Adam or AdamW update, computed once per step
// (in float64, then rounded) by the caller. The assembly reads them in this order.
type AdamScalars struct {
	Decay       float32 // AdamW's 1 − lr·weight_decay; 1 for Adam
	WeightDecay float32 // Adam's L2 coefficient, added to the gradient; 0 for AdamW
	OneMinusB1  float32 // 1 − β1
	B2          float32 // β2
	OneMinusB2  float32 // 1 − β2
	BC2Sqrt     float32 // √(1 − β2^t)
	Eps         float32
	StepSize    float32 // lr / (1 − β1^t)
}

// AdamUpdate applies one update to every element of p, in place with its moments m and v,
// in the order of torch.optim's single-tensor Adam:
//
//	p = p·Decay
//	g = g + WeightDecay·p
//	m = m + (1−β1)·(g − m)
//	v = β2·v + (1−β2)·g²
//	p = p − StepSize · m / (√v / BC2Sqrt + Eps)
//
// g, m and v must be at least as long as p, and none of the four may overlap another;
// AdamUpdate panics when one is shorter. g is not written.
func AdamUpdate(p, g, m, v []float32, s *AdamScalars) {
	checkLen(p, g, m, v)
	if len(p) < 2*splitChunk || parallel.Workers() == 1 {
		adamRange(p, g, m, v, s)
		return
	}
	// A big tensor's update is split over the pool. The chunks are whole vectors, and every
	// element takes the same instructions wherever its chunk starts, so the result is the
	// same, bit for bit, as one pass.
	u, _ := adamSplits.Get().(*adamSplit)
	if u == nil {
		u = new(adamSplit)
		u.body = func(lo, hi int) {
			lo, hi = lo*splitChunk, min(hi*splitChunk, len(u.p))
			adamRange(u.p[lo:hi], u.g[lo:hi], u.m[lo:hi], u.v[lo:hi], u.s)
		}
	}
	u.p, u.g, u.m, u.v, u.s = p, g, m, v, s
	parallel.For((len(p)+splitChunk-1)/splitChunk, 1, u.body)
	*u = adamSplit{body: u.body}
	adamSplits.Put(u)
}

// splitChunk is the elements of one piece of a split optimiser update: 64 KiB of each
// vector, a multiple of the vector width.
const splitChunk = 1 << 14

// adamSplit is one split AdamUpdate's arguments with the loop body bound to them once, so
// that a split update allocates nothing.
type adamSplit struct {
	p, g, m, v []float32
	s          *AdamScalars
	body       func(lo, hi int)
}

var adamSplits sync.Pool

// adamRange is AdamUpdate on one goroutine.
func adamRange(p, g, m, v []float32, s *AdamScalars) {
	if useAVX2 {
		n := len(p) &^ 7
		if n > 0 {
			adamVector(p[:n], g[:n], m[:n], v[:n], s)
		}
		if n == len(p) {
			return
		}
		var pb, gb, mb, vb [8]float32
		copy(pb[:], p[n:])
		copy(gb[:], g[n:len(p)])
		copy(mb[:], m[n:len(p)])
		copy(vb[:], v[n:len(p)])
		adamVector(pb[:], gb[:], mb[:], vb[:], s)
		copy(p[n:], pb[:])
		copy(m[n:len(p)], mb[:])
		copy(v[n:len(p)], vb[:])
		return
	}
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for j, gj := range g {
		pj := p[j] * s.Decay
		gj += s.WeightDecay * pj
		mj := m[j] + s.OneMinusB1*(gj-m[j])
		vj := s.B2*v[j] + s.OneMinusB2*gj*gj
		m[j], v[j] = mj, vj
		denom := float32(math.Sqrt(float64(vj)))/s.BC2Sqrt + s.Eps
		p[j] = pj - s.StepSize*(mj/denom)
	}
}

// SGDScalars are the constants of one SGD step. The assembly reads them in this order.
type SGDScalars struct {
	LR, Momentum float32
	Damp         float32 // 1 − dampening
	WeightDecay  float32
}

// SGD sets p = p − lr·(g + wd·p): plain gradient descent with L2 weight decay. g must be at
// least as long as p; SGD panics otherwise.
func SGD(p, g []float32, lr, wd float32) {
	checkLen(p, g)
	if useAVX2 {
		s := SGDScalars{LR: lr, WeightDecay: wd}
		sgdTails(p, g, nil, func(p, g, _ []float32) { sgdVector(p, g, nil, &s, false) })
		return
	}
	g = g[:len(p)]
	for j, gj := range g {
		p[j] -= lr * (gj + wd*p[j])
	}
}

// sgdTails runs f over the whole vectors of p, g (and b if not nil), then over the tail
// padded to eight lanes.
func sgdTails(p, g, b []float32, f func(p, g, b []float32)) {
	n := len(p) &^ 7
	if n > 0 {
		var bn []float32
		if b != nil {
			bn = b[:n]
		}
		f(p[:n], g[:n], bn)
	}
	if n == len(p) {
		return
	}
	var pb, gb, bb [8]float32
	copy(pb[:], p[n:])
	copy(gb[:], g[n:len(p)])
	if b != nil {
		copy(bb[:], b[n:len(p)])
	}
	f(pb[:], gb[:], bb[:])
	copy(p[n:], pb[:])
	if b != nil {
		copy(b[n:len(p)], bb[:])
	}
}

// SGDMomentum is one step of torch.optim.SGD with momentum buffer b:
//
//	d = g + wd·p
//	b = d on the first step, else mom·b + damp·d     (damp is 1 − dampening)
//	p = p − lr·(d + mom·b) if nesterov, else p − lr·b
//
// g and b must be at least as long as p; SGDMomentum panics otherwise.
func SGDMomentum(p, g, b []float32, lr, mom, damp, wd float32, nesterov, first bool) {
	checkLen(p, g, b)
	if useAVX2 {
		s := SGDScalars{LR: lr, Momentum: mom, Damp: damp, WeightDecay: wd}
		if first {
			// b = mom·0 + 1·d is the undamped first buffer.
			clear(b[:len(p)])
			s.Damp = 1
		}
		sgdTails(p, g, b, func(p, g, b []float32) { sgdVector(p, g, b, &s, nesterov) })
		return
	}
	g, b = g[:len(p)], b[:len(p)]
	switch {
	case first && nesterov:
		for j, gj := range g {
			d := gj + wd*p[j]
			b[j] = d
			p[j] -= lr * (d + mom*d)
		}
	case first:
		for j, gj := range g {
			d := gj + wd*p[j]
			b[j] = d
			p[j] -= lr * d
		}
	case nesterov:
		for j, gj := range g {
			d := gj + wd*p[j]
			bj := mom*b[j] + damp*d
			b[j] = bj
			p[j] -= lr * (d + mom*bj)
		}
	default:
		for j, gj := range g {
			bj := mom*b[j] + damp*(gj+wd*p[j])
			b[j] = bj
			p[j] -= lr * bj
		}
	}
}
