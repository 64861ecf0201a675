package compiler

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dlc-lang/dlc/lang"
)

// bparam describes one parameter of a builtin.
type bparam struct {
	name     string
	kind     kind
	def      func() value // nil: required
	variadic bool         // collects every remaining positional tensor
	number   bool         // a tensor parameter that also takes a number (a loss's target)
}

func strDefault(s string) func() value { return func() value { return value{kind: kString, str: s} } }
func intDefault(n int) func() value    { return func() value { return intVal(n) } }
func floatDefault(f float64) func() value {
	return func() value { return floatVal(f) }
}
func noneDefault() value { return value{kind: kList} }

// call lowers a call of a builtin or of a block.
func (l *lowerer) call(sc *scope, c *lang.Call) (value, error) {
	if bi, ok := builtins[c.Func]; ok {
		args, err := l.bindArgs(sc, c.Func, c, bi.params)
		if err != nil {
			return value{}, err
		}
		// A builtin that numbers its instance (batchnorm0) declares parameters: the
		// summary lists it as it lists a block's call.
		sc, before := l.sc, 0
		if sc != nil {
			before = sc.counts[c.Func]
		}
		v, err := bi.lower(l, c, args)
		if err == nil && sc != nil && sc.counts[c.Func] > before {
			l.p.recordCall(blockCall{instance: sc.prefix + "." + c.Func + strconv.Itoa(before), parent: sc.prefix, block: c.Func, pos: c.Pos}, v)
		}
		return v, err
	}
	b, ok := l.p.blocks[c.Func]
	if !ok {
		return value{}, lang.Errorf(c.Pos, "undefined: %s", c.Func)
	}
	rets, err := l.instantiate(sc, b, c)
	if err != nil {
		return value{}, err
	}
	if len(rets) != 1 {
		return value{}, lang.Errorf(c.Pos, "%s returns %d values; a call used as a value must return one", b.Name, len(rets))
	}
	return rets[0], nil
}

// slot is one parameter as argument matching sees it: its name, whether it collects every
// remaining positional argument, and whether a positional argument it cannot take (not a
// tensor) moves on to the next parameter.
type slot struct {
	name     string
	variadic bool
}

// matchArgs assigns the arguments of call c to the parameters of fn: named arguments by
// name, positional ones in order to the parameters not yet given. A variadic parameter
// takes every positional tensor argument; a positional argument that is not a tensor moves
// past it to the next parameter (concat(a, b, -1) is not allowed, but concat(a, b, axis: 1)
// is). It returns, per parameter, its arguments and their values, evaluated in sc; this is
// the one place both builtins and blocks bind their calls.
func (l *lowerer) matchArgs(sc *scope, fn string, c *lang.Call, params []slot) ([][]*lang.Arg, [][]value, error) {
	args := make([][]*lang.Arg, len(params))
	vals := make([][]value, len(params))
	next := 0
	for _, a := range c.Args {
		v, err := l.eval(sc, a.Value)
		if err != nil {
			return nil, nil, err
		}
		i := -1
		if a.Name != "" {
			for j, p := range params {
				if p.name == a.Name {
					i = j
				}
			}
			if i < 0 {
				return nil, nil, lang.Errorf(a.Pos, "%s: unknown argument %s (want %s)", fn, a.Name, slotNames(params))
			}
		} else {
			for next < len(params) && args[next] != nil && !params[next].variadic {
				next++
			}
			if next < len(params) && params[next].variadic && v.kind != kTensor && next+1 < len(params) && args[next+1] == nil {
				next++
			}
			if next >= len(params) {
				return nil, nil, lang.Errorf(a.Pos, "%s: too many arguments (want %s)", fn, slotNames(params))
			}
			i = next
		}
		if args[i] != nil && !params[i].variadic {
			return nil, nil, lang.Errorf(a.Pos, "%s: argument %s given twice", fn, params[i].name)
		}
		args[i] = append(args[i], a)
		vals[i] = append(vals[i], v)
	}
	return args, vals, nil
}

func slotNames(ps []slot) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.name
	}
	return strings.Join(names, ", ")
}

// bindArgs evaluates a builtin call's arguments, matches them to its parameters, converts
// each to the parameter's kind and fills in defaults.
func (l *lowerer) bindArgs(sc *scope, fn string, c *lang.Call, params []bparam) ([]value, error) {
	slots := make([]slot, len(params))
	for i, p := range params {
		slots[i] = slot{name: p.name, variadic: p.variadic}
	}
	args, vals, err := l.matchArgs(sc, fn, c, slots)
	if err != nil {
		return nil, err
	}
	out := make([]value, len(params))
	for i, p := range params {
		switch {
		case p.variadic:
			out[i].kind = kList
			for j, v := range vals[i] {
				if v.kind != kTensor {
					return nil, lang.Errorf(args[i][j].Pos, "%s: argument %s is %s, want a tensor", fn, p.name, v)
				}
				out[i].list = append(out[i].list, v)
			}
		case args[i] != nil && p.number && (vals[i][0].kind == kInt || vals[i][0].kind == kFloat):
			out[i] = floatVal(vals[i][0].num) // the caller broadcasts it
		case args[i] != nil:
			v, err := coerce(vals[i][0], p.kind)
			if err != nil {
				return nil, lang.Errorf(args[i][0].Value.Pos, "%s: argument %s is %v, want %s", fn, p.name, describe(vals[i][0]), p.kind)
			}
			out[i] = v
		case p.def == nil:
			return nil, lang.Errorf(c.Pos, "%s: missing argument %s", fn, p.name)
		default:
			out[i] = p.def()
		}
	}
	return out, nil
}

