package ir

import (
	"fmt"
	"strings"
)

// Floating-point operation counts.
//
// The IR knows every op's shapes, so it can say how much arithmetic a step does: the
// yardstick against which a kernel's speed is the machine's floor rather than another
// framework's time. The count is split in two. Products (matmul and the dense layers
// built on it, convolutions and their gradients) count one multiply and one add per term,
// 2·m·n·k; they are what the FMA units bound. Everything else (elementwise ops, sums,
// gathers) counts one operation per element it produces or reduces; on this hardware those
// are bound by memory, not arithmetic, so a floor computed from them at FMA peak is an
// optimistic one. Movement (reshape, transpose, slice) and sources count nothing.

// Flops is the arithmetic of a function or a step.
type Flops struct {
	Products float64 // matmul, dense, convolutions: 2 per multiply-add
	Other    float64 // elementwise, reductions, gathers: 1 per element
}

// Total is Products + Other.
func (f Flops) Total() float64 { return f.Products + f.Other }

// Add returns f + g.
func (f Flops) Add(g Flops) Flops { return Flops{f.Products + g.Products, f.Other + g.Other} }

// Scale returns f·s.
func (f Flops) Scale(s float64) Flops { return Flops{f.Products * s, f.Other * s} }

// FuncFlops counts the arithmetic of one run of f with the symbolic dimensions bound by
// env (B, the batch, for a samples task). It fails naming the op and the dimension when a
// shape has a symbol env does not bind.
func FuncFlops(f *Func, env map[string]int) (Flops, error) {
	var sum Flops
	for _, op := range f.Ops {
		n, err := OpFlops(op, env)
		if err != nil {
			return Flops{}, fmt.Errorf("%s: %%%s = %s: %v", f.Name, op.Ref(), op.Kind, err)
		}
		sum = sum.Add(n)
	}
	return sum, nil
}

// OpFlops counts the arithmetic of one op; see Flops.
func OpFlops(op *Op, env map[string]int) (Flops, error) {
	shape := func(t Type) ([]int, error) { return t.Shape.Eval(env) }
	numel := func(t Type) (float64, error) {
		s, err := shape(t)
		if err != nil {
			return 0, err
		}
		n := 1.0
		for _, d := range s {
			n *= float64(d)
		}
		return n, nil
	}
	switch op.Kind {
	case "matmul", "dense", "matmul_act_grad":
		// op(a) is m×k; the result m×n.
		a, err := shape(op.Args[0].Type)
		if err != nil {
			return Flops{}, err
		}
		out, err := numel(op.Type)
		if err != nil {
			return Flops{}, err
		}
		k := a[len(a)-1]
		if op.Attrs.Bool("ta") {
			k = a[0]
		}
		p := 2 * out * float64(k)
		if op.Kind == "matmul" {
			return Flops{Products: p}, nil
		}
		return Flops{Products: p, Other: out}, nil // the bias or the activation's gradient
	case "conv2d", "conv2d_weight_grad":
		// conv2d: 2 per tap of every output element, C·kh·kw taps; the weight gradient has
		// the same terms, summed over the batch instead: 2·|dy|·C·kh·kw.
		x, err := shape(op.Args[0].Type)
		if err != nil {
			return Flops{}, err
		}
		var out float64
		var kk int
		if op.Kind == "conv2d" {
			w, err := shape(op.Args[1].Type)
			if err != nil {
				return Flops{}, err
			}
			if out, err = numel(op.Type); err != nil {
				return Flops{}, err
			}
			kk = w[2] * w[3]
		} else {
			if out, err = numel(op.Args[1].Type); err != nil {
				return Flops{}, err
			}
			k := op.Attrs.Ints("kernel")
			if len(k) != 2 {
				return Flops{}, fmt.Errorf("attribute kernel is %v, want [kh, kw]", op.Attrs["kernel"])
			}
			kk = k[0] * k[1]
		}
		if len(x) != 4 {
			return Flops{}, fmt.Errorf("input %v, want rank 4", x)
		}
		return Flops{Products: 2 * out * float64(x[1]*kk)}, nil
	case "conv_transpose2d":
		// The adjoint of the convolution from the result to x: 2 per tap of every element
		// of x, O·kh·kw taps (w is [C, O, kh, kw]).
		in, err := numel(op.Args[0].Type)
		if err != nil {
			return Flops{}, err
		}
		w, err := shape(op.Args[1].Type)
		if err != nil {
			return Flops{}, err
		}
		return Flops{Products: 2 * in * float64(w[1]*w[2]*w[3])}, nil
	case "fused_elementwise":
		// One per instruction per element: of the operands when it reduces them.
		t := op.Type
		if op.Attrs.String("reduce") != "" && len(op.Args) > 0 {
			t = op.Args[0].Type
		}
		n, err := numel(t)
		if err != nil {
			return Flops{}, err
		}
		instrs := strings.Count(op.Attrs.String("code"), ";") + 1
		return Flops{Other: n * float64(instrs)}, nil
	case "gather_segment_sum", "gather_segment_mean", "segment_sum", "segment_mean", "max_pool2d_grad", "upsample2d_grad":
		// One add per element gathered or scattered: the index operand's length times a
		// row of the result (segment ops), or the gradient's elements (the pool's).
		if strings.HasPrefix(op.Kind, "gather_segment") || strings.HasPrefix(op.Kind, "segment") {
			rows, err := numel(op.Args[1].Type)
			if err != nil {
				return Flops{}, err
			}
			s, err := shape(op.Type)
			if err != nil {
				return Flops{}, err
			}
			row := 1.0
			for _, d := range s[1:] {
				row *= float64(d)
			}
			return Flops{Other: rows * row}, nil
		}
		n, err := numel(op.Args[0].Type)
		return Flops{Other: n}, err
	}
	d, ok := Lookup(op.Kind)
	if !ok {
		return Flops{}, fmt.Errorf("unknown op")
	}
	switch d.Class {
	case Source, Movement:
		return Flops{}, nil
	case Reduce:
		if len(op.Args) == 0 {
			return Flops{}, nil
		}
		n, err := numel(op.Args[0].Type)
		return Flops{Other: n}, err
	}
	if op.Kind == "stop_gradient" || op.Kind == "count" || op.Kind == "broadcast_like" || op.Kind == "state" {
		return Flops{}, nil // no arithmetic: a value passed on, a shape read, a copy
	}
	n, err := numel(op.Type)
	return Flops{Other: n}, err
}

// PhaseFlops is the arithmetic of one optimiser step of a phase.
type PhaseFlops struct {
	Phase  string
	Repeat int // steps of this phase per batch
	Step   Flops
}

// TrainFlops counts the arithmetic of one batch of m's training: each phase's step
// function with B bound to batch (Repeat steps of each). The optimiser's update, a few
// operations per parameter, is not in the step functions and not counted.
func TrainFlops(m *Module, batch int) ([]PhaseFlops, error) {
	if m.Train == nil {
		return nil, fmt.Errorf("no train block")
	}
	env := map[string]int{"B": batch}
	var out []PhaseFlops
	for _, ph := range m.Train.Phases {
		f := m.Func(ph.Step)
		if f == nil {
			return nil, fmt.Errorf("phase %s: no function %s", ph.Name, ph.Step)
		}
		n, err := FuncFlops(f, env)
		if err != nil {
			return nil, fmt.Errorf("phase %s: %v", ph.Name, err)
		}
		out = append(out, PhaseFlops{Phase: ph.Name, Repeat: max(1, ph.Repeat), Step: n})
	}
	return out, nil
}
