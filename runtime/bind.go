package runtime

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dlc-lang/dlc/ir"
)

// Binding symbolic dimensions.
//
// A dimension is a monomial c·S1·S2…, so one concrete size rarely determines a symbol on its
// own: [B*T] says nothing about B until another input pins T. BindSymbols therefore solves
// to a fixed point over all inputs together: any dimension with exactly one unbound symbol
// occurrence determines that symbol (its size divided by the rest of the monomial, which
// must divide it exactly). Afterwards every dimension is checked against its size; one that
// disagrees, or still has an unbound symbol, is reported against its input.

// checkInput reports an input tensor that does not hold as many values as its shape, or
// that has the wrong dtype: an i32 input (edge endpoints, graph ids) wants a tensor made by
// FromInts, an f32 one a tensor of float32s. Its symbolic dimensions (E, N, G) are then bound
// like any other's.
func checkInput(name, dtype string, t *Tensor) error {
	switch {
	case t == nil:
		return fmt.Errorf("runtime: input %s: nil tensor", name)
	case t.DType() != dtype && t.Size() > 0:
		return fmt.Errorf("runtime: input %s: got an %s tensor, want %s", name, t.DType(), dtype)
	case !t.validAs(dtype):
		return fmt.Errorf("runtime: input %s: shape %s does not hold %d elements", name, ShapeString(t.Shape), t.Size())
	}
	return nil
}

// BindSymbols extends env from the declared shapes and the concrete shapes of the inputs.
// It reports nothing itself (a Run's checkInput does), so a caller that holds only some of
// a function's inputs may bind the symbols those give.
func BindSymbols(env map[string]int, want []ir.Shape, got [][]int) {
	for progress := true; progress; {
		progress = false
		for i, s := range want {
			if len(s) != len(got[i]) {
				continue
			}
			for j, d := range s {
				if solveDim(env, d, got[i][j]) {
					progress = true
				}
			}
		}
	}
}

// solveDim binds the one unbound symbol of d, if there is exactly one occurrence, so that d
// equals size. It reports whether it bound one.
func solveDim(env map[string]int, d ir.Dim, size int) bool {
	rest := d.Subst(env)
	if len(rest.Syms) != 1 {
		return false
	}
	v, ok := rest.Solve(rest.Syms[0], ir.Const(size))
	if !ok || !v.IsConst() {
		return false
	}
	env[rest.Syms[0]] = v.Coef
	return true
}

// matchShape reports whether the concrete shape got is want under env.
func matchShape(env map[string]int, want ir.Shape, got []int) bool {
	if len(want) != len(got) {
		return false
	}
	for i, d := range want {
		v, err := d.Eval(env)
		if err != nil || v != got[i] {
			return false
		}
	}
	return true
}

// shapeMismatch describes an input whose shape does not fit its declaration. When the
// input would fit on its own, the conflict is with bindings made by other inputs, and
// those are named.
func shapeMismatch(what string, env map[string]int, want ir.Shape, got []int) error {
	msg := fmt.Sprintf("runtime: %s: got %s, want %v", what, ShapeString(got), want)
	alone := map[string]int{}
	BindSymbols(alone, []ir.Shape{want}, [][]int{got})
	if !matchShape(alone, want, got) {
		return fmt.Errorf("%s", msg)
	}
	var binds []string
	seen := map[string]bool{}
	for _, d := range want {
		for _, s := range d.Syms {
			if v, ok := env[s]; ok && !seen[s] {
				seen[s] = true
				binds = append(binds, fmt.Sprintf("%s = %d", s, v))
			}
		}
	}
	sort.Strings(binds)
	return fmt.Errorf("%s with %s", msg, strings.Join(binds, ", "))
}
