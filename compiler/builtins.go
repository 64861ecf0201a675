package compiler

import (
	"fmt"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// builtin is a function of the language that lowers directly to IR. Most are ops of the IR
// op table, whose OpDef.Builtin gives their name and parameters (opBuiltin lowers them all
// the same way); the rest are sugar written here in terms of ops: the losses, flatten and
// param. Layers with parameters are written in the language itself (stdlib/nn.dl).
type builtin struct {
	params []bparam
	lower  func(l *lowerer, c *lang.Call, a []value) (value, error)
	shapes string // for spec.md: how the result's shape follows
	doc    string // for spec.md: one line
}

var builtins map[string]*builtin

// sugarOrder lists the builtins that are not ops, in spec.md's order.
var sugarOrder = []string{"flatten", "dropout", "batchnorm", "mse", "l1", "bce", "bce_logits", "cross_entropy", "param"}

func tensorArg(name string) bparam { return bparam{name: name, kind: kTensor} }

// opBuiltin is the builtin of an op of the table: tensor parameters become operands, the
// others attributes, and the op's shape rule checks the result.
func opBuiltin(d *ir.OpDef) *builtin {
	bi := d.Builtin
	params := make([]bparam, len(bi.Params))
	for i, p := range bi.Params {
		params[i] = bparam{name: p.Name, kind: attrKind(p), variadic: p.Variadic}
		if p.Default != nil {
			params[i].def = defaultValue(p.Default)
		}
	}
	return &builtin{params: params, shapes: bi.Shapes, doc: d.Doc,
		lower: func(l *lowerer, c *lang.Call, a []value) (value, error) {
			var ops []*ir.Op
			attrs := ir.Attrs{}
			for i, p := range bi.Params {
				switch {
				case p.Variadic:
					for _, v := range a[i].list {
						ops = append(ops, v.op)
					}
					if len(a[i].list) == 0 {
						return value{}, lang.Errorf(c.Pos, "%s: missing argument %s", c.Func, p.Name)
					}
				case p.Tensor:
					ops = append(ops, a[i].op)
				default:
					v, err := attrValue(p, a[i])
					if err != nil {
						return value{}, lang.Errorf(argPos(c, p.Name, i), "%s: %s %s, want %s", c.Func, p.Name, a[i], err)
					}
					attrs[p.AttrName()] = v
				}
			}
			l.setPos(c.Pos)
			if d.Impure {
				attrs["stream"] = l.p.nextStream()
			}
			if bi.Fill != nil {
				ts := make([]ir.Type, len(ops))
				for i, o := range ops {
					ts[i] = o.Type
				}
				bi.Fill(ts, attrs)
			}
			o, err := l.b.Emit(d.Kind, attrs, ops...)
			if err != nil {
				// Name the operands' shapes, unless the shape rule's message already does.
				what := c.Func
				if len(ops) > 0 && !strings.Contains(err.Error(), ops[0].Type.Shape.String()) {
					what += ": got " + shapesOf(ops)
				}
				return value{}, lang.Errorf(c.Pos, "%s: %v", what, err)
			}
			return tensorVal(o), nil
		}}
}

// argPos is where argument name (the i-th parameter) was written, or the call.
func argPos(c *lang.Call, name string, i int) lang.Pos {
	for j, a := range c.Args {
		if a.Name == name || a.Name == "" && j == i {
			return a.Value.Pos
		}
	}
	return c.Pos
}

// attrKind is the language kind a builtin parameter takes.
func attrKind(p ir.BuiltinParam) kind {
	if p.Tensor {
		return kTensor
	}
	switch p.Type {
	case ir.AttrInt:
		return kInt
	case ir.AttrFloat:
		return kFloat
	case ir.AttrBool:
		return kBool
	case ir.AttrString:
		return kString
	}
	return kList
}

// defaultValue is a parameter's default as a language value.
func defaultValue(d any) func() value {
	return func() value {
		switch d := d.(type) {
		case int:
			return intVal(d)
		case float64:
			return floatVal(d)
		case bool:
			return value{kind: kBool, num: map[bool]float64{true: 1}[d]}
		case string:
			return value{kind: kString, str: d}
		case []int:
			v := value{kind: kList}
			for _, n := range d {
				v.list = append(v.list, intVal(n))
			}
			return v
		}
		return value{kind: kList}
	}
}

// attrValue converts a bound argument to the attribute p sets; the error says what was
// wanted.
func attrValue(p ir.BuiltinParam, v value) (any, error) {
	switch p.Type {
	case ir.AttrInt:
		return int(v.num), nil
	case ir.AttrFloat:
		return v.num, nil
	case ir.AttrBool:
		return v.num != 0, nil
	case ir.AttrString:
		return v.str, nil
	case ir.AttrInts:
		if ints, ok := v.asInts(); ok {
			return ints, nil
		}
		return nil, fmt.Errorf("an int or a list of ints")
	case ir.AttrShape:
		if s, ok := v.asShape(); ok {
			return s, nil
		}
		return nil, fmt.Errorf("a list of positive dimensions")
	}
	return nil, fmt.Errorf("a value of type %s", p.Type)
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

// loss lowers a loss to the mean over every element of an elementwise loss op.
func loss(doc string, elementwise func(l *lowerer, c *lang.Call, p, t *ir.Op) (*ir.Op, error)) *builtin {
	target := tensorArg("target")
	target.number = true
	return &builtin{doc: doc + "; a number as the target stands for a tensor of it shaped like pred", shapes: "equal shapes → []", params: []bparam{tensorArg("pred"), target},
		lower: func(l *lowerer, c *lang.Call, a []value) (value, error) {
			p, t := a[0].op, a[1].op
			if a[1].kind == kFloat { // bce_logits(d, 1): every element's target is 1
				var err error
				if t, err = l.emit(c.Pos, c.Func, "broadcast_like", nil, l.b.Const(a[1].num), p); err != nil {
					return value{}, err
				}
			}
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
	for _, k := range ir.Kinds() {
		if d, _ := ir.Lookup(k); d.Builtin != nil {
			builtins[d.Builtin.Name] = opBuiltin(d)
		}
	}
	builtins["flatten"] = &builtin{shapes: "[B, d1, d2, …] → [B, d1·d2·…]", doc: "a `reshape`", params: []bparam{tensorArg("x")},
		lower: func(l *lowerer, c *lang.Call, a []value) (value, error) {
			s := a[0].op.Type.Shape
			if len(s) < 1 {
				return value{}, lang.Errorf(c.Pos, "flatten: got a scalar, want rank ≥ 1")
			}
			rest := ir.Shape(s[1:]).NumElements()
			o, err := l.emit(c.Pos, "flatten", "reshape", ir.Attrs{"shape": ir.Shape{s[0], rest}}, a[0].op)
			return tensorVal(o), err
		}}
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
	builtins["cross_entropy"] = &builtin{shapes: "[B, C], [B, C] → []", doc: "mean over rows of −Σ t·log_softmax(z): logits z and one-hot (or soft) targets t, both [B, C]",
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
	builtins["param"] = &builtin{shapes: "→ shape", params: []bparam{{name: "shape", kind: kList}, {name: "init", kind: kString, def: strDefault("glorot_uniform")}}, doc: "a trained parameter: name = param([d1, d2, …], init: \"glorot_uniform\")",
		lower: func(l *lowerer, c *lang.Call, a []value) (value, error) {
			return value{}, lang.Errorf(c.Pos, "param: must be assigned to a name")
		}}
}
