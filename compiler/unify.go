package compiler

import (
	"errors"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// Shape unification.
//
// Every tensor parameter of a block declares its shape, and every call checks the actual
// shape against it. A declared dimension is an expression: a constant (784), a name (B, F),
// or arithmetic over names and constants (2 * F, H / 2, C * H * W). An actual dimension is
// an ir.Dim, a monomial c·S1·S2… over the entry function's symbolic dimensions, so that [B,
// 784] and [B*T, 16] are both exact. Unification walks the declared dimensions left to
// right and, for each one:
//
//   - a bare name not yet in scope is bound to the actual dimension (F := 784, B := B): the
//     first occurrence of a name defines it, later ones are checked against it;
//   - an expression whose names are all bound is evaluated, folding constants and
//     multiplying monomials, and must equal the actual dimension exactly (monomials are
//     kept in a normal form, sorted symbols and a coefficient, so equality is structural);
//   - an expression with exactly one unbound name is solved for it when the name occurs
//     once, as a factor: the expression is evaluated with the name standing for a fresh
//     marker symbol, and ir.Dim.Solve divides the actual dimension by the rest (2 * F
//     against 12 gives F := 6; C * 4 against 4·B gives C := B). The quotient must be an
//     exact monomial, or the dimension is not solvable this way;
//   - anything else waits: it is retried after the others, since a later dimension may bind
//     the name it needs ([2 * F, F] binds F from the second). When a whole round binds
//     nothing, the first waiting dimension is reported: "cannot infer dimension H / 2".
//
// Addition and subtraction of symbolic dimensions are refused at evaluation (B + 1 is not a
// monomial), so every dimension the compiler ever holds stays a monomial, and the shape
// rules of the IR can compare them with Dim.Equal. The runtime binds the same monomials to
// concrete sizes with the same solver (runtime/bind.go), once per run.

// errUnbound marks an expression that names a dimension not bound yet; unify retries it.
var errUnbound = errors.New("unbound dimension")

// unify matches a declared shape (in the callee's scope) against an actual one, binding the
// declared shape's free dimension names. A dimension written as an expression of names not
// yet bound (2 * F) is retried once the others are bound.
func (l *lowerer) unify(sc *scope, pat *lang.ShapeLit, got ir.Shape, what string, pos lang.Pos) error {
	want := shapeString(pat)
	if len(pat.Dims) != len(got) {
		return lang.Errorf(pos, "%s: got %v, want rank %d %s", what, got, len(pat.Dims), want)
	}
	pending := make([]int, 0, len(got))
	for i := range got {
		pending = append(pending, i)
	}
	for len(pending) > 0 {
		var next []int
		for _, i := range pending {
			e := pat.Dims[i]
			if id := bareIdent(e); id != "" {
				if _, ok := sc.names[id]; !ok {
					sc.names[id] = dimVal(got[i])
					continue
				}
			}
			v, err := l.evalMode(sc, e, true)
			if errors.Is(err, errUnbound) {
				if l.solve(sc, e, got[i]) {
					continue
				}
				next = append(next, i)
				continue
			}
			if err != nil {
				return err
			}
			d, ok := v.asDim()
			if !ok {
				return lang.Errorf(e.Pos, "%s: dimension %s is %s, want an int or a dimension", what, exprString(e), v)
			}
			if !d.Equal(got[i]) {
				return lang.Errorf(pos, "%s: got %v, want %s (dimension %d is %v, want %v)", what, got, want, i, got[i], d)
			}
		}
		if len(next) == len(pending) {
			return lang.Errorf(pat.Dims[next[0]].Pos, "%s: cannot infer dimension %s from %v", what, exprString(pat.Dims[next[0]]), got)
		}
		pending = next
	}
	return nil
}

// solve binds the one unbound name of a dimension expression that is a monomial in it
// (2 * F = 12 gives F = 6) and reports whether it did.
func (l *lowerer) solve(sc *scope, e *lang.Expr, got ir.Dim) bool {
	var free []string
	walkIdents(e, func(name string, _ lang.Pos) {
		if _, ok := sc.names[name]; !ok {
			free = append(free, name)
		}
	})
	if len(free) != 1 {
		return false
	}
	name, marker := free[0], "?"+free[0]
	sc.names[name] = dimVal(ir.Sym(marker))
	v, err := l.evalMode(sc, e, true)
	delete(sc.names, name)
	d, ok := v.asDim()
	if err != nil || !ok {
		return false
	}
	q, ok := d.Solve(marker, got)
	if !ok {
		return false
	}
	sc.names[name] = dimVal(q)
	return true
}
