package compiler

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// lowerer emits the ops of one IR function.
type lowerer struct {
	p     *Program
	b     *ir.Builder
	depth int
	// stdPos, when set, is the user-file call site of the standard block being lowered: ops
	// inside std blocks are stamped with it, so that IR positions always point at the user's
	// file.
	stdPos *lang.Pos
	// params are the parameters made so far in this function, by full name, with the scope
	// that declared each: a second block instance with the same name prefix (the same block
	// called again at a family's top level) shares the op, while a second w = param(...) in
	// one instance is an error.
	params map[string]declared
	// mode is "train" or "eval": dropout and input corruption act only in training, and
	// batch norm uses batch statistics in training and running averages in evaluation.
	mode string
	// states holds each training state's latest value in this function (a state updated by
	// two calls of one block chains), and stateOrder their names in order of first update.
	states     map[string]*ir.Op
	stateOrder []string
	// sc is the scope whose body is being lowered, for builtins that declare parameters.
	sc *scope
	// self, while a layer's message is lowered for its self loops, is the graph whose
	// indices then mean the node itself (layer.go).
	self *graphVal
	// bound holds the tensors bound to local names in this function, by full name
	// (values.go).
	bound map[string]*ir.Op
}

// declared is a parameter and the scope instance that declared it.
type declared struct {
	op    *ir.Op
	scope *scope
	pos   lang.Pos
}

const maxDepth = 64

func (p *Program) newLowerer(name, mode string) *lowerer {
	l := &lowerer{p: p, b: ir.NewBuilder(ir.NewFunc(name)), mode: mode, params: map[string]declared{}, states: map[string]*ir.Op{}, bound: map[string]*ir.Op{}}
	if p.bound == nil {
		p.bound = map[*ir.Func]map[string]*ir.Op{}
	}
	p.bound[l.b.F] = l.bound
	return l
}

// evalConst evaluates an expression that must be known at compile time: a setting of a
// family or train block (a penalty weight, a noise size, a data argument). It runs in a
// function of its own, so that a tensor expression (a block call, a parameter) is a
// positioned error rather than an op with nowhere to go.
func (p *Program) evalConst(e *lang.Expr) (value, error) {
	l := p.newLowerer("const", "eval")
	v, err := l.eval(newScope("", ""), e)
	if err != nil {
		return value{}, err
	}
	if v.kind == kTensor || len(l.b.F.Ops) > 0 {
		return value{}, lang.Errorf(e.Pos, "%s is a tensor expression, want a value known at compile time", exprString(e))
	}
	return v, nil
}

// training reports whether the function being lowered is a training step.
func (l *lowerer) training() bool { return l.mode == "train" }

// stateOutputs appends an output "state:NAME" for every state the function updated.
func (l *lowerer) stateOutputs() {
	for _, n := range l.stateOrder {
		l.b.F.Outputs = append(l.b.F.Outputs, ir.Output{Name: ir.OutputName(ir.OutState, n), Value: l.states[n]})
	}
}

func (l *lowerer) setPos(pos lang.Pos) {
	if l.stdPos != nil {
		pos = *l.stdPos
	}
	l.b.Pos = irPos(pos)
}

// emit appends an op and turns a shape-rule failure into a positioned diagnostic.
func (l *lowerer) emit(pos lang.Pos, what, kind string, attrs ir.Attrs, args ...*ir.Op) (*ir.Op, error) {
	l.setPos(pos)
	o, err := l.b.Emit(kind, attrs, args...)
	if err != nil {
		return nil, lang.Errorf(pos, "%s: %v", what, err)
	}
	return o, nil
}

