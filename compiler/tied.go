package compiler

import (
	"sort"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// A parameter of another block is named by its full name, Block.path.name (Enc.dense0.weight,
// as `dlc params` lists it): a tied decoder writes
//
//	return sigmoid(matmul(h, transpose(Enc.dense0.weight)) + b)
//
// The reference is the same IR param as the one the owner declares in the same function,
// whichever comes first, so the parameter is stored and counted once and the gradients of
// both uses add up in autodiff. Where the owner does not run (the decoder's own function,
// AE.decode) the reference declares the parameter itself, with the shape and initialiser
// its owner gives it, which the compiler learns by lowering the owner alone.

// paramRef resolves the reference block.fields… written at pos.
func (l *lowerer) paramRef(b *lang.Block, fields []string, pos lang.Pos) (value, error) {
	full := b.Name + "." + strings.Join(fields, ".")
	if d, ok := l.params[full]; ok {
		return tensorVal(d.op), nil
	}
	decls, err := l.p.paramsOf(b, pos)
	if err != nil {
		return value{}, err
	}
	o, ok := decls[full]
	if !ok {
		names := make([]string, 0, len(decls))
		for n := range decls {
			names = append(names, n)
		}
		sort.Strings(names)
		if s := nearest(full, names); s != "" {
			return value{}, lang.Errorf(pos, "%s has no parameter %s (did you mean %s?)", b.Name, full, s)
		}
		return value{}, lang.Errorf(pos, "%s has no parameter %s (it has %s)", b.Name, full, strings.Join(names, ", "))
	}
	l.setPos(pos)
	p := l.b.Param(full, o.Type, o.Attrs.String("init"))
	l.params[full] = declared{op: p, pos: pos}
	return tensorVal(p), nil
}

// paramsOf lowers block b alone, once, and returns its parameters by full name.
func (p *Program) paramsOf(b *lang.Block, at lang.Pos) (map[string]*ir.Op, error) {
	if d, ok := p.blockParams[b]; ok {
		if d == nil {
			return nil, lang.Errorf(at, "%s: its parameters refer to each other in a cycle", b.Name)
		}
		return d, nil
	}
	if p.blockParams == nil {
		p.blockParams = map[*lang.Block]map[string]*ir.Op{}
	}
	p.blockParams[b] = nil // in progress
	streams := p.streams
	f, ok, err := p.entry(b)
	p.streams = streams // a draw in b must not renumber the module's streams
	if err != nil {
		delete(p.blockParams, b)
		return nil, err
	}
	if !ok {
		delete(p.blockParams, b)
		return nil, lang.Errorf(at, "%s: its parameters are known only when it can run alone, and hyperparameter %s has no default", b.Name, firstWithoutDefault(b))
	}
	d := map[string]*ir.Op{}
	for _, o := range f.Params() {
		d[o.Attrs.String("name")] = o
	}
	p.blockParams[b] = d
	return d, nil
}

// postfixOrRef lowers a postfix expression, or the reference Block.path.name to another
// block's parameter when its primary names a block (not a local) and every suffix is a
// field.
func (l *lowerer) postfixOrRef(sc *scope, pf *lang.Postfix, dims bool) (value, error) {
	if name := pf.Primary.Ident; !dims && name != "" && len(pf.Suffix) > 0 {
		if _, local := sc.names[name]; !local {
			if b, ok := l.p.blocks[name]; ok {
				if fields, ok := fieldPath(pf.Suffix); ok {
					return l.paramRef(b, fields, pf.Primary.Pos)
				}
			}
		}
	}
	return l.postfix(sc, pf, dims)
}

// fieldPath returns the names of suffixes that are all fields (.dense0.weight).
func fieldPath(suffixes []*lang.Suffix) ([]string, bool) {
	fields := make([]string, len(suffixes))
	for i, s := range suffixes {
		if s.Field == "" {
			return nil, false
		}
		fields[i] = s.Field
	}
	return fields, true
}
