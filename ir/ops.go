package ir

import (
	"fmt"
	"sort"
)

// Class groups ops for the passes: fusion looks at classes, not at op names.
type Class int

const (
	Source      Class = iota // input, param, const: no operands
	Elementwise              // one output element per input element (with broadcasting)
	Reduce                   // sums and means over axes
	Contract                 // matmul
	Movement                 // reshape, transpose, concat, slice: data moves, values do not change
	Fused                    // produced by the fusion pass
)

func (c Class) String() string {
	return [...]string{"source", "elementwise", "reduce", "contract", "movement", "fused"}[c]
}

// GradFunc appends to b the gradient of op's scalar-valued consumer with respect to each of
// op's operands, given dy, the gradient with respect to op's value. need[i] says whether
// operand i wants one; a rule may return nil for operands that do not.
type GradFunc func(b *Builder, op, dy *Op, need []bool) []*Op

// OpDef is the single definition of an op kind.
type OpDef struct {
	Kind  string
	Arity int // number of operands; -1 for one or more
	Class Class
	// Shape returns the result shape from the operand types and attributes.
	Shape func(args []Type, a Attrs) (Shape, error)
	// Grad is the reverse-mode rule. Nil together with NoGrad means the op passes no
	// gradient (sources, the gradient helpers themselves, shape queries); nil without NoGrad
	// is a hole the tests catch.
	Grad   GradFunc
	NoGrad bool
	// Attrs lists the attributes the op requires, for the verifier and reader.
	Attrs []string
}

var opTable = map[string]*OpDef{}

func def(d *OpDef) { opTable[d.Kind] = d }

// Lookup returns the definition of kind.
func Lookup(kind string) (*OpDef, bool) {
	d, ok := opTable[kind]
	return d, ok
}