// entry lowers block b as a function of its own: tensor parameters become inputs, their
// unbound dimension names become symbolic dimensions, and hyperparameters take defaults.
// ok is false when the block cannot stand alone (a hyperparameter has no default).
func (p *Program) entry(b *lang.Block) (f *ir.Func, ok bool, err error) {
	l := p.newLowerer(b.Name, "eval")
	sc := newScope(b.Name, b.Pos.Filename)
	_, ok, err = l.bindEntryParams(b, sc)
	if !ok || err != nil {
		return nil, ok, err
	}
	outs, err := l.body(b, sc)
	if err != nil {
		return nil, true, err
	}
	for i, o := range outs {
		name := "out"
		if len(outs) > 1 {
			name = fmt.Sprintf("out%d", i)
		}
		l.b.F.Outputs = append(l.b.F.Outputs, ir.Output{Name: name, Value: o.op})
	}
	return l.b.F, true, nil
}

// bindEntryParams makes inputs for the tensor parameters of a top-level block. Its
// hyperparameters take their defaults first; then every dimension written as a bare name
// becomes a symbolic dimension of the function (B, N), so that dimensions written as
// expressions of them (2 * F) can be evaluated.
func (l *lowerer) bindEntryParams(b *lang.Block, sc *scope) ([]*ir.Op, bool, error) {
	for _, prm := range b.Params {
		if prm.Type.Shape != nil || isGraphType(prm.Type) {
			continue
		}
		if prm.Default == nil {
			return nil, false, nil
		}
		v, err := l.eval(sc, prm.Default)
		if err != nil {
			return nil, true, err
		}
		if v, err = l.checkKind(prm, v, b.Name, prm.Default.Pos); err != nil {
			return nil, true, err
		}
		sc.names[prm.Name] = v
	}
	for _, prm := range b.Params {
		if prm.Type.Shape == nil {
			continue
		}
		for _, d := range prm.Type.Shape.Dims {
			if id := bareIdent(d); id != "" {
				if _, ok := sc.names[id]; !ok {
					sc.names[id] = dimVal(ir.Sym(id))
				}
			}
		}
	}
	var ins []*ir.Op
	for _, prm := range b.Params {
		if prm.Type.Shape == nil {
			continue
		}
		shape := make(ir.Shape, len(prm.Type.Shape.Dims))
		for i, d := range prm.Type.Shape.Dims {
			v, err := l.eval(sc, d)
			if err != nil {
				return nil, true, err
			}
			dd, ok := v.asDim()
			if !ok || dd.Coef <= 0 {
				return nil, true, lang.Errorf(d.Pos, "%s: dimension %s is %s, want a positive int or a dimension name", b.Name, exprString(d), v)
			}
			shape[i] = dd
		}
		if _, err := shape.Elements(); err != nil {
			return nil, true, lang.Errorf(prm.Type.Pos, "%s: input %s: %v", b.Name, prm.Name, err)
		}
		l.setPos(prm.Pos)
		in := l.b.Input(prm.Name, ir.F32(shape))
		sc.names[prm.Name] = tensorVal(in)
		ins = append(ins, in)
	}
	for _, prm := range b.Params {
		if !isGraphType(prm.Type) {
			continue
		}
		nodes, err := nodeDim(b, ins, prm)
		if err != nil {
			return nil, true, err
		}
		g, err := l.graphInputs(sc, b, prm, nodes)
		if err != nil {
			return nil, true, err
		}
		sc.names[prm.Name] = value{kind: kGraph, g: g}
	}
	return ins, true, nil
}

// body lowers the statements of a block instance and checks its returns against the
// declared result types.
func (l *lowerer) body(b *lang.Block, sc *scope) ([]value, error) {
	if b.Kind == "layer" {
		return l.layerBody(b, sc)
	}
	outer := l.sc
	l.sc = sc
	defer func() { l.sc = outer }()
	var rets []value
	if l.p.values != nil {
		for _, prm := range b.Params {
			if v, ok := sc.names[prm.Name]; ok {
				l.p.recordValue(prm.Pos, nameEnd(prm.Pos, prm.Name), v)
			}
		}
	}
	for _, s := range b.Body {
		if s.Unpack != nil {
			if err := l.unpack(sc, s.Unpack); err != nil {
				return nil, err
			}
			for _, n := range s.Unpack.Names {
				l.p.recordValue(s.Unpack.Pos, s.Unpack.Value.Pos, sc.names[n])
			}
			continue
		}
		if s.Assign != nil {
			v, err := l.assign(sc, s.Assign)
			if err != nil {
				return nil, err
			}
			sc.names[s.Assign.Name] = v
			l.bind(sc, s.Assign.Name, v)
			continue
		}
		for _, e := range s.Return {
			v, err := l.eval(sc, e)
			if err != nil {
				return nil, err
			}
			if v.kind != kTensor {
				return nil, lang.Errorf(e.Pos, "%s: return value is %s, want a tensor", b.Name, v.kind)
			}
			rets = append(rets, v)
		}
	}
	return rets, l.checkResults(b, sc, rets, returnPos(b))
}

