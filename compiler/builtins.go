package compiler

import (
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// builtin is an op of the language that lowers directly to IR. Layers with parameters are
// written in the language itself (stdlib/nn.dl); builtins are what those are made of.
type builtin struct {
	params []bparam
	lower  func(l *lowerer, c *lang.Call, a []value) (value, error)
	doc    string // one line for spec.md's table
}

var builtins map[string]*builtin

func tensorArg(name string) bparam { return bparam{name: name, kind: kTensor} }

// simple returns a builtin emitting one op of kind over its tensor arguments, with attrs
// built from the remaining arguments.
func simple(kind string, params []bparam, attrs func(a []value) ir.Attrs, doc string) *builtin {
	return &builtin{params: params, doc: doc, lower: func(l *lowerer, c *lang.Call, a []value) (value, error) {
		var ops []*ir.Op
		for i, p := range params {
			if p.kind == kTensor {
				ops = append(ops, a[i].op)
			}
		}
		var at ir.Attrs
		if attrs != nil {
			at = attrs(a)
		}
		o, err := l.emit(c.Pos, c.Func+": got "+shapesOf(ops), kind, at, ops...)
		return tensorVal(o), err
	}}
}

func shapesOf(ops []*ir.Op) string {
	s := ""
	for i, o := range ops {
		if i > 0 {
			s += " and "
		}
		s += o.Type.Shape.String()
	}
	return s
}

// reduction lowers sum/mean with an optional axis (an int or a list; none means all).
func reduction(kind, doc string) *builtin {
	return &builtin{doc: doc,
		params: []bparam{tensorArg("x"), {name: "axis", kind: kList, def: noneDefault}, {name: "keepdims", kind: kBool, def: func() value { return value{kind: kBool} }}},
		lower: func(l *lowerer, c *lang.Call, a []value) (value, error) {
			axes, ok := a[1].asInts()
			if !ok {
				return value{}, lang.Errorf(c.Pos, "%s: axis %s, want an int or a list of ints", c.Func, a[1])
			}
			o, err := l.emit(c.Pos, c.Func+": got "+a[0].op.Type.Shape.String(), kind, ir.Attrs{"axes": axes, "keepdims": a[2].num != 0}, a[0].op)
			return tensorVal(o), err
		}}
}

// loss lowers a loss to the mean over every element of an elementwise loss op.
func loss(doc string, elementwise func(l *lowerer, c *lang.Call, p, t *ir.Op) (*ir.Op, error)) *builtin {
	return &builtin{doc: doc, params: []bparam{tensorArg("pred"), tensorArg("target")},
		lower: func(l *lowerer, c *lang.Call, a []value) (value, error) {
			p, t := a[0].op, a[1].op
			if !p.Type.Shape.Equal(t.Type.Shape) {
				return value{}, lang.Errorf(c.Pos, "%s: got prediction %v and target %v, want equal shapes", c.Func, p.Type.Shape, t.Type.Shape)
			}
			e, err := elementwise(l, c, p, t)
			if err != nil {
				return value{}, err
			}
			o, err := l.emit(c.Pos, c.Func, "mean", ir.Attrs{"axes": []int{}, "keepdims": false}, e)
			return tensorVal(o), err
		}}
}

func init() {
	builtins = map[string]*builtin{}
	for _, k := range []string{"relu", "sigmoid", "tanh", "exp", "log", "sqrt", "abs", "square"} {
		builtins[k] = simple(k, []bparam{tensorArg("x")}, nil, "elementwise "+k)
	}
	builtins["leaky_relu"] = simple("leaky_relu", []bparam{tensorArg("x"), {name: "alpha", kind: kFloat, def: floatDefault(0.01)}},
		func(a []value) ir.Attrs { return ir.Attrs{"alpha": a[1].num} }, "max(x, alpha·x), alpha = 0.01 by default")
	for _, k := range []string{"softmax", "log_softmax"} {
		builtins[k] = simple(k, []bparam{tensorArg("x"), {name: "axis", kind: kInt, def: intDefault(-1)}},
			func(a []value) ir.Attrs { return ir.Attrs{"axis": int(a[1].num)} }, k+" over one axis (the last by default)")
	}
	builtins["matmul"] = simple("matmul", []bparam{tensorArg("a"), tensorArg("b")}, nil, "[M, K] · [K, N] → [M, N]")
	builtins["sum"] = reduction("sum", "sum over axis (an int or a list; all axes when omitted), keepdims: false")
	builtins["mean"] = reduction("mean", "mean over axis, like sum")
	builtins["transpose"] = &builtin{doc: "permute axes (perm defaults to reversing them)",
		params: []bparam{tensorArg("x"), {name: "perm", kind: kList, def: noneDefault}},
		lower: func(l *lowerer, c *lang.Call, a []value) (value, error) {
			perm, ok := a[1].asInts()
			if !ok {
				return value{}, lang.Errorf(c.Pos, "transpose: perm %s, want a list of ints", a[1])
			}
			if len(perm) == 0 {
				n := len(a[0].op.Type.Shape)
				for i := n - 1; i >= 0; i-- {
					perm = append(perm, i)
				}
			}
			o, err := l.emit(c.Pos, "transpose: got "+a[0].op.Type.Shape.String(), "transpose", ir.Attrs{"perm": perm}, a[0].op)
			return tensorVal(o), err
		}}
	builtins["reshape"] = &builtin{doc: "to a shape with the same number of elements",
		params: []bparam{tensorArg("x"), {name: "shape", kind: kList}},
		lower: func(l *lowerer, c *lang.Call, a []value) (value, error) {
			s, ok := irShape(a[1])
			if !ok {
				return value{}, lang.Errorf(c.Args[1].Pos, "reshape: shape %s, want a list of positive dimensions", a[1])
			}
			o, err := l.emit(c.Pos, "reshape", "reshape", ir.Attrs{"shape": s}, a[0].op)
			return tensorVal(o), err
		}}
	builtins["flatten"] = &builtin{doc: "[B, d1, d2, …] → [B, d1·d2·…]", params: []bparam{tensorArg("x")},
		lower: func(l *lowerer, c *lang.Call, a []value) (value, error) {
			s := a[0].op.Type.Shape
			if len(s) < 1 {
				return value{}, lang.Errorf(c.Pos, "flatten: got a scalar, want rank ≥ 1")
			}
			rest := ir.Shape(s[1:]).NumElements()
			o, err := l.emit(c.Pos, "flatten", "reshape", ir.Attrs{"shape": ir.Shape{s[0], rest}}, a[0].op)
			return tensorVal(o), err
		}}
	builtins["concat"] = &builtin{doc: "join tensors along axis (the last by default)",
		params: []bparam{{name: "xs", kind: kTensor, variadic: true}, {name: "axis", kind: kInt, def: intDefault(-1)}},
		lower: func(l *lowerer, c *lang.Call, a []value) (value, error) {
			var ops []*ir.Op
			for _, v := range a[0].list {
				ops = append(ops, v.op)
			}
			if len(ops) == 0 {
				return value{}, lang.Errorf(c.Pos, "concat: missing argument xs")
			}
			o, err := l.emit(c.Pos, "concat: got "+shapesOf(ops), "concat", ir.Attrs{"axis": int(a[1].num)}, ops...)
			return tensorVal(o), err
		}}
	builtins["slice"] = simple("slice", []bparam{tensorArg("x"), {name: "axis", kind: kInt}, {name: "start", kind: kInt}, {name: "end", kind: kInt}},
		func(a []value) ir.Attrs {
			return ir.Attrs{"axis": int(a[1].num), "start": int(a[2].num), "end": int(a[3].num)}
		}, "indices [start, end) of a constant-length axis")

	builtins["mse"] = loss("mean squared error over every element", func(l *lowerer, c *lang.Call, p, t *ir.Op) (*ir.Op, error) {
		d, err := l.emit(c.Pos, "mse", "sub", nil, p, t)
		if err != nil {
			return nil, err
		}
		return l.emit(c.Pos, "mse", "square", nil, d)
	})
	builtins["l1"] = loss("mean absolute error over every element", func(l *lowerer, c *lang.Call, p, t *ir.Op) (*ir.Op, error) {
		d, err := l.emit(c.Pos, "l1", "sub", nil, p, t)
		if err != nil {
			return nil, err
		}
		return l.emit(c.Pos, "l1", "abs", nil, d)
	})
	// bce of a sigmoid is computed from the logits: the same value, without the log(0) that
	// a saturated sigmoid gives in float32, and with the cheaper gradient sigmoid(z) - t.
	builtins["bce"] = loss("mean binary cross-entropy of probabilities against targets in [0, 1]", func(l *lowerer, c *lang.Call, p, t *ir.Op) (*ir.Op, error) {
		if p.Kind == "sigmoid" {
			return l.emit(c.Pos, "bce", "bce_logits", nil, p.Args[0], t)
		}
		return l.emit(c.Pos, "bce", "bce", nil, p, t)
	})
	builtins["bce_logits"] = loss("bce(sigmoid(z), t), computed stably from the logits z", func(l *lowerer, c *lang.Call, p, t *ir.Op) (*ir.Op, error) {
		return l.emit(c.Pos, "bce_logits", "bce_logits", nil, p, t)
	})
	builtins["cross_entropy"] = &builtin{doc: "mean over rows of −Σ t·log_softmax(z): logits z and one-hot (or soft) targets t, both [B, C]",
		params: []bparam{tensorArg("logits"), tensorArg("target")},
		lower: func(l *lowerer, c *lang.Call, a []value) (value, error) {
			z, t := a[0].op, a[1].op
			if len(z.Type.Shape) != 2 || !z.Type.Shape.Equal(t.Type.Shape) {
				return value{}, lang.Errorf(c.Pos, "cross_entropy: got logits %v and target %v, want equal shapes [B, C]", z.Type.Shape, t.Type.Shape)
			}
			ls, err := l.emit(c.Pos, "cross_entropy", "log_softmax", ir.Attrs{"axis": -1}, z)
			if err != nil {
				return value{}, err
			}
			m, err := l.emit(c.Pos, "cross_entropy", "mul", nil, t, ls)
			if err != nil {
				return value{}, err
			}
			s, err := l.emit(c.Pos, "cross_entropy", "sum", ir.Attrs{"axes": []int{1}, "keepdims": false}, m)
			if err != nil {
				return value{}, err
			}
			mean, err := l.emit(c.Pos, "cross_entropy", "mean", ir.Attrs{"axes": []int{}, "keepdims": false}, s)
			if err != nil {
				return value{}, err
			}
			o, err := l.emit(c.Pos, "cross_entropy", "neg", nil, mean)
			return tensorVal(o), err
		}}
	// param is lowered by assign (it needs the variable's name); it is listed here so that
	// name resolution knows it.
	builtins["param"] = &builtin{doc: "a trained parameter: name = param([d1, d2, …], init: \"glorot_uniform\")",
		lower: func(l *lowerer, c *lang.Call, a []value) (value, error) {
			return value{}, lang.Errorf(c.Pos, "param: must be assigned to a name")
		}}
}