// Kinds returns every op kind, sorted.
func Kinds() []string {
	ks := make([]string, 0, len(opTable))
	for k := range opTable {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TypeOf checks arity and attributes and returns the result type of applying d.
func (d *OpDef) TypeOf(args []*Op, a Attrs) (Type, error) {
	if d.Arity >= 0 && len(args) != d.Arity {
		return Type{}, fmt.Errorf("got %d operands, want %d", len(args), d.Arity)
	}
	if d.Arity < 0 && len(args) == 0 {
		return Type{}, fmt.Errorf("got no operands, want at least one")
	}
	for _, k := range d.Attrs {
		if _, ok := a[k]; !ok {
			return Type{}, fmt.Errorf("missing attribute %s", k)
		}
	}
	ts := make([]Type, len(args))
	for i, x := range args {
		if x == nil {
			return Type{}, fmt.Errorf("operand %d is missing", i)
		}
		ts[i] = x.Type
	}
	s, err := d.Shape(ts, a)
	if err != nil {
		return Type{}, err
	}
	return F32(s), nil
}

// Shape rules shared by many ops.

func sameAsFirst(args []Type, _ Attrs) (Shape, error) { return args[0].Shape, nil }

func broadcastAll(args []Type, _ Attrs) (Shape, error) {
	s := args[0].Shape
	for _, t := range args[1:] {
		var err error
		if s, err = Broadcast(s, t.Shape); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func sameShapes(args []Type, _ Attrs) (Shape, error) {
	for _, t := range args[1:] {
		if !t.Shape.Equal(args[0].Shape) {
			return nil, fmt.Errorf("got shapes %v and %v, want equal", args[0].Shape, t.Shape)
		}
	}
	return args[0].Shape, nil
}

func scalar(args []Type, _ Attrs) (Shape, error) { return Shape{}, nil }

// fromAttr is the shape rule of input and param, whose type is given, not derived: the
// Builder and the reader set it directly, so the rule only answers for the attribute form.
func fromAttr(args []Type, a Attrs) (Shape, error) {
	if s, ok := a["shape"].(Shape); ok {
		return s, nil
	}
	return nil, fmt.Errorf("source ops carry their type; build them with Builder.Input or Builder.Param")
}

// unbroadcast reduces a gradient g computed at the broadcast shape back to x's shape.
func unbroadcast(b *Builder, g, x *Op) *Op {
	if g.Type.Shape.Equal(x.Type.Shape) {
		return g
	}
	return b.Op("sum_to", nil, g, x)
}

func init() {
	for _, k := range []string{"input", "param", "const"} {
		def(&OpDef{Kind: k, Arity: 0, Class: Source, Shape: fromAttr, NoGrad: true})
	}
	opTable["input"].Attrs = []string{"name"}
	opTable["param"].Attrs = []string{"name", "init"}
	opTable["const"].Attrs = []string{"value"}
	opTable["const"].Shape = scalar

	// Elementwise binary ops with broadcasting.
	def(&OpDef{Kind: "add", Arity: 2, Class: Elementwise, Shape: broadcastAll,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			g := make([]*Op, 2)
			for i, x := range op.Args {
				if need[i] {
					g[i] = unbroadcast(b, dy, x)
				}
			}
			return g
		}})
	def(&OpDef{Kind: "sub", Arity: 2, Class: Elementwise, Shape: broadcastAll,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			var gb *Op
			if need[1] {
				gb = unbroadcast(b, b.Op("neg", nil, dy), op.Args[1])
			}
			var ga *Op
			if need[0] {
				ga = unbroadcast(b, dy, op.Args[0])
			}
			return []*Op{ga, gb}
		}})
	def(&OpDef{Kind: "mul", Arity: 2, Class: Elementwise, Shape: broadcastAll,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			g := make([]*Op, 2)
			if need[0] {
				g[0] = unbroadcast(b, b.Op("mul", nil, dy, op.Args[1]), op.Args[0])
			}
			if need[1] {
				g[1] = unbroadcast(b, b.Op("mul", nil, dy, op.Args[0]), op.Args[1])
			}
			return g
		}})
	def(&OpDef{Kind: "div", Arity: 2, Class: Elementwise, Shape: broadcastAll,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			g := make([]*Op, 2)
			x, y := op.Args[0], op.Args[1]
			if need[0] {
				g[0] = unbroadcast(b, b.Op("div", nil, dy, y), x)
			}
			if need[1] { // d(x/y)/dy = -(x/y)/y
				g[1] = unbroadcast(b, b.Op("neg", nil, b.Op("div", nil, b.Op("mul", nil, dy, op), y)), y)
			}
			return g
		}})

	// Elementwise unary ops.
	def(&OpDef{Kind: "neg", Arity: 1, Class: Elementwise, Shape: sameAsFirst,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op { return []*Op{b.Op("neg", nil, dy)} }})
	def(&OpDef{Kind: "exp", Arity: 1, Class: Elementwise, Shape: sameAsFirst,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op { return []*Op{b.Op("mul", nil, dy, op)} }})
	def(&OpDef{Kind: "log", Arity: 1, Class: Elementwise, Shape: sameAsFirst,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			return []*Op{b.Op("div", nil, dy, op.Args[0])}
		}})
	def(&OpDef{Kind: "sqrt", Arity: 1, Class: Elementwise, Shape: sameAsFirst,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op { // dy / (2 sqrt x)
			return []*Op{b.Op("div", nil, dy, b.Op("mul", nil, op, b.Const(2)))}
		}})
	def(&OpDef{Kind: "square", Arity: 1, Class: Elementwise, Shape: sameAsFirst,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			return []*Op{b.Op("mul", nil, dy, b.Op("mul", nil, op.Args[0], b.Const(2)))}
		}})
	def(&OpDef{Kind: "abs", Arity: 1, Class: Elementwise, Shape: sameAsFirst,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			return []*Op{b.Op("mul", nil, dy, b.Op("sign", nil, op.Args[0]))}
		}})
	// sign is piecewise constant: its gradient is zero wherever it exists.
	def(&OpDef{Kind: "sign", Arity: 1, Class: Elementwise, Shape: sameAsFirst, NoGrad: true})

	// Activations. Their gradients are written in terms of the output y, so that the forward
	// pre-activation need not be kept and dense+bias+activation can fuse.
	def(&OpDef{Kind: "relu", Arity: 1, Class: Elementwise, Shape: sameAsFirst,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op { return []*Op{b.Op("relu_grad", nil, dy, op)} }})
	def(&OpDef{Kind: "leaky_relu", Arity: 1, Class: Elementwise, Shape: sameAsFirst, Attrs: []string{"alpha"},
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			return []*Op{b.Op("leaky_relu_grad", Attrs{"alpha": op.Attrs.Float("alpha", 0.01)}, dy, op)}
		}})
	def(&OpDef{Kind: "sigmoid", Arity: 1, Class: Elementwise, Shape: sameAsFirst,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op { return []*Op{b.Op("sigmoid_grad", nil, dy, op)} }})
	def(&OpDef{Kind: "tanh", Arity: 1, Class: Elementwise, Shape: sameAsFirst,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op { return []*Op{b.Op("tanh_grad", nil, dy, op)} }})
	// The gradient helpers take (dy, y) and are not themselves differentiated: dlc computes
	// first derivatives only.
	for _, k := range []string{"relu_grad", "sigmoid_grad", "tanh_grad"} {
		def(&OpDef{Kind: k, Arity: 2, Class: Elementwise, Shape: sameShapes, NoGrad: true})
	}
	def(&OpDef{Kind: "leaky_relu_grad", Arity: 2, Class: Elementwise, Shape: sameShapes, NoGrad: true, Attrs: []string{"alpha"}})

	// Elementwise losses; the language's bce(p, t) is mean(bce(p, t)).
	// bce(p, t) = -(t log p + (1-t) log(1-p)), with each log clamped at -100 as PyTorch does.
	def(&OpDef{Kind: "bce", Arity: 2, Class: Elementwise, Shape: sameShapes,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			g := make([]*Op, 2)
			p, t := op.Args[0], op.Args[1]
			if need[0] {
				g[0] = b.Op("mul", nil, dy, b.Op("bce_grad", nil, p, t))
			}
			if need[1] { // d/dt = log(1-p) - log(p) = -logit(p)
				g[1] = b.Op("mul", nil, dy, b.Op("sub", nil, b.Op("log", nil, b.Op("sub", nil, b.Const(1), p)), b.Op("log", nil, p)))
			}
			return g
		}})
	// bce_grad(p, t) = (p - t) / max(p (1 - p), 1e-12): d bce / d p.
	def(&OpDef{Kind: "bce_grad", Arity: 2, Class: Elementwise, Shape: sameShapes, NoGrad: true})
	// bce_logits(z, t) = max(z, 0) - z t + log(1 + exp(-|z|)) = bce(sigmoid(z), t), stably.
	def(&OpDef{Kind: "bce_logits", Arity: 2, Class: Elementwise, Shape: sameShapes,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			g := make([]*Op, 2)
			z, t := op.Args[0], op.Args[1]
			if need[0] {
				g[0] = b.Op("mul", nil, dy, b.Op("sub", nil, b.Op("sigmoid", nil, z), t))
			}
			if need[1] {
				g[1] = b.Op("neg", nil, b.Op("mul", nil, dy, z))
			}
			return g
		}})

	// Reductions. axes=[] means every axis.
	reduceShape := func(args []Type, a Attrs) (Shape, error) {
		axes, err := ReduceAxes(a.Ints("axes"), len(args[0].Shape))
		if err != nil {
			return nil, err
		}
		return ReducedShape(args[0].Shape, axes, a.Bool("keepdims")), nil
	}
	def(&OpDef{Kind: "sum", Arity: 1, Class: Reduce, Shape: reduceShape,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			return []*Op{b.Op("broadcast_like", Attrs{"axes": op.Attrs.Ints("axes"), "keepdims": op.Attrs.Bool("keepdims")}, dy, op.Args[0])}
		}})
	def(&OpDef{Kind: "mean", Arity: 1, Class: Reduce, Shape: reduceShape,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			x := op.Args[0]
			n := b.Op("count", Attrs{"axes": op.Attrs.Ints("axes")}, x)
			return []*Op{b.Op("div", nil, b.Op("broadcast_like", Attrs{"axes": op.Attrs.Ints("axes"), "keepdims": op.Attrs.Bool("keepdims")}, dy, x), n)}
		}})
	// count(x) is the number of elements a reduction over axes sums: a scalar known only at
	// run time when x has symbolic dimensions.
	def(&OpDef{Kind: "count", Arity: 1, Class: Reduce, Shape: scalar, NoGrad: true})
	// sum_to(x, like) sums x over the dimensions that broadcasting added to like's shape.
	def(&OpDef{Kind: "sum_to", Arity: 2, Class: Reduce,
		Shape: func(args []Type, a Attrs) (Shape, error) {
			if s, err := Broadcast(args[0].Shape, args[1].Shape); err != nil || !s.Equal(args[0].Shape) {
				return nil, fmt.Errorf("cannot sum %v to %v", args[0].Shape, args[1].Shape)
			}
			return args[1].Shape, nil
		},
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			return []*Op{b.Op("broadcast_like", nil, dy, op.Args[0]), nil}
		}})
	// broadcast_like(x, like) re-inserts the reduced axes (when keepdims is false) and
	// broadcasts x to like's shape: the adjoint of sum.
	def(&OpDef{Kind: "broadcast_like", Arity: 2, Class: Movement,
		Shape: func(args []Type, a Attrs) (Shape, error) {
			x, like := args[0].Shape, args[1].Shape
			if axes := a.Ints("axes"); !a.Bool("keepdims") && len(axes) > 0 && len(like) != len(x) {
				ax, err := ReduceAxes(axes, len(like))
				if err != nil {
					return nil, err
				}
				x = expandAxes(x, ax, len(like))
			}
			if s, err := Broadcast(x, like); err != nil || !s.Equal(like) {
				return nil, fmt.Errorf("cannot broadcast %v to %v", args[0].Shape, like)
			}
			return like, nil
		},
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			x := op.Args[0]
			if !op.Attrs.Bool("keepdims") && len(op.Attrs.Ints("axes")) > 0 && len(x.Type.Shape) != len(op.Type.Shape) {
				return []*Op{b.Op("sum", Attrs{"axes": op.Attrs.Ints("axes")}, dy), nil}
			}
			return []*Op{unbroadcast(b, dy, x), nil}
		}})

	// matmul(a, b) of rank-2 operands, optionally transposed: op(a)·op(b).
	def(&OpDef{Kind: "matmul", Arity: 2, Class: Contract, Shape: matmulShape,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			x, w := op.Args[0], op.Args[1]
			ta, tb := op.Attrs.Bool("ta"), op.Attrs.Bool("tb")
			g := make([]*Op, 2)
			if need[0] {
				if !ta {
					g[0] = b.Op("matmul", Attrs{"tb": !tb}, dy, w)
				} else {
					g[0] = b.Op("matmul", Attrs{"ta": tb, "tb": true}, w, dy)
				}
			}
			if need[1] {
				if !tb {
					g[1] = b.Op("matmul", Attrs{"ta": !ta}, x, dy)
				} else {
					g[1] = b.Op("matmul", Attrs{"ta": true, "tb": ta}, dy, x)
				}
			}
			return g
		}})

	// Movement.
	def(&OpDef{Kind: "reshape", Arity: 1, Class: Movement, Attrs: []string{"shape"},
		Shape: func(args []Type, a Attrs) (Shape, error) {
			to := a.Shape("shape")
			if !to.NumElements().Equal(args[0].Shape.NumElements()) {
				return nil, fmt.Errorf("cannot reshape %v (%v elements) to %v (%v elements)",
					args[0].Shape, args[0].Shape.NumElements(), to, to.NumElements())
			}
			return to, nil
		},
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			return []*Op{b.Op("reshape", Attrs{"shape": op.Args[0].Type.Shape}, dy)}
		}})
	def(&OpDef{Kind: "transpose", Arity: 1, Class: Movement, Attrs: []string{"perm"},
		Shape: func(args []Type, a Attrs) (Shape, error) {
			perm, s := a.Ints("perm"), args[0].Shape
			if !IsPerm(perm, len(s)) {
				return nil, fmt.Errorf("perm %v is not a permutation of %d axes", perm, len(s))
			}
			out := make(Shape, len(s))
			for i, p := range perm {
				out[i] = s[p]
			}
			return out, nil
		},
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			perm := op.Attrs.Ints("perm")
			inv := make([]int, len(perm))
			for i, p := range perm {
				inv[p] = i
			}
			return []*Op{b.Op("transpose", Attrs{"perm": inv}, dy)}
		}})
	def(&OpDef{Kind: "concat", Arity: -1, Class: Movement, Attrs: []string{"axis"}, Shape: concatShape,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			axis, _ := NormAxis(op.Attrs.Int("axis", 0), len(op.Type.Shape))
			g := make([]*Op, len(op.Args))
			start := Const(0)
			for i, x := range op.Args {
				end := addDims(start, x.Type.Shape[axis])
				if need[i] {
					g[i] = b.Op("slice", Attrs{"axis": axis, "start": start.Coef, "end": end.Coef}, dy)
				}
				start = end
			}
			return g
		}})
	// slice(x){axis, start, end} keeps indices [start, end) of a constant-length axis.
	def(&OpDef{Kind: "slice", Arity: 1, Class: Movement, Attrs: []string{"axis", "start", "end"},
		Shape: func(args []Type, a Attrs) (Shape, error) {
			s := args[0].Shape
			axis, err := NormAxis(a.Int("axis", 0), len(s))
			if err != nil {
				return nil, err
			}
			if !s[axis].IsConst() {
				return nil, fmt.Errorf("cannot slice symbolic axis %v", s[axis])
			}
			lo, hi := a.Int("start", 0), a.Int("end", 0)
			if lo < 0 || hi > s[axis].Coef || lo >= hi {
				return nil, fmt.Errorf("slice [%d:%d] out of range for axis of length %d", lo, hi, s[axis].Coef)
			}
			out := append(Shape{}, s...)
			out[axis] = Const(hi - lo)
			return out, nil
		},
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			return []*Op{b.Op("unslice", op.Attrs.Clone(), dy, op.Args[0])}
		}})
	// unslice(dy, like){axis, start, end}: zeros shaped like `like` with dy at [start, end).
	def(&OpDef{Kind: "unslice", Arity: 2, Class: Movement, Attrs: []string{"axis", "start", "end"},
		Shape: func(args []Type, a Attrs) (Shape, error) {
			like := args[1].Shape
			want, err := opTable["slice"].Shape(args[1:], a)
			if err != nil {
				return nil, err
			}
			if !want.Equal(args[0].Shape) {
				return nil, fmt.Errorf("got %v, want %v to place in %v", args[0].Shape, want, like)
			}
			return like, nil
		},
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			return []*Op{b.Op("slice", op.Attrs.Clone(), dy), nil}
		}})

	// Comparisons, for metrics: they pass no gradient.
	// argmax(x){axis} is the index of the largest element along axis (the first on ties), as
	// an f32; the axis is removed.
	def(&OpDef{Kind: "argmax", Arity: 1, Class: Reduce, Attrs: []string{"axis"}, NoGrad: true,
		Shape: func(args []Type, a Attrs) (Shape, error) {
			axis, err := NormAxis(a.Int("axis", -1), len(args[0].Shape))
			if err != nil {
				return nil, err
			}
			return ReducedShape(args[0].Shape, []int{axis}, false), nil
		}})
	// eq(a, b) is 1 where a == b and 0 elsewhere, with broadcasting.
	def(&OpDef{Kind: "eq", Arity: 2, Class: Elementwise, Shape: broadcastAll, NoGrad: true})

	// Softmax family, over one axis.
	def(&OpDef{Kind: "softmax", Arity: 1, Class: Reduce, Attrs: []string{"axis"}, Shape: axisChecked,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op { // y (dy - sum(dy y))
			s := b.Op("sum", Attrs{"axes": []int{op.Attrs.Int("axis", -1)}, "keepdims": true}, b.Op("mul", nil, dy, op))
			return []*Op{b.Op("mul", nil, op, b.Op("sub", nil, dy, s))}
		}})
	def(&OpDef{Kind: "log_softmax", Arity: 1, Class: Reduce, Attrs: []string{"axis"}, Shape: axisChecked,
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op { // dy - exp(y) sum(dy)
			s := b.Op("sum", Attrs{"axes": []int{op.Attrs.Int("axis", -1)}, "keepdims": true}, dy)
			return []*Op{b.Op("sub", nil, dy, b.Op("mul", nil, b.Op("exp", nil, op), s))}
		}})
}