// checkResults checks a block instance's results against its declared result types.
func (l *lowerer) checkResults(b *lang.Block, sc *scope, rets []value, at lang.Pos) error {
	want := b.Result.Types()
	if len(want) == 0 {
		return nil
	}
	if len(rets) != len(want) {
		return lang.Errorf(b.EndPos, "%s: returns %d values, want %d", b.Name, len(rets), len(want))
	}
	for i, t := range want {
		if t.Shape == nil {
			return lang.Errorf(t.Pos, "%s: result type %s, want a shape", b.Name, t.Named)
		}
		if err := l.unify(sc, t.Shape, rets[i].op.Type.Shape, b.Name+": result", at); err != nil {
			return err
		}
	}
	return nil
}

// unpack lowers `a, b = Blk(x)`: a call of a block with as many results as names.
func (l *lowerer) unpack(sc *scope, u *lang.Unpack) error {
	c := bareCall(u.Value)
	if c == nil || l.p.blocks[c.Func] == nil {
		return lang.Errorf(u.Value.Pos, "%d names on the left need a call of a block that returns %d values on the right", len(u.Names), len(u.Names))
	}
	rets, err := l.instantiate(sc, l.p.blocks[c.Func], c)
	if err != nil {
		return err
	}
	if len(rets) != len(u.Names) {
		return lang.Errorf(c.Pos, "%s returns %d values, want %d for %s", c.Func, len(rets), len(u.Names), strings.Join(u.Names, ", "))
	}
	for i, n := range u.Names {
		sc.names[n] = rets[i]
	}
	return nil
}

func returnPos(b *lang.Block) lang.Pos {
	for _, s := range b.Body {
		if s.Return != nil {
			return s.Return[0].Pos
		}
	}
	return b.EndPos
}

func (l *lowerer) assign(sc *scope, s *lang.Setting) (v value, err error) {
	defer func() {
		if err == nil {
			l.p.recordValue(s.Pos, nameEnd(s.Pos, s.Name), v)
		}
	}()
	if c := bareCall(s.Value); c != nil && c.Func == "param" {
		return l.param(sc, s.Name, c)
	}
	return l.eval(sc, s.Value)
}

// param lowers `name = param(shape, init: "...")`: a trained parameter named after the
// variable inside the current instance.
func (l *lowerer) param(sc *scope, name string, c *lang.Call) (value, error) {
	args, err := l.bindArgs(sc, "param", c, []bparam{{name: "shape", kind: kList}, {name: "init", kind: kString, def: strDefault("glorot_uniform")}})
	if err != nil {
		return value{}, err
	}
	shape, ok := args[0].asShape()
	if !ok {
		return value{}, lang.Errorf(c.Args[0].Pos, "param: shape %s, want a list of positive dimensions", args[0])
	}
	for _, d := range shape {
		if !d.IsConst() {
			return value{}, lang.Errorf(c.Args[0].Pos, "param: shape %v has symbolic dimension %v, want constants (a parameter's size cannot depend on the batch)", shape, d)
		}
	}
	if _, err := shape.Elements(); err != nil {
		return value{}, lang.Errorf(c.Args[0].Pos, "param: %v", err)
	}
	if err := checkInit("param", args[1].str, initPos(c)); err != nil {
		return value{}, err
	}
	o, err := l.declareParam(sc, name, shape, args[1].str, c.Pos)
	return tensorVal(o), err
}

