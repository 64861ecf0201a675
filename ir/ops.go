package ir

import "fmt"

// Builtin parameter shorthands for the op table.
func tensorParam(name string) BuiltinParam { return BuiltinParam{Name: name, Tensor: true} }
func attrParam(name string, t AttrType, def any) BuiltinParam {
	return BuiltinParam{Name: name, Type: t, Default: def}
}
func builtin(name, shapes string, params ...BuiltinParam) *Builtin {
	return &Builtin{Name: name, Params: params, Shapes: shapes}
}

var (
	transposeFlags = []AttrDef{{Name: "ta", Type: AttrBool, Optional: true}, {Name: "tb", Type: AttrBool, Optional: true}}
	unaryX         = []BuiltinParam{tensorParam("x")}
	binaryX        = []BuiltinParam{tensorParam("a"), tensorParam("b")}
)

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
	str := func(n string) AttrDef { return AttrDef{Name: n, Type: AttrString} }
	def(&OpDef{Kind: "input", Arity: 0, Class: Source, Shape: fromAttr, NoGrad: true, Attrs: []AttrDef{str("name")},
		IROnly: "a block's tensor parameter", Doc: "a function argument"})
	def(&OpDef{Kind: "param", Arity: 0, Class: Source, Shape: fromAttr, NoGrad: true, Attrs: []AttrDef{str("name"), str("init")},
		IROnly: "written `w = param(shape, init: …)` (section 6)", Doc: "a trained parameter"})
	def(&OpDef{Kind: "const", Arity: 0, Class: Source, Shape: scalar, NoGrad: true, Attrs: []AttrDef{{Name: "value", Type: AttrFloat}},
		IROnly: "a number in a tensor expression", Doc: "an f32 scalar"})

	// Elementwise binary ops with broadcasting.
	def(&OpDef{Kind: "add", Arity: 2, Class: Elementwise, Shape: broadcastAll,
		IROnly: "written a + b", Doc: "NumPy broadcasting",
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
		IROnly: "written a - b", Doc: "NumPy broadcasting",
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
		IROnly: "written a * b", Doc: "NumPy broadcasting",
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
		IROnly: "written a / b", Doc: "NumPy broadcasting",
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

	// maximum and minimum send the gradient to the operand that won, to a on ties.
	for _, k := range []string{"maximum", "minimum"} {
		def(&OpDef{Kind: k, Arity: 2, Class: Elementwise, Shape: broadcastAll,
			Builtin: builtin(k, "broadcast", binaryX...), Doc: "elementwise, NumPy broadcasting; the gradient goes to the larger (smaller) operand, to a on ties",
			Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
				won := b.Op("eq", nil, op, op.Args[0]) // 1 where a is the result
				ga := b.Op("mul", nil, dy, won)
				g := make([]*Op, 2)
				if need[0] {
					g[0] = unbroadcast(b, ga, op.Args[0])
				}
				if need[1] {
					g[1] = unbroadcast(b, b.Op("sub", nil, dy, ga), op.Args[1])
				}
				return g
			}})
	}

	// Elementwise unary ops.
	def(&OpDef{Kind: "neg", Arity: 1, Class: Elementwise, Shape: sameAsFirst, Doc: "−x", IROnly: "written -x",
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op { return []*Op{b.Op("neg", nil, dy)} }})
	def(&OpDef{Kind: "exp", Arity: 1, Class: Elementwise, Shape: sameAsFirst, Doc: "eˣ", Builtin: builtin("exp", "s → s", unaryX...),
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op { return []*Op{b.Op("mul", nil, dy, op)} }})
	def(&OpDef{Kind: "log", Arity: 1, Class: Elementwise, Shape: sameAsFirst, Doc: "natural logarithm", Builtin: builtin("log", "s → s", unaryX...),
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			return []*Op{b.Op("div", nil, dy, op.Args[0])}
		}})
	def(&OpDef{Kind: "sqrt", Arity: 1, Class: Elementwise, Shape: sameAsFirst, Doc: "√x", Builtin: builtin("sqrt", "s → s", unaryX...),
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op { // dy / (2 sqrt x)
			return []*Op{b.Op("div", nil, dy, b.Op("mul", nil, op, b.Const(2)))}
		}})
	def(&OpDef{Kind: "square", Arity: 1, Class: Elementwise, Shape: sameAsFirst, Doc: "x²", Builtin: builtin("square", "s → s", unaryX...),
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			return []*Op{b.Op("mul", nil, dy, b.Op("mul", nil, op.Args[0], b.Const(2)))}
		}})
	def(&OpDef{Kind: "abs", Arity: 1, Class: Elementwise, Shape: sameAsFirst, Doc: `\|x\|`, Builtin: builtin("abs", "s → s", unaryX...),
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			return []*Op{b.Op("mul", nil, dy, b.Op("sign", nil, op.Args[0]))}
		}})
	// sign is piecewise constant: its gradient is zero wherever it exists.
	def(&OpDef{Kind: "sign", Arity: 1, Class: Elementwise, Shape: sameAsFirst, NoGrad: true,
		IROnly: "the gradient of abs", Doc: "−1, 0 or 1"})

	// Activations. Their gradients are written in terms of the output y, so that the forward
	// pre-activation need not be kept and dense+bias+activation can fuse.
	def(&OpDef{Kind: "relu", Arity: 1, Class: Elementwise, Shape: sameAsFirst, Act: &Activation{Grad: "relu_grad"},
		Builtin: builtin("relu", "s → s", unaryX...), Doc: "an activation: dense layers absorb it; gradient through the output y",
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op { return []*Op{b.Op("relu_grad", nil, dy, op)} }})
	alpha := []AttrDef{{Name: "alpha", Type: AttrFloat}}
	def(&OpDef{Kind: "leaky_relu", Arity: 1, Class: Elementwise, Shape: sameAsFirst, Attrs: alpha, Act: &Activation{Grad: "leaky_relu_grad"},
		Builtin: builtin("leaky_relu", "s → s", tensorParam("x"), attrParam("alpha", AttrFloat, 0.01)),
		Doc:     "max(x, alpha·x); an activation",
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			return []*Op{b.Op("leaky_relu_grad", Attrs{"alpha": op.Attrs.Float("alpha", 0.01)}, dy, op)}
		}})
	def(&OpDef{Kind: "sigmoid", Arity: 1, Class: Elementwise, Shape: sameAsFirst, Act: &Activation{Grad: "sigmoid_grad"},
		Builtin: builtin("sigmoid", "s → s", unaryX...), Doc: "an activation: dense layers absorb it; gradient through the output y",
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op { return []*Op{b.Op("sigmoid_grad", nil, dy, op)} }})
	def(&OpDef{Kind: "tanh", Arity: 1, Class: Elementwise, Shape: sameAsFirst, Act: &Activation{Grad: "tanh_grad"},
		Builtin: builtin("tanh", "s → s", unaryX...), Doc: "an activation: dense layers absorb it; gradient through the output y",
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op { return []*Op{b.Op("tanh_grad", nil, dy, op)} }})
	// The gradient helpers take (dy, y) and are not themselves differentiated: dlc computes
	// first derivatives only.
	for _, k := range []string{"relu_grad", "sigmoid_grad", "tanh_grad"} {
		def(&OpDef{Kind: k, Arity: 2, Class: Elementwise, Shape: sameShapes, NoGrad: true,
			IROnly: "a gradient helper", Doc: "(dy, y): an activation's gradient from its output; equal shapes"})
	}
	def(&OpDef{Kind: "leaky_relu_grad", Arity: 2, Class: Elementwise, Shape: sameShapes, NoGrad: true, Attrs: alpha,
		IROnly: "a gradient helper", Doc: "(dy, y): an activation's gradient from its output; equal shapes"})

	// Elementwise losses; the language's bce(p, t) is mean(bce(p, t)).
	// bce(p, t) = -(t log p + (1-t) log(1-p)), with each log clamped at -100 as PyTorch does.
	def(&OpDef{Kind: "bce", Arity: 2, Class: Elementwise, Shape: sameShapes,
		IROnly: "the builtin loss bce is its mean", Doc: "(p, t): −(t log p + (1−t) log(1−p)), logs clamped at −100",
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
	def(&OpDef{Kind: "bce_grad", Arity: 2, Class: Elementwise, Shape: sameShapes, NoGrad: true,
		IROnly: "a gradient helper", Doc: "(p, t): (p − t) / max(p(1−p), 1e-12)"})
	// bce_logits(z, t) = max(z, 0) - z t + log(1 + exp(-|z|)) = bce(sigmoid(z), t), stably.
	def(&OpDef{Kind: "bce_logits", Arity: 2, Class: Elementwise, Shape: sameShapes,
		IROnly: "the builtin loss bce_logits is its mean", Doc: "(z, t): bce(sigmoid(z), t), stable",
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
	reduceAttrs := []AttrDef{{Name: "axes", Type: AttrInts, Optional: true}, {Name: "keepdims", Type: AttrBool, Optional: true}}
	reduceParams := []BuiltinParam{tensorParam("x"), {Name: "axis", Attr: "axes", Type: AttrInts, Default: []int{}}, attrParam("keepdims", AttrBool, false)}
	def(&OpDef{Kind: "sum", Arity: 1, Class: Reduce, Shape: reduceShape, Attrs: reduceAttrs,
		Builtin: builtin("sum", "reduced", reduceParams...), Doc: "`axes` absent or `[]` is every axis",
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			return []*Op{b.Op("broadcast_like", Attrs{"axes": op.Attrs.Ints("axes"), "keepdims": op.Attrs.Bool("keepdims")}, dy, op.Args[0])}
		}})
	def(&OpDef{Kind: "mean", Arity: 1, Class: Reduce, Shape: reduceShape, Attrs: reduceAttrs,
		Builtin: builtin("mean", "reduced", reduceParams...), Doc: "`axes` absent or `[]` is every axis",
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			x := op.Args[0]
			n := b.Op("count", Attrs{"axes": op.Attrs.Ints("axes")}, x)
			return []*Op{b.Op("div", nil, b.Op("broadcast_like", Attrs{"axes": op.Attrs.Ints("axes"), "keepdims": op.Attrs.Bool("keepdims")}, dy, x), n)}
		}})
	// count(x) is the number of elements a reduction over axes sums: a scalar known only at
	// run time when x has symbolic dimensions.
	def(&OpDef{Kind: "count", Arity: 1, Class: Reduce, Shape: scalar, NoGrad: true, Attrs: reduceAttrs[:1],
		IROnly: "mean's gradient", Doc: "scalar: the number of elements a reduction over `axes` sums, known at run time"})
	// sum_to(x, like) sums x over the dimensions that broadcasting added to like's shape.
	def(&OpDef{Kind: "sum_to", Arity: 2, Class: Reduce, IROnly: "broadcasting's gradient",
		Doc: "(x, like): sums x down to like's shape: the adjoint of broadcasting",
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
	def(&OpDef{Kind: "broadcast_like", Arity: 2, Class: Movement, Attrs: reduceAttrs, IROnly: "a reduction's gradient",
		Doc: "(x, like): re-inserts the axes a reduction removed and broadcasts x to like's shape",
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
	def(&OpDef{Kind: "matmul", Arity: 2, Class: Contract, Shape: matmulShape, Attrs: transposeFlags,
		Builtin: builtin("matmul", "[M, K] · [K, N] → [M, N]", binaryX...), Doc: "rank 2; op(a)·op(b) with optional transposes",
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
	def(&OpDef{Kind: "reshape", Arity: 1, Class: Movement, Attrs: []AttrDef{{Name: "shape", Type: AttrShape}},
		Builtin: builtin("reshape", "→ shape", tensorParam("x"), attrParam("shape", AttrShape, nil)),
		Doc:     "equal element counts (as monomials)",
		Shape: func(args []Type, a Attrs) (Shape, error) {
			to := a.Shape("shape")
			if _, err := to.Elements(); err != nil {
				return nil, err
			}
			if !to.NumElements().Equal(args[0].Shape.NumElements()) {
				return nil, fmt.Errorf("cannot reshape %v (%v elements) to %v (%v elements)",
					args[0].Shape, args[0].Shape.NumElements(), to, to.NumElements())
			}
			return to, nil
		},
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			return []*Op{b.Op("reshape", Attrs{"shape": op.Args[0].Type.Shape}, dy)}
		}})
	def(&OpDef{Kind: "transpose", Arity: 1, Class: Movement, Attrs: []AttrDef{{Name: "perm", Type: AttrInts}},
		Builtin: &Builtin{Name: "transpose", Shapes: "permuted",
			Params: []BuiltinParam{tensorParam("x"), attrParam("perm", AttrInts, []int{})},
			Fill: func(args []Type, a Attrs) { // the default reverses the axes
				if len(a.Ints("perm")) == 0 {
					n := len(args[0].Shape)
					perm := make([]int, n)
					for i := range perm {
						perm[i] = n - 1 - i
					}
					a["perm"] = perm
				}
			}},
		Doc: "`perm` defaults to reversing the axes",
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
	axis := []AttrDef{{Name: "axis", Type: AttrInt}}
	def(&OpDef{Kind: "concat", Arity: -1, Class: Movement, Attrs: axis, Shape: concatShape,
		Builtin: builtin("concat", "joined", BuiltinParam{Name: "xs", Tensor: true, Variadic: true}, attrParam("axis", AttrInt, -1)),
		Doc:     "every positional argument is a tensor, so `axis` is named; the axis must be constant",
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
	window := []AttrDef{{Name: "axis", Type: AttrInt}, {Name: "start", Type: AttrInt}, {Name: "end", Type: AttrInt}}
	def(&OpDef{Kind: "slice", Arity: 1, Class: Movement, Attrs: window,
		Builtin: builtin("slice", "axis → end − start", tensorParam("x"), attrParam("axis", AttrInt, nil), attrParam("start", AttrInt, nil), attrParam("end", AttrInt, nil)),
		Doc:     "indices [start, end) of a constant axis",
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
	def(&OpDef{Kind: "unslice", Arity: 2, Class: Movement, Attrs: window, IROnly: "slice's gradient",
		Doc: "(dy, like): zeros like `like` with dy at [start, end)",
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
	def(&OpDef{Kind: "argmax", Arity: 1, Class: Reduce, Attrs: axis, NoGrad: true,
		Builtin: builtin("argmax", "the axis removed", tensorParam("x"), attrParam("axis", AttrInt, -1)),
		Doc:     "index of the largest element (the first on ties) as f32",
		Shape: func(args []Type, a Attrs) (Shape, error) {
			axis, err := NormAxis(a.Int("axis", -1), len(args[0].Shape))
			if err != nil {
				return nil, err
			}
			return ReducedShape(args[0].Shape, []int{axis}, false), nil
		}})
	// eq(a, b) is 1 where a == b and 0 elsewhere, with broadcasting.
	def(&OpDef{Kind: "eq", Arity: 2, Class: Elementwise, Shape: broadcastAll, NoGrad: true,
		Builtin: builtin("eq", "broadcast", binaryX...), Doc: "1 where equal, else 0, with broadcasting (metrics)"})

	// Softmax family, over one axis.
	axisParams := []BuiltinParam{tensorParam("x"), attrParam("axis", AttrInt, -1)}
	def(&OpDef{Kind: "softmax", Arity: 1, Class: Reduce, Attrs: axis, Shape: axisChecked,
		Builtin: builtin("softmax", "s → s", axisParams...), Doc: "over one axis; negative axes count from the end",
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op { // y (dy - sum(dy y))
			s := b.Op("sum", Attrs{"axes": []int{op.Attrs.Int("axis", -1)}, "keepdims": true}, b.Op("mul", nil, dy, op))
			return []*Op{b.Op("mul", nil, op, b.Op("sub", nil, dy, s))}
		}})
	def(&OpDef{Kind: "log_softmax", Arity: 1, Class: Reduce, Attrs: axis, Shape: axisChecked,
		Builtin: builtin("log_softmax", "s → s", axisParams...), Doc: "over one axis; negative axes count from the end",
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
