package ir

// Monomial arithmetic on dimensions: exact division and solving for one symbol. The
// compiler uses them to bind a dimension written as an expression of a free name
// ([2 * F] against 12 gives F = 6), the runtime to bind a symbol from a concrete size
// ([B * T] against 48 with T = 3 gives B = 16): the same question at two phases, answered
// here once.

// Div returns d / e when the quotient is a monomial with an integer coefficient: e's
// coefficient divides d's and each of e's symbols occurs in d.
func (d Dim) Div(e Dim) (Dim, bool) {
	if e.Coef == 0 || d.Coef%e.Coef != 0 {
		return Dim{}, false
	}
	rest := append([]string{}, d.Syms...)
	for _, s := range e.Syms {
		found := false
		for i, r := range rest {
			if r == s {
				rest = append(rest[:i], rest[i+1:]...)
				found = true
				break
			}
		}
		if !found {
			return Dim{}, false
		}
	}
	if len(rest) == 0 {
		rest = nil
	}
	return Dim{Coef: d.Coef / e.Coef, Syms: rest}, true
}

// Subst returns d with every symbol bound in env replaced by its value.
func (d Dim) Subst(env map[string]int) Dim {
	out := Dim{Coef: d.Coef}
	for _, s := range d.Syms {
		if v, ok := env[s]; ok {
			out.Coef *= v
		} else {
			out.Syms = append(out.Syms, s)
		}
	}
	return out
}

// Solve returns the value of sym that makes d equal target, when sym occurs in d exactly
// once and target divides exactly by the rest of d. A rest with a zero or negative
// coefficient never solves.
func (d Dim) Solve(sym string, target Dim) (Dim, bool) {
	rest := Dim{Coef: d.Coef}
	n := 0
	for _, s := range d.Syms {
		if s == sym {
			n++
		} else {
			rest.Syms = append(rest.Syms, s)
		}
	}
	if n != 1 || rest.Coef <= 0 {
		return Dim{}, false
	}
	return target.Div(rest)
}