// initPos is where param call c gives its init, named or second; the call when it does not.
func initPos(c *lang.Call) lang.Pos {
	for i, a := range c.Args {
		if a.Name == "init" || a.Name == "" && i == 1 {
			return a.Value.Pos
		}
	}
	return c.Pos
}

// declareParam makes the parameter NAME of the instance sc (full name PREFIX.NAME), or
// returns the one another instance with the same prefix made: calling a block twice at a
// family's top level, D(x) and D(G(z)), uses one set of weights, and the gradients of both
// uses add up in autodiff because both read one op.
func (l *lowerer) declareParam(sc *scope, name string, shape ir.Shape, init string, pos lang.Pos) (*ir.Op, error) {
	full := sc.prefix + "." + name
	if d, ok := l.params[full]; ok {
		if d.scope == sc {
			return nil, lang.Errorf(pos, "param: %s declared twice (first at %s); give each parameter its own name", full, shortPos(d.pos))
		}
		if !d.op.Type.Shape.Equal(shape) {
			return nil, lang.Errorf(pos, "param: %s has shape %v here and %v at %s", full, shape, d.op.Type.Shape, shortPos(d.pos))
		}
		return d.op, nil
	}
	l.setPos(pos)
	o := l.b.Param(full, ir.F32(shape), init)
	l.params[full] = declared{op: o, scope: sc, pos: pos}
	return o, nil
}

// declareState makes the training state NAME of instance sc, or returns its latest value
// when another instance with the same prefix made it.
func (l *lowerer) declareState(sc *scope, name string, shape ir.Shape, init string, pos lang.Pos) *ir.Op {
	full := sc.prefix + "." + name
	if v, ok := l.states[full]; ok {
		return v
	}
	l.setPos(pos)
	o := l.b.State(full, ir.F32(shape), init)
	l.states[full] = o
	return o
}

// updateState records v as the new value of state full (see declareState).
func (l *lowerer) updateState(full string, v *ir.Op) {
	if !slices.Contains(l.stateOrder, full) {
		l.stateOrder = append(l.stateOrder, full)
	}
	l.states[full] = v
}

func (l *lowerer) eval(sc *scope, e *lang.Expr) (value, error) { return l.evalMode(sc, e, false) }

// evalMode evaluates an expression; in dims mode an undefined name yields errUnbound.
func (l *lowerer) evalMode(sc *scope, e *lang.Expr, dims bool) (value, error) {
	acc, err := l.term(sc, e.Left, dims)
	if err != nil {
		return value{}, err
	}
	for _, r := range e.Rest {
		v, err := l.term(sc, r.Term, dims)
		if err != nil {
			return value{}, err
		}
		if acc, err = l.arith(r.Op, acc, v, r.Pos); err != nil {
			return value{}, err
		}
	}
	l.p.recordValue(e.Pos, e.EndPos, acc)
	return acc, nil
}

func (l *lowerer) term(sc *scope, t *lang.Term, dims bool) (value, error) {
	acc, err := l.unary(sc, t.Left, dims)
	if err != nil {
		return value{}, err
	}
	for _, r := range t.Rest {
		v, err := l.unary(sc, r.Unary, dims)
		if err != nil {
			return value{}, err
		}
		if acc, err = l.arith(r.Op, acc, v, r.Pos); err != nil {
			return value{}, err
		}
	}
	return acc, nil
}

func (l *lowerer) unary(sc *scope, u *lang.Unary, dims bool) (value, error) {
	v, err := l.postfixOrRef(sc, u.Postfix, dims)
	if err != nil || !u.Neg {
		return v, err
	}
	switch v.kind {
	case kInt, kFloat:
		v.num = -v.num
		return v, nil
	case kTensor:
		o, err := l.emit(u.Pos, "-", "neg", nil, v.op)
		return tensorVal(o), err
	}
	return value{}, lang.Errorf(u.Pos, "cannot negate %s", v)
}

