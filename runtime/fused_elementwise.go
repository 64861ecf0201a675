package runtime

import (
	"fmt"
	"math"
	"sync"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/parallel"
)

// The kernel of fused_elementwise (ir/passes_fuse_elementwise.go): a chain of elementwise ops
// run as one loop. The elements are taken a block at a time; for each block every
// instruction of the program runs over the block with the loop its op's own kernel uses,
// reading operands and earlier results from block-sized registers that stay in L1, and the
// last instruction writes the block of the result. Blocks are whole multiples of the vector
// loops' width, and those loops compute each element the same way wherever it sits in the
// slice they are given (vecmath pads a ragged tail and runs the same vector code on it), so
// the fused result equals the unfused program's bit for bit. A reduction sums each block in
// float64, then the blocks' sums in order: the same number on every run, however the blocks
// were shared out, but summed in another order than the sum kernel's element by element, so
// within 1 ulp of the unfused result (reductionFusionULP). A large tensor's blocks are split
// over the worker pool.

func init() {
	register("fused_elementwise", fusedElementwiseKernel)
	overwriteKinds["fused_elementwise"], inPlaceKinds["fused_elementwise"] = true, true
}

const (
	// elemBlock is the elements of one block: every register of a program of ten
	// instructions fits in 20 KiB.
	elemBlock = 512
	// elemSplit is the smallest tensor whose blocks are split over the pool.
	elemSplit = 1 << 15
)

// elemInstr is one instruction ready to run: its loop and its operands (≥ 0: operand of
// the fused op, < 0: register of instruction -a-1).
type elemInstr struct {
	op    *ir.Op // the instruction as an op, for the loops that read attributes (alpha)
	unary func(dst, x []float32, op *ir.Op)
	pair  func(dst, a, b []float32, op *ir.Op)
	bin   binOp
	isBin bool
	args  []int
}

// elemProgram is a parsed code attribute.
type elemProgram struct {
	code  []elemInstr
	nargs int
}

// elemReduction is a reducing program's: 0 none, else sum or mean.
type elemReduction int

const (
	reduceNone elemReduction = iota
	reduceSum
	reduceMean
)

// binOps are the broadcasting binary ops by kind; in a fused program their operands are
// always blocks of equal length.
var binOps = map[string]binOp{"add": opAdd, "sub": opSub, "mul": opMul, "div": opDiv, "maximum": opMax, "minimum": opMin, "eq": opEq}

// elemPrograms caches parsed programs by code, so that a run parses nothing.
var elemPrograms sync.Map

func elemProgramOf(op *ir.Op, nargs int) (*elemProgram, error) {
	code := op.Attrs.String("code")
	if p, ok := elemPrograms.Load(code); ok && p.(*elemProgram).nargs == nargs {
		return p.(*elemProgram), nil
	}
	prog, err := ir.ParseElemCode(code, nargs)
	if err != nil {
		return nil, opErrorf(op, "%v", err)
	}
	p := &elemProgram{nargs: nargs}
	for _, in := range prog {
		e := elemInstr{op: &ir.Op{Kind: in.Kind, Attrs: in.Attrs, Pos: op.Pos}, args: in.Args}
		switch {
		case len(in.Args) == 1 && unaryLoops[in.Kind] != nil:
			e.unary = unaryLoops[in.Kind]
		case len(in.Args) == 2 && pairLoops[in.Kind] != nil:
			e.pair = pairLoops[in.Kind]
		default:
			b, ok := binOps[in.Kind]
			if !ok || len(in.Args) != 2 {
				return nil, opErrorf(op, "no fused loop for %s", in.Kind)
			}
			e.bin, e.isBin = b, true
		}
		p.code = append(p.code, e)
	}
	elemPrograms.Store(code, p)
	return p, nil
}

// elemRun is one kernel call's state, shared by the goroutines running its blocks; the
// pool keeps it with its bound body, so that a call allocates nothing.
type elemRun struct {
	prog *elemProgram
	args []*Tensor
	out  *Tensor
	dst  []float32 // the result's elements; nil when the program reduces
	n    int       // elements per operand
	red  elemReduction
	sums []float64 // a reducing program's sum of each block, kept with r by the pool
	body func(lo, hi int)
}

var elemRuns = sync.Pool{New: func() any {
	r := new(elemRun)
	r.body = func(lo, hi int) { r.blocks(lo, hi) }
	return r
}}