func axisChecked(args []Type, a Attrs) (Shape, error) {
	if _, err := NormAxis(a.Int("axis", -1), len(args[0].Shape)); err != nil {
		return nil, err
	}
	return args[0].Shape, nil
}

func matmulShape(args []Type, a Attrs) (Shape, error) {
	x, w := args[0].Shape, args[1].Shape
	if len(x) != 2 || len(w) != 2 {
		return nil, fmt.Errorf("got operands %v and %v, want rank 2", x, w)
	}
	m, k := x[0], x[1]
	if a.Bool("ta") {
		m, k = k, m
	}
	k2, n := w[0], w[1]
	if a.Bool("tb") {
		k2, n = n, k2
	}
	if !k.Equal(k2) {
		return nil, fmt.Errorf("inner dimensions differ: %v and %v", k, k2)
	}
	return Shape{m, n}, nil
}

func concatShape(args []Type, a Attrs) (Shape, error) {
	first := args[0].Shape
	axis, err := NormAxis(a.Int("axis", 0), len(first))
	if err != nil {
		return nil, err
	}
	out := append(Shape{}, first...)
	for _, t := range args[1:] {
		s := t.Shape
		if len(s) != len(first) {
			return nil, fmt.Errorf("got ranks %d and %d, want equal", len(first), len(s))
		}
		for i := range s {
			if i != axis && !s[i].Equal(first[i]) {
				return nil, fmt.Errorf("got %v and %v, want equal except on axis %d", first, s, axis)
			}
		}
		if !s[axis].IsConst() || !out[axis].IsConst() {
			return nil, fmt.Errorf("cannot concatenate along symbolic axis of %v and %v", first, s)
		}
		out[axis] = addDims(out[axis], s[axis])
	}
	return out, nil
}

func addDims(a, b Dim) Dim { return Const(a.Coef + b.Coef) }

// expandAxes inserts size-1 dimensions into s at the given (normalised) axes of a rank-n shape.
func expandAxes(s Shape, axes []int, n int) Shape {
	red := map[int]bool{}
	for _, a := range axes {
		red[a] = true
	}
	out := make(Shape, 0, n)
	j := 0
	for i := 0; i < n; i++ {
		if red[i] || j >= len(s) {
			out = append(out, Const(1))
			continue
		}
		out = append(out, s[j])
		j++
	}
	return out
}
