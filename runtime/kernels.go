package runtime

import (
	"fmt"

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
}

// alloc returns a zeroed result tensor of the given shape, which it copies.
func (c *Ctx) alloc(shape []int) *Tensor {
	return &Tensor{Shape: append([]int{}, shape...), Data: make([]float32, numElements(shape))}
}

// kernels maps every non-source op kind of the ir op table to its kernel. Source ops
// (input, param, const) are supplied by the executor.
var kernels = map[string]Kernel{
	"add": binaryKernel(opAdd),
	"sub": binaryKernel(opSub),
	"mul": binaryKernel(opMul),
	"div": binaryKernel(opDiv),

	"neg":        unaryKernel(negLoop),
	"exp":        unaryKernel(expLoop),
	"log":        unaryKernel(logLoop),
	"sqrt":       unaryKernel(sqrtLoop),
	"square":     unaryKernel(squareLoop),
	"abs":        unaryKernel(absLoop),
	"sign":       unaryKernel(signLoop),
	"relu":       unaryKernel(reluLoop),
	"leaky_relu": unaryKernel(leakyReluLoop),
	"sigmoid":    unaryKernel(sigmoidLoop),
	"tanh":       unaryKernel(tanhLoop),

	"relu_grad":       pairKernel(reluGradLoop),
	"leaky_relu_grad": pairKernel(leakyReluGradLoop),
	"sigmoid_grad":    pairKernel(sigmoidGradLoop),
	"tanh_grad":       pairKernel(tanhGradLoop),
	"bce":             pairKernel(bceLoop),
	"bce_grad":        pairKernel(bceGradLoop),
	"bce_logits":      pairKernel(bceLogitsLoop),

	"sum":            sumKernel,
	"mean":           meanKernel,
	"count":          countKernel,
	"sum_to":         sumToKernel,
	"broadcast_like": broadcastLikeKernel,

	"matmul": matmulKernel,

	"reshape":   reshapeKernel,
	"transpose": transposeKernel,
	"concat":    concatKernel,
	"slice":     sliceKernel,
	"unslice":   unsliceKernel,

	"softmax":     softmaxKernel(false),
	"log_softmax": softmaxKernel(true),
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

func isSource(kind string) bool { return kind == "input" || kind == "param" || kind == "const" }

// opErrorf returns "runtime: KIND at FILE:LINE:COL: MSG", leaving out the position when op
// has none.
func opErrorf(op *ir.Op, format string, args ...any) error {
	where := op.Kind
	if op.Pos.IsValid() {
		where += " at " + op.Pos.String()
	}
	return fmt.Errorf("runtime: %s: %s", where, fmt.Sprintf(format, args...))
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
	return numElements(shape[:axis]), shape[axis], numElements(shape[axis+1:])
}