// elemRegs is one goroutine's registers: one block per instruction, and one per scalar
// operand (the scalar repeated).
type elemRegs struct{ regs []float32 }

var elemRegPool sync.Pool

func fusedElementwiseKernel(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
	r, err := startElem(c, op, args)
	if err != nil {
		return nil, err
	}
	r.run()
	return r.finish(c)
}

// startElem checks a fused op's operands and sets up its run, its result allocated unless
// the program reduces.
func startElem(c *Ctx, op *ir.Op, args []*Tensor) (*elemRun, error) {
	prog, err := elemProgramOf(op, len(args))
	if err != nil {
		return nil, err
	}
	var red elemReduction
	switch op.Attrs.String("reduce") {
	case "":
	case "sum":
		red = reduceSum
	case "mean":
		red = reduceMean
	default:
		return nil, opErrorf(op, "reduce %q: want sum or mean", op.Attrs.String("reduce"))
	}
	var shape []int
	for _, a := range args {
		if len(a.Shape) == 0 {
			continue
		}
		if shape != nil && !sameShape(shape, a.Shape) {
			return nil, opErrorf(op, "got operands %s and %s, want one shape (or scalars)", ShapeString(shape), ShapeString(a.Shape))
		}
		shape = a.Shape
	}
	r := elemRuns.Get().(*elemRun)
	r.prog, r.args, r.n, r.red = prog, args, NumElements(shape), red
	if red == reduceNone {
		r.out = c.alloc(shape)
		r.dst = r.out.Data
	} else {
		r.sums = resize64(r.sums, (r.n+elemBlock-1)/elemBlock)
	}
	return r, nil
}

// run runs every block, split over the pool when the tensor is large.
func (r *elemRun) run() {
	blocks := (r.n + elemBlock - 1) / elemBlock
	if r.n >= elemSplit {
		parallel.For(blocks, 4, r.body)
	} else {
		r.blocks(0, blocks)
	}
}

// finish returns the result (a reduction's is allocated here) and gives r back to the pool.
func (r *elemRun) finish(c *Ctx) (*Tensor, error) {
	out := r.out
	if r.red != reduceNone {
		// The blocks' sums in block order: the same number however the blocks were shared
		// out, within a rounding of the float64 sum of the sum kernel's element order.
		var sum float64
		for _, v := range r.sums {
			sum += v
		}
		out = c.alloc(nil)
		out.Data[0] = float32(sum)
		if r.red == reduceMean {
			out.Data[0] = float32(float64(out.Data[0]) * (1 / float64(r.n)))
		}
	}
	*r = elemRun{body: r.body, sums: r.sums[:0]}
	elemRuns.Put(r)
	return out, nil
}

// blocks runs the program over blocks [lo, hi).
func (r *elemRun) blocks(lo, hi int) {
	g := r.registers()
	for b := lo; b < hi; b++ {
		r.block(b, g)
	}
	elemRegPool.Put(g)
}

// registers returns a goroutine's registers for r's program, its scalar operands filled;
// the caller gives them back to elemRegPool.
func (r *elemRun) registers() *elemRegs {
	p := r.prog
	nregs := len(p.code) + len(r.args)
	g, _ := elemRegPool.Get().(*elemRegs)
	if g == nil {
		g = new(elemRegs)
	}
	if len(g.regs) < nregs*elemBlock {
		g.regs = make([]float32, nregs*elemBlock)
	}
	// A scalar operand is read as a block of its value, filled once.
	for i, a := range r.args {
		if len(a.Shape) == 0 {
			s := g.reg(len(p.code) + i)
			for j := range s {
				s[j] = a.Data[0]
			}
		}
	}
	return g
}

func (g *elemRegs) reg(i int) []float32 { return g.regs[i*elemBlock : (i+1)*elemBlock] }

