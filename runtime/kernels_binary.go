package runtime

import (
	"sync"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/parallel"
	"github.com/dlc-lang/dlc/runtime/vecmath"
)

// binOp is one of the four arithmetic ops or the comparison eq, which broadcast their
// operands NumPy-style.
type binOp uint8

const (
	opAdd binOp = iota
	opSub
	opMul
	opDiv
	opEq // 1 where equal, else 0: a metric, off the hot path
	opMax
	opMin
)

func init() {
	register("add", binaryKernel(opAdd))
	register("sub", binaryKernel(opSub))
	register("mul", binaryKernel(opMul))
	register("div", binaryKernel(opDiv))
	register("maximum", binaryKernel(opMax))
	register("minimum", binaryKernel(opMin))
}

func binaryKernel(o binOp) Kernel {
	return func(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
		a, b := args[0], args[1]
		if sameShape(a.Shape, b.Shape) {
			out := c.alloc(a.Shape)
			o.row(out.Data, a.Data, b.Data, 1, 1)
			return out, nil
		}
		var sb [loopRank]int
		shape, ok := broadcastShapes(sb[:], a.Shape, b.Shape)
		if !ok {
			return nil, opErrorf(op, "got %s and %s, want broadcastable shapes", ShapeString(a.Shape), ShapeString(b.Shape))
		}
		out := c.alloc(shape)
		switch {
		case len(b.Data) == 1 && sameShape(shape, a.Shape):
			o.row(out.Data, a.Data, b.Data, 1, 0)
		case len(a.Data) == 1 && sameShape(shape, b.Shape):
			o.row(out.Data, a.Data, b.Data, 0, 1)
		default:
			o.broadcast(out.Data, a, b, shape)
		}
		return out, nil
	}
}

// broadcast computes dst = a o b at the broadcast shape, one innermost row at a time. A
// large one (a batch norm's [B, C, H, W] against its [C] statistics) is split over the
// pool along the loop's outermost dimension; every element is the same one operation
// either way, so the result does not depend on the split.
func (o binOp) broadcast(dst []float32, a, b *Tensor, shape []int) {
	var s0, s1, s2 [loopRank]int
	j, _ := broadcastJobs.Get().(*broadcastJob)
	if j == nil {
		j = new(broadcastJob)
		j.body = j.rows
	}
	j.l = newStridedLoop(&j.sc, shape, contiguousStrides(s0[:], shape), broadcastStrides(s1[:], a.Shape, shape), broadcastStrides(s2[:], b.Shape, shape))
	j.o, j.dst, j.a, j.b = o, dst, a.Data, b.Data
	if outer := len(j.l.shape); outer >= 2 && len(dst) >= parallelBroadcast {
		parallel.For(j.l.shape[0], max(1, j.l.shape[0]*parallelBroadcast/(2*len(dst))), j.body)
	} else {
		j.body(0, max(1, j.l.shapeOr1(0)))
	}
	j.dst, j.a, j.b = nil, nil, nil
	broadcastJobs.Put(j)
}

// parallelBroadcast is the least number of elements a broadcast splits over the pool:
// below it the hand-off costs more than the second core saves.
const parallelBroadcast = 1 << 15

// broadcastJob is one broadcast call, recycled with its loop function bound once so that
// a call allocates nothing.
type broadcastJob struct {
	o         binOp
	dst, a, b []float32
	l         stridedLoop
	sc        loopScratch
	body      func(lo, hi int)
}

var broadcastJobs sync.Pool // of *broadcastJob

// rows runs the rows of the outermost indices [lo, hi) of the job's loop.
func (j *broadcastJob) rows(lo, hi int) {
	var shape, idx [loopRank]int
	l := j.l
	if len(l.shape) > 0 {
		n := copy(shape[:], l.shape)
		shape[0] = hi - lo
		l.shape = shape[:n]
	}
	l.idx = idx[:0]
	var base [3]int
	if len(l.shape) > 1 {
		for o := 0; o < l.n; o++ {
			base[o] = lo * l.strides[o][0]
		}
	}
	n, st := l.inner()
	dst, a, b, op := j.dst, j.a, j.b, j.o
	l.rows(func(off [3]int) {
		d := base[0] + off[0]
		op.row(dst[d:d+n], a[base[1]+off[1]:], b[base[2]+off[2]:], st[1], st[2])
	})
}

// row computes dst[i] = a[i*sa] o b[i*sb] for every i, where each stride is 0 or 1. Each
// case is its own loop so that the compiler sees plain indexed slices.
func (o binOp) row(dst, a, b []float32, sa, sb int) {
	n := len(dst)
	if o >= opEq { // off the hot path: one generic loop
		for i := range dst {
			dst[i] = o.apply(a[i*sa], b[i*sb])
		}
		return
	}
	switch {
	case sa == 1 && sb == 1:
		// The vector loops round each element as these scalar ones would (vecmath).
		switch o {
		case opAdd:
			vecmath.Add(dst, a, b)
		case opSub:
			vecmath.Sub(dst, a, b)
		case opMul:
			vecmath.Mul(dst, a, b)
		case opDiv:
			vecmath.Div(dst, a, b)
		}
	case sa == 1: // b is one value
		a, v := a[:n], b[0]
		switch o {
		case opAdd:
			for i := range dst {
				dst[i] = a[i] + v
			}
		case opSub:
			for i := range dst {
				dst[i] = a[i] - v
			}
		case opMul:
			for i := range dst {
				dst[i] = a[i] * v
			}
		case opDiv:
			for i := range dst {
				dst[i] = a[i] / v
			}
		}
	case sb == 1: // a is one value
		v, b := a[0], b[:n]
		switch o {
		case opAdd:
			for i := range dst {
				dst[i] = v + b[i]
			}
		case opSub:
			for i := range dst {
				dst[i] = v - b[i]
			}
		case opMul:
			for i := range dst {
				dst[i] = v * b[i]
			}
		case opDiv:
			for i := range dst {
				dst[i] = v / b[i]
			}
		}
	default:
		v := o.apply(a[0], b[0])
		for i := range dst {
			dst[i] = v
		}
	}
}

func (o binOp) apply(x, y float32) float32 {
	switch o {
	case opAdd:
		return x + y
	case opSub:
		return x - y
	case opMul:
		return x * y
	case opMax:
		return max(x, y)
	case opMin:
		return min(x, y)
	case opEq:
		if x == y {
			return 1
		}
		return 0
	}
	return x / y
}
