package ir

import "fmt"

// Reverse-mode differentiation as an IR-to-IR transformation.
//
// Grad appends the backward graph to the same Func, so that every later pass (dead code,
// fusion, buffer reuse) sees forward and backward together. It walks the ops between the
// wanted inputs and the loss in reverse topological order, asks each op's rule (OpDef.Grad)
// for its operands' gradients given its own, and sums the contributions that reach one value
// from several users. Only ops that lie on a path from a wanted value to the loss are
// differentiated, and a rule is told which operands need a gradient, so no dead work is
// emitted for data inputs. First derivatives only: gradient helpers have no rules.

// Grad appends to f the gradient of the scalar loss with respect to each op in wrt and
// returns them in order. A wrt op that the loss does not depend on gets a zero gradient.
func Grad(f *Func, loss *Op, wrt []*Op) ([]*Op, error) {
	if len(loss.Type.Shape) != 0 {
		return nil, fmt.Errorf("grad: loss has shape %v, want a scalar", loss.Type.Shape)
	}
	index := map[*Op]int{}
	for i, o := range f.Ops {
		index[o] = i
	}
	if _, ok := index[loss]; !ok {
		return nil, fmt.Errorf("grad: loss is not in func %s", f.Name)
	}
	// active: depends on some wrt op. relevant: the loss depends on it.
	active := map[*Op]bool{}
	for _, w := range wrt {
		if w.Type.DType != DTypeF32 {
			return nil, fmt.Errorf("grad: %s has type %s: only f32 values have gradients", opLabel(w), formatType(w.Type))
		}
		active[w] = true
	}
	for _, o := range f.Ops {
		for _, a := range o.Args {
			if active[a] {
				active[o] = true
				break
			}
		}
	}
	relevant := map[*Op]bool{loss: true}
	for i := index[loss]; i >= 0; i-- {
		o := f.Ops[i]
		if !relevant[o] {
			continue
		}
		for _, a := range o.Args {
			relevant[a] = true
		}
	}

	b := NewBuilder(f)
	grads := map[*Op]*Op{}
	b.Pos = loss.Pos
	grads[loss] = b.Const(1)
	for i := index[loss]; i >= 0; i-- {
		o := f.Ops[i]
		dy := grads[o]
		if dy == nil || !active[o] || len(o.Args) == 0 {
			continue
		}
		d, _ := Lookup(o.Kind)
		if d.Grad == nil {
			if d.NoGrad {
				continue
			}
			return nil, fmt.Errorf("%s: grad: no gradient rule for op %s", o.Pos, o.Kind)
		}
		need := make([]bool, len(o.Args))
		anyNeed := false
		for j, a := range o.Args {
			need[j] = active[a] && relevant[a]
			anyNeed = anyNeed || need[j]
		}
		if !anyNeed {
			continue
		}
		b.Pos = o.Pos
		gs := d.Grad(b, o, dy, need)
		if b.Err != nil {
			return nil, fmt.Errorf("%s: grad of %s: %w", o.Pos, o.Kind, b.Err)
		}
		for j, a := range o.Args {
			if !need[j] || gs[j] == nil {
				continue
			}
			if !gs[j].Type.Shape.Equal(a.Type.Shape) {
				return nil, fmt.Errorf("%s: grad of %s: gradient of operand %d has shape %v, want %v", o.Pos, o.Kind, j, gs[j].Type.Shape, a.Type.Shape)
			}
			if prev := grads[a]; prev != nil {
				grads[a] = b.Op("add", nil, prev, gs[j])
			} else {
				grads[a] = gs[j]
			}
		}
	}
	out := make([]*Op, len(wrt))
	for i, w := range wrt {
		g := grads[w]
		if g == nil { // the loss does not depend on w
			b.Pos = w.Pos
			g = b.Op("broadcast_like", nil, b.Const(0), w)
		}
		out[i] = g
	}
	if b.Err != nil {
		return nil, fmt.Errorf("grad: %w", b.Err)
	}
	return out, nil
}