// block runs the program over block b with the registers g.
func (r *elemRun) block(b int, g *elemRegs) {
	p := r.prog
	start := b * elemBlock
	m := min(elemBlock, r.n-start)
	operand := func(a int) []float32 {
		if a < 0 {
			return g.reg(-a - 1)[:m]
		}
		if t := r.args[a]; len(t.Shape) != 0 {
			return t.Data[start : start+m]
		}
		return g.reg(len(p.code) + a)[:m]
	}
	last := len(p.code) - 1
	for k := range p.code {
		in := &p.code[k]
		dst := g.reg(k)[:m]
		if k == last && r.dst != nil {
			dst = r.dst[start : start+m]
		}
		switch {
		case in.unary != nil:
			in.unary(dst, operand(in.args[0]), in.op)
		case in.pair != nil:
			in.pair(dst, operand(in.args[0]), operand(in.args[1]), in.op)
		default:
			in.bin.row(dst, operand(in.args[0]), operand(in.args[1]), 1, 1)
		}
	}
	if r.dst == nil {
		var sum float64
		for _, v := range g.reg(last)[:m] {
			sum += float64(v)
		}
		r.sums[b] = sum
	}
}

// checkElemFinite runs a fused program instruction by instruction over whole tensors, as
// the unfused ops would, and fails at the first instruction whose result holds a NaN or an
// infinity, naming that instruction's op and source line: what CheckFinite reports for a
// fused op. It is the slow path of a diagnostic run, so it allocates freely.
func checkElemFinite(op *ir.Op, args []*Tensor) error {
	prog, err := ir.ElemProgram(op)
	if err != nil {
		return opErrorf(op, "%v", err)
	}
	ep, err := elemProgramOf(op, len(args))
	if err != nil {
		return err
	}
	shape := []int{}
	for _, a := range args {
		if len(a.Shape) != 0 {
			shape = a.Shape
		}
	}
	n := NumElements(shape)
	vals := make([][]float32, len(ep.code))
	operand := func(a int) []float32 {
		if a < 0 {
			return vals[-a-1]
		}
		if t := args[a]; len(t.Shape) != 0 {
			return t.Data[:n]
		}
		s := make([]float32, n)
		for i := range s {
			s[i] = args[a].Data[0]
		}
		return s
	}
	for k := range ep.code {
		in := &ep.code[k]
		dst := make([]float32, n)
		switch {
		case in.unary != nil:
			in.unary(dst, operand(in.args[0]), in.op)
		case in.pair != nil:
			in.pair(dst, operand(in.args[0]), operand(in.args[1]), in.op)
		default:
			in.bin.row(dst, operand(in.args[0]), operand(in.args[1]), 1, 1)
		}
		for _, v := range dst {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return &OpError{Kind: prog[k].Kind, Pos: prog[k].Pos, Msg: fmt.Sprintf("result %s holds %v", ShapeString(shape), v)}
			}
		}
		vals[k] = dst
	}
	return nil
}

// fusedElementwisePair runs two fused programs that Compile paired (pairs.go) as one loop
// when they cover the same number of elements: block by block, a's program then b's, so
// that operands they share are read from memory once; the blocks are split over the pool
// as one program's are. Otherwise it runs them one after the other. ca and cb carry each
// op's planned buffer.
func fusedElementwisePair(ca, cb *Ctx, a, b *ir.Op, argsA, argsB []*Tensor) (outA, outB *Tensor, errA, errB error) {
	ra, errA := startElem(ca, a, argsA)
	if errA != nil {
		return nil, nil, errA, nil
	}
	rb, errB := startElem(cb, b, argsB)
	if errB != nil {
		outA, errA = ra.finish(ca)
		return outA, nil, errA, errB
	}
	if ra.n != rb.n {
		ra.run()
		rb.run()
	} else {
		j := elemPairs.Get().(*elemPair)
		j.a, j.b = ra, rb
		if blocks := (ra.n + elemBlock - 1) / elemBlock; ra.n >= elemSplit {
			parallel.For(blocks, 4, j.body)
		} else {
			j.body(0, blocks)
		}
		j.a, j.b = nil, nil
		elemPairs.Put(j)
	}
	outA, errA = ra.finish(ca)
	outB, errB = rb.finish(cb)
	return outA, outB, errA, errB
}

// elemPair is a joint run of two programs, its body bound once (see elemRun).
type elemPair struct {
	a, b *elemRun
	body func(lo, hi int)
}

var elemPairs = sync.Pool{New: func() any {
	j := new(elemPair)
	j.body = func(lo, hi int) {
		ga, gb := j.a.registers(), j.b.registers()
		for k := lo; k < hi; k++ {
			j.a.block(k, ga)
			j.b.block(k, gb)
		}
		elemRegPool.Put(ga)
		elemRegPool.Put(gb)
	}
	return j
}}

// resize64 returns s with length n, reusing its array when it is long enough.
func resize64(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}