func (l *lowerer) postfix(sc *scope, pf *lang.Postfix, dims bool) (value, error) {
	v, err := l.primary(sc, pf.Primary, dims)
	if err != nil {
		return value{}, err
	}
	for _, s := range pf.Suffix {
		r, ok, err := l.graphSuffix(sc, v, s)
		if err != nil {
			return value{}, err
		}
		if ok {
			v = r
			continue
		}
		if s.Field != "" {
			return value{}, lang.Errorf(s.Pos, "%s has no field %s", v, s.Field)
		}
		return value{}, lang.Errorf(s.Pos, "indexing a %s is not supported", v.kind)
	}
	return v, nil
}

func (l *lowerer) primary(sc *scope, pr *lang.Primary, dims bool) (value, error) {
	switch {
	case pr.Number != nil:
		return parseNumber(*pr.Number, pr.Pos)
	case pr.String != nil:
		return value{kind: kString, str: *pr.String}, nil
	case pr.Paren != nil:
		return l.evalMode(sc, pr.Paren, dims)
	case pr.List != nil:
		out := value{kind: kList}
		for _, e := range pr.List.Elems {
			v, err := l.evalMode(sc, e, dims)
			if err != nil {
				return value{}, err
			}
			out.list = append(out.list, v)
		}
		return out, nil
	case pr.Call != nil:
		if pr.Call.Func == "param" {
			return value{}, lang.Errorf(pr.Call.Pos, "param: must be assigned to a name (weight = param(...))")
		}
		return l.call(sc, pr.Call)
	}
	name := pr.Ident
	if v, ok := sc.names[name]; ok {
		return v, nil
	}
	switch name {
	case "true", "false":
		return value{kind: kBool, num: map[bool]float64{true: 1}[name == "true"]}, nil
	}
	if dims {
		return value{}, errUnbound
	}
	if b, ok := l.p.blocks[name]; ok {
		return value{kind: kBlock, block: b}, nil
	}
	if _, ok := builtins[name]; ok {
		return value{kind: kName, str: name}, nil
	}
	return value{}, lang.Errorf(pr.Pos, "undefined: %s", name)
}