func describe(v value) string {
	if v.kind == kTensor {
		return "a tensor " + v.op.Type.Shape.String()
	}
	return v.String()
}

// coerce converts a value to the kind a parameter wants, when that is lossless.
func coerce(v value, want kind) (value, error) {
	switch {
	case v.kind == want:
		return v, nil
	case want == kFloat && v.kind == kInt:
		return floatVal(v.num), nil
	case want == kList && (v.kind == kInt || v.kind == kDim):
		return value{kind: kList, list: []value{v}}, nil
	case want == kInt && v.kind == kDim && v.dim.IsConst():
		return intVal(v.dim.Coef), nil
	}
	return v, fmt.Errorf("mismatch")
}

// instantiate lowers one call of a block: binds arguments to parameters (unifying tensor
// shapes), lowers the body in a fresh scope and returns the block's results.
func (l *lowerer) instantiate(caller *scope, b *lang.Block, c *lang.Call) ([]value, error) {
	if l.depth >= maxDepth {
		return nil, lang.Errorf(c.Pos, "%s: calls nest deeper than %d (recursive block?)", b.Name, maxDepth)
	}
	slots := make([]slot, len(b.Params))
	for i, p := range b.Params {
		slots[i] = slot{name: p.Name}
	}
	args, vs, err := l.matchArgs(caller, b.Name, c, slots)
	if err != nil {
		return nil, err
	}
	given := make([]*lang.Arg, len(b.Params))
	vals := make([]value, len(b.Params))
	for i := range args {
		if args[i] != nil {
			given[i], vals[i] = args[i][0], vs[i][0]
		}
	}
	sc := newScope(caller.instance(b.Name), b.Pos.Filename)
	if l.p.std[b] && l.stdPos == nil {
		pos := c.Pos
		l.stdPos = &pos
		defer func() { l.stdPos = nil }()
	}
	// Hyperparameters first, so that shapes can use them; then tensors, unified in order.
	for pass := 0; pass < 2; pass++ {
		for i, prm := range b.Params {
			isTensor := prm.Type.Shape != nil
			if isTensor != (pass == 1) {
				continue
			}
			v, at := vals[i], c.Pos
			if given[i] != nil {
				at = given[i].Value.Pos
			} else if prm.Default != nil {
				var err error
				if v, err = l.eval(sc, prm.Default); err != nil {
					return nil, err
				}
			} else {
				return nil, lang.Errorf(c.Pos, "%s: missing argument %s", b.Name, prm.Name)
			}
			if isGraphType(prm.Type) {
				var err error
				if v, err = l.checkGraphArg(sc, prm, v, b.Name, at); err != nil {
					return nil, err
				}
			} else if isTensor {
				if v.kind != kTensor {
					return nil, lang.Errorf(at, "%s: argument %s is %s, want a tensor %s", b.Name, prm.Name, v, shapeString(prm.Type.Shape))
				}
				if err := l.unify(sc, prm.Type.Shape, v.op.Type.Shape, b.Name+": "+prm.Name, at); err != nil {
					return nil, err
				}
			} else {
				var err error
				if v, err = l.checkKind(prm, v, b.Name, at); err != nil {
					return nil, err
				}
			}
			sc.names[prm.Name] = v
		}
	}
	l.depth++
	defer func() { l.depth-- }()
	rets, err := l.body(b, sc)
	if err == nil {
		l.p.recordCall(blockCall{instance: sc.prefix, parent: caller.prefix, block: b.Name, open: !l.p.std[b], pos: c.Pos}, rets...)
	}
	if err != nil && l.p.std[b] {
		// A failure inside a standard block is reported at the user's call.
		if le, ok := err.(*lang.Error); ok && l.stdPos != nil && le.Pos.Filename != c.Pos.Filename {
			return nil, lang.Errorf(*l.stdPos, "%s", le.Msg)
		}
	}
	return rets, err
}

// instance names the next call of block in scope sc: its parameters' prefix, Enc.dense0
// for the first dense of Enc, or the block's own name for a network a phase calls.
func (sc *scope) instance(block string) string {
	idx := sc.counts[block]
	sc.counts[block]++
	if sc.top {
		return block
	}
	return fmt.Sprintf("%s.%s%d", sc.prefix, block, idx)
}

// checkKind checks a hyperparameter value against its declared scalar type.
func (l *lowerer) checkKind(prm *lang.Param, v value, block string, at lang.Pos) (value, error) {
	want := map[string]kind{"int": kInt, "float": kFloat, "string": kString, "bool": kBool, "shape": kList}
	k, ok := want[prm.Type.Named]
	if !ok {
		if blk, isBlock := l.p.blocks[prm.Type.Named]; isBlock {
			if v.kind != kBlock || v.block != blk {
				return v, lang.Errorf(at, "%s: argument %s is %s, want block %s", block, prm.Name, v, prm.Type.Named)
			}
			return v, nil
		}
		return v, lang.Errorf(prm.Type.Pos, "%s: unknown type %s (want a shape such as [B, 784], int, float, string, bool, shape or a block name)", block, prm.Type.Named)
	}
	cv, err := coerce(v, k)
	if err != nil {
		return v, lang.Errorf(at, "%s: argument %s is %s, want %s", block, prm.Name, describe(v), prm.Type.Named)
	}
	if k == kList {
		if _, ok := cv.asShape(); !ok {
			return v, lang.Errorf(at, "%s: argument %s is %s, want a shape", block, prm.Name, v)
		}
	}
	return cv, nil
}
