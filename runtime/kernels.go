package runtime

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlc-lang/dlc/ir"
)

// Kernel computes the value of op from its operands' tensors. It returns a new tensor (or a
// view of an operand, see the package doc) and never writes its operands. A kernel checks
// the shapes it relies on and returns an error, never panics, when they do not fit.
type Kernel func(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error)

// Ctx is what a kernel may consult besides its operands: the bindings of the symbolic
// dimensions for the current run. It is also the one place kernels get result storage
// from, so that buffer reuse can be added without touching them.
type Ctx struct {
	Env map[string]int // symbol → size, bound from the inputs of the run
	// Seed and Run key the generators of the draw ops: the run's seed, and the number of
	// this program's current run (counting from 1), so that every run draws afresh.
	Seed uint64
	Run  uint64

	// next is the buffer the executor planned for the current op's result (nil when there
	// is none), and zero says whether the kernel needs it zeroed (see plan.go).
	next *Tensor
	zero bool
	// hdr is the header a view kernel's result goes in, kept by its step from run to run
	// (nil outside a program: view makes one).
	hdr *Tensor
	// pcg and rng are the draw ops' generator, reseeded by each (kernels_random.go).
	pcg *rand.PCG
	rng *rand.Rand
	// graph holds the graph kernels' segment indexes and scratch (kernels_graph.go), made
	// at their first use and kept from run to run.
	graph *graphState
}

// view returns a tensor sharing x's storage, for a view kernel to set the shape of: the
// step's kept header, so that a view allocates nothing in steady state.
func (c *Ctx) view(x *Tensor) *Tensor {
	t := c.hdr
	if t == nil {
		t = &Tensor{}
	}
	c.hdr = nil
	t.Data, t.Ints = x.Data, x.Ints
	t.Shape = t.Shape[:0]
	return t
}

// alloc returns a result tensor of the given shape, which it copies: the op's planned
// buffer when there is one, else a new one. Its elements are zero unless the op's kind is
// in overwriteKinds, whose kernels write every element. Only a kernel's first alloc gets the
// planned buffer; a second one gets new storage, so that two results never share it.
func (c *Ctx) alloc(shape []int) *Tensor {
	n := NumElements(shape)
	t := c.next
	if t == nil {
		return &Tensor{Shape: append([]int{}, shape...), Data: make([]float32, n)}
	}
	c.next = nil
	if cap(t.Data) < n {
		t.Data = make([]float32, n)
	} else {
		t.Data = t.Data[:n]
		if c.zero {
			clear(t.Data)
		}
	}
	t.Shape = append(t.Shape[:0], shape...)
	return t
}

// kernels maps every non-source op kind of the ir op table to its kernel. Source ops
// (input, param, const) are supplied by the executor. Each kernel file registers its own
// kernels in an init function, under the op's kind, so that an op's execution is one
// entry beside its loop; a test fails when an op of the table has none.
var kernels = map[string]Kernel{}

// Loops of the elementwise ops, by kind: the fused kernels apply an activation (unary) or
// its gradient helper (pair) found here through the op table's Activation mark.
var (
	unaryLoops = map[string]func(dst, x []float32, op *ir.Op){}
	pairLoops  = map[string]func(dst, a, b []float32, op *ir.Op){}
)

// register installs the kernel of kind. It panics when kind is not an op of the ir table
// or already has a kernel: both are programming errors caught the moment the package loads.
func register(kind string, k Kernel) {
	if _, ok := ir.Lookup(kind); !ok {
		panic("runtime: kernel for unknown op " + kind)
	}
	if _, dup := kernels[kind]; dup {
		panic("runtime: two kernels for op " + kind)
	}
	kernels[kind] = k
}

// registerUnary installs the elementwise kernel dst[i] = f(x[i]) of kind.
func registerUnary(kind string, loop func(dst, x []float32, op *ir.Op)) {
	register(kind, unaryKernel(loop))
	unaryLoops[kind] = loop
	overwriteKinds[kind], inPlaceKinds[kind] = true, true
}

// registerPair installs the elementwise kernel dst[i] = f(a[i], b[i]) of kind, over operands
// of equal shape.
func registerPair(kind string, loop func(dst, a, b []float32, op *ir.Op)) {
	register(kind, pairKernel(loop))
	pairLoops[kind] = loop
	overwriteKinds[kind], inPlaceKinds[kind] = true, true
}

// HasKernel reports whether the runtime can execute ops of the given kind: a kernel, or a
// source op the executor supplies.
func HasKernel(kind string) bool {
	if isSource(kind) {
		return true
	}
	_, ok := kernels[kind]
	return ok
}

func isSource(kind string) bool {
	return kind == "input" || kind == "param" || kind == "state" || kind == "const"
}

// OpError is a failure of one op at run time: a kernel that cannot compute it, a result of
// the wrong shape, a value that is not finite. It carries the op's kind and the .dl position
// it was lowered from, so that the command line can show the source line with a caret, as
// it does for compile errors.
type OpError struct {
	Kind string
	Pos  ir.Pos // the zero Pos when the op has none
	Msg  string
}

// Error returns "runtime: KIND at FILE:LINE:COL: MSG", leaving out the position when there
// is none.
func (e *OpError) Error() string {
	where := e.Kind
	if e.Pos.IsValid() {
		where += " at " + e.Pos.String()
	}
	return "runtime: " + where + ": " + e.Msg
}

// SourcePos is the .dl position of the op, the zero Pos when it has none. With Fault it is
// what a command needs to show the error at its line, found by errors.As as an interface,
// without naming this type.
func (e *OpError) SourcePos() ir.Pos { return e.Pos }

// Fault is the error without its position: "KIND: MSG".
func (e *OpError) Fault() string { return e.Kind + ": " + e.Msg }

// opErrorf returns an *OpError for op.
func opErrorf(op *ir.Op, format string, args ...any) error {
	return &OpError{Kind: op.Kind, Pos: op.Pos, Msg: fmt.Sprintf(format, args...)}
}

// axisAttr returns op's attribute k normalised against rank.
func axisAttr(op *ir.Op, k string, def, rank int) (int, error) {
	a, err := ir.NormAxis(op.Attrs.Int(k, def), rank)
	if err != nil {
		return 0, opErrorf(op, "%v", err)
	}
	return a, nil
}

// splitAt returns the products of the dimensions before, at and after axis.
func splitAt(shape []int, axis int) (outer, n, inner int) {
	return NumElements(shape[:axis]), shape[axis], NumElements(shape[axis+1:])
}