func parseNumber(s string, pos lang.Pos) (value, error) {
	if !strings.ContainsAny(s, ".eE") {
		// Numbers are float64 at compile time, exact for integers up to 2^53: a larger one
		// would be rounded, and then wrap when converted back to an int.
		n, err := strconv.Atoi(s)
		if err != nil || n > 1<<53 {
			return value{}, lang.Errorf(pos, "integer %s out of range: want at most 2^53 = %d", s, 1<<53)
		}
		return intVal(n), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if errors.Is(err, strconv.ErrRange) && math.Abs(f) > 1 {
		return value{}, lang.Errorf(pos, "number %s out of range: more than float64's %g", s, math.MaxFloat64)
	}
	if err != nil {
		return value{}, lang.Errorf(pos, "bad number %s", s)
	}
	return floatVal(f), nil
}

var opKinds = map[string]string{"+": "add", "-": "sub", "*": "mul", "/": "div"}

// arith applies a binary operator: folded at compile time on numbers and dimensions, an IR
// op when either side is a tensor.
func (l *lowerer) arith(op string, a, b value, pos lang.Pos) (value, error) {
	if a.kind == kTensor || b.kind == kTensor {
		x, err := l.toTensor(a, pos)
		if err != nil {
			return value{}, err
		}
		y, err := l.toTensor(b, pos)
		if err != nil {
			return value{}, err
		}
		o, err := l.emit(pos, op, opKinds[op], nil, x, y)
		return tensorVal(o), err
	}
	if (a.kind == kInt || a.kind == kFloat) && (b.kind == kInt || b.kind == kFloat) {
		isInt := a.kind == kInt && b.kind == kInt
		var r float64
		switch op {
		case "+":
			r = a.num + b.num
		case "-":
			r = a.num - b.num
		case "*":
			r = a.num * b.num
		case "/":
			if b.num == 0 {
				return value{}, lang.Errorf(pos, "division by zero")
			}
			r = a.num / b.num
			isInt = isInt && int(a.num)%int(b.num) == 0
		}
		if math.IsInf(r, 0) || math.IsNaN(r) {
			return value{}, lang.Errorf(pos, "constant overflow: %v %s %v is %v", a, op, b, r)
		}
		if isInt {
			if math.Abs(r) > 1<<53 {
				return value{}, lang.Errorf(pos, "integer overflow: %v %s %v", a, op, b)
			}
			return intVal(int(r)), nil
		}
		return floatVal(r), nil
	}
	da, okA := a.asDim()
	db, okB := b.asDim()
	if okA && okB {
		switch op {
		case "*":
			if da.Coef > ir.MaxElements/max(db.Coef, 1) {
				return value{}, lang.Errorf(pos, "dimension overflow: %v * %v is more than 2^53", da, db)
			}
			return dimVal(da.Mul(db)), nil
		case "/":
			if q, ok := da.Div(db); ok {
				return dimVal(q), nil
			}
			return value{}, lang.Errorf(pos, "cannot divide dimension %v by %v exactly", da, db)
		}
		return value{}, lang.Errorf(pos, "cannot %s dimensions %v and %v: only * and exact / apply to symbolic dimensions", map[string]string{"+": "add", "-": "subtract"}[op], da, db)
	}
	return value{}, lang.Errorf(pos, "cannot apply %s to %s and %s", op, a, b)
}

func (l *lowerer) toTensor(v value, pos lang.Pos) (*ir.Op, error) {
	switch v.kind {
	case kTensor:
		return v.op, nil
	case kInt, kFloat:
		l.setPos(pos)
		return l.b.Const(v.num), nil
	}
	return nil, lang.Errorf(pos, "got %s, want a tensor or a number", v)
}

func bareIdent(e *lang.Expr) string {
	if len(e.Rest) > 0 || len(e.Left.Rest) > 0 || e.Left.Left.Neg || len(e.Left.Left.Postfix.Suffix) > 0 {
		return ""
	}
	return e.Left.Left.Postfix.Primary.Ident
}

func bareCall(e *lang.Expr) *lang.Call {
	if len(e.Rest) > 0 || len(e.Left.Rest) > 0 || e.Left.Left.Neg || len(e.Left.Left.Postfix.Suffix) > 0 {
		return nil
	}
	return e.Left.Left.Postfix.Primary.Call
}

func shapeString(s *lang.ShapeLit) string {
	parts := make([]string, len(s.Dims))
	for i, d := range s.Dims {
		parts[i] = exprString(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// exprString prints an expression compactly, for messages.
func exprString(e *lang.Expr) string {
	var sb strings.Builder
	var unary func(u *lang.Unary)
	var expr func(e *lang.Expr)
	unary = func(u *lang.Unary) {
		if u.Neg {
			sb.WriteString("-")
		}
		pr := u.Postfix.Primary
		switch {
		case pr.Number != nil:
			sb.WriteString(*pr.Number)
		case pr.String != nil:
			sb.WriteString(strconv.Quote(*pr.String))
		case pr.Ident != "":
			sb.WriteString(pr.Ident)
		case pr.Paren != nil:
			sb.WriteString("(")
			expr(pr.Paren)
			sb.WriteString(")")
		case pr.Call != nil:
			sb.WriteString(pr.Call.Func + "(…)")
		case pr.List != nil:
			sb.WriteString("[…]")
		}
	}
	expr = func(e *lang.Expr) {
		term := func(t *lang.Term) {
			unary(t.Left)
			for _, r := range t.Rest {
				sb.WriteString(" " + r.Op + " ")
				unary(r.Unary)
			}
		}
		term(e.Left)
		for _, r := range e.Rest {
			sb.WriteString(" " + r.Op + " ")
			term(r.Term)
		}
	}
	expr(e)
	return sb.String()
}
