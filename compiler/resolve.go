package compiler

import (
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// Resolve checks, for every block of the main file and its imports, that each name is
// defined where it is used: a call names a builtin or a block; a variable is a parameter, a
// dimension of the signature or a local assigned earlier. An undefined name gets the nearest
// defined one as a suggestion. Shapes in a signature may introduce new dimension names.
func (p *Program) Resolve() error {
	for _, f := range p.Files {
		for _, d := range f.Decls {
			if d.Block != nil && !p.std[d.Block] {
				if err := p.resolveBlock(d.Block); err != nil {
					return err
				}
			}
			if d.Family != nil {
				// A block a family setting calls (input = shrink(x)) is a helper, checked
				// through that call, like a block another block calls.
				for _, s := range d.Family.Settings {
					walkCalls(s.Value, func(name string) {
						if _, ok := p.blocks[name]; ok {
							p.called[name] = true
						}
					})
				}
			}
		}
	}
	return nil
}

type resolver struct {
	p     *Program
	names map[string]bool
}

func (p *Program) resolveBlock(b *lang.Block) error {
	r := &resolver{p: p, names: map[string]bool{}}
	for _, prm := range b.Params {
		if r.names[prm.Name] {
			return lang.Errorf(prm.Pos, "%s: parameter %s declared twice", b.Name, prm.Name)
		}
		r.names[prm.Name] = true
	}
	// Dimension names in the signature are in scope in the body.
	for _, prm := range b.Params {
		r.bindShapeNames(prm.Type)
		if prm.Default != nil {
			if err := r.expr(prm.Default); err != nil {
				return err
			}
		}
	}
	for _, t := range b.Result.Types() {
		r.bindShapeNames(t)
	}
	returned := false
	for _, s := range b.Body {
		if returned {
			return lang.Errorf(s.Pos, "%s: statement after return", b.Name)
		}
		switch {
		case s.Return != nil:
			for _, e := range s.Return {
				if err := r.expr(e); err != nil {
					return err
				}
			}
			returned = true
		case s.Unpack != nil:
			if err := r.expr(s.Unpack.Value); err != nil {
				return err
			}
			seen := map[string]bool{}
			for _, n := range s.Unpack.Names {
				if seen[n] {
					return lang.Errorf(s.Pos, "%s: %s named twice in one assignment", b.Name, n)
				}
				seen[n] = true
				r.names[n] = true
			}
		case s.Assign != nil:
			word := b.Kind == "layer" && (s.Assign.Name == "aggregate" || s.Assign.Name == "normalize")
			if !word { // a layer's aggregate and normalize name a method, not a value
				if err := r.expr(s.Assign.Value); err != nil {
					return err
				}
			}
			r.names[s.Assign.Name] = true
			if b.Kind == "layer" && s.Assign.Name == "aggregate" {
				r.names["aggregated"] = true
			}
		}
	}
	if !returned && b.Kind != "layer" {
		return lang.Errorf(b.EndPos, "%s: missing return", b.Name)
	}
	return nil
}

func (r *resolver) bindShapeNames(t *lang.TypeExpr) {
	if t == nil || t.Shape == nil {
		return
	}
	for _, d := range t.Shape.Dims {
		walkIdents(d, func(name string, _ lang.Pos) { r.names[name] = true })
	}
}

func walkIdents(e *lang.Expr, fn func(string, lang.Pos)) {
	var unary func(u *lang.Unary)
	unary = func(u *lang.Unary) {
		pr := u.Postfix.Primary
		switch {
		case pr.Ident != "":
			fn(pr.Ident, pr.Pos)
		case pr.Paren != nil:
			walkIdents(pr.Paren, fn)
		}
	}
	for _, t := range append([]*lang.Term{e.Left}, terms(e)...) {
		unary(t.Left)
		for _, r := range t.Rest {
			unary(r.Unary)
		}
	}
}

// walkCalls calls fn with the name of every call in e, nested ones included.
func walkCalls(e *lang.Expr, fn func(string)) {
	var unary func(u *lang.Unary)
	unary = func(u *lang.Unary) {
		pr := u.Postfix.Primary
		switch {
		case pr.Call != nil:
			fn(pr.Call.Func)
			for _, a := range pr.Call.Args {
				walkCalls(a.Value, fn)
			}
		case pr.Paren != nil:
			walkCalls(pr.Paren, fn)
		case pr.List != nil:
			for _, x := range pr.List.Elems {
				walkCalls(x, fn)
			}
		}
	}
	for _, t := range append([]*lang.Term{e.Left}, terms(e)...) {
		unary(t.Left)
		for _, r := range t.Rest {
			unary(r.Unary)
		}
	}
}

func terms(e *lang.Expr) []*lang.Term {
	out := make([]*lang.Term, len(e.Rest))
	for i, r := range e.Rest {
		out[i] = r.Term
	}
	return out
}

func (r *resolver) expr(e *lang.Expr) error {
	for _, t := range append([]*lang.Term{e.Left}, terms(e)...) {
		if err := r.unary(t.Left); err != nil {
			return err
		}
		for _, o := range t.Rest {
			if err := r.unary(o.Unary); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *resolver) unary(u *lang.Unary) error {
	pr := u.Postfix.Primary
	switch {
	case pr.Ident != "":
		if !r.names[pr.Ident] && !r.global(pr.Ident) {
			return r.undefined(pr.Ident, pr.Pos)
		}
	case pr.Call != nil:
		if r.names[pr.Call.Func] && !r.global(pr.Call.Func) {
			return lang.Errorf(pr.Call.Pos, "%s is a value, not a block or an op: it cannot be called", pr.Call.Func)
		}
		if !r.global(pr.Call.Func) {
			return r.undefined(pr.Call.Func, pr.Call.Pos)
		}
		r.p.called[pr.Call.Func] = true
		for _, a := range pr.Call.Args {
			if err := r.expr(a.Value); err != nil {
				return err
			}
		}
	case pr.List != nil:
		for _, e := range pr.List.Elems {
			if err := r.expr(e); err != nil {
				return err
			}
		}
	case pr.Paren != nil:
		return r.expr(pr.Paren)
	}
	for _, s := range u.Postfix.Suffix {
		if s.Index != nil {
			if err := r.expr(s.Index); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *resolver) global(name string) bool {
	if name == "true" || name == "false" {
		return true
	}
	if _, ok := builtins[name]; ok {
		return true
	}
	_, ok := r.p.blocks[name]
	return ok
}

func (r *resolver) undefined(name string, pos lang.Pos) error {
	var cands []string
	for n := range r.names {
		cands = append(cands, n)
	}
	for n := range builtins {
		cands = append(cands, n)
	}
	for n := range r.p.blocks {
		cands = append(cands, n)
	}
	if s := nearest(name, cands); s != "" {
		return lang.Errorf(pos, "undefined: %s (did you mean %s?)", name, s)
	}
	return lang.Errorf(pos, "undefined: %s", name)
}

// nearest returns the candidate closest to name, if it is a likely typo.
func nearest(name string, cands []string) string { return ir.Nearest(name, cands) }
