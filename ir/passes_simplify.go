package ir

// SimplifyRules are algebraic identities and common-subexpression elimination. They matter
// most after autodiff, which seeds the backward pass with the constant 1, multiplies by it,
// and emits one count op and one constant per mean or square it differentiates.
var SimplifyRules = []Rule{
	{Name: "cse", Rewrite: cse},
	{Name: "mul-one", Kinds: []string{"mul"}, Rewrite: func(r *Rewriter, o *Op) *Op {
		return dropIdentity(o, 1, true)
	}},
	{Name: "div-one", Kinds: []string{"div"}, Rewrite: func(r *Rewriter, o *Op) *Op {
		return dropIdentity(o, 1, false)
	}},
	{Name: "add-zero", Kinds: []string{"add"}, Rewrite: func(r *Rewriter, o *Op) *Op {
		return dropIdentity(o, 0, true)
	}},
	{Name: "sub-zero", Kinds: []string{"sub"}, Rewrite: func(r *Rewriter, o *Op) *Op {
		return dropIdentity(o, 0, false)
	}},
	{Name: "neg-neg", Kinds: []string{"neg"}, Rewrite: func(r *Rewriter, o *Op) *Op {
		if x := o.Args[0]; x.Kind == "neg" {
			return x.Args[0]
		}
		return nil
	}},
	{Name: "reshape-same", Kinds: []string{"reshape"}, Rewrite: func(r *Rewriter, o *Op) *Op {
		if x := o.Args[0]; x.Type.Shape.Equal(o.Type.Shape) {
			return x
		}
		return nil
	}},
	{Name: "reshape-reshape", Kinds: []string{"reshape"}, Rewrite: func(r *Rewriter, o *Op) *Op {
		if x := o.Args[0]; x.Kind == "reshape" {
			return r.Op("reshape", Attrs{"shape": o.Type.Shape}, x.Args[0])
		}
		return nil
	}},
	{Name: "broadcast-scalar", Kinds: []string{"add", "sub", "mul", "div"}, Rewrite: sinkScalarBroadcast},
	{Name: "bce-sigmoid", Kinds: []string{"bce"}, Rewrite: bceOfSigmoid},
}

// cse replaces o by an earlier op that computes the same value. Inputs are never merged
// (each is its own argument of the func), nor are impure ops: two draws of the same
// distribution are two different values.
func cse(r *Rewriter, o *Op) *Op {
	if d, _ := Lookup(o.Kind); o.Kind == "input" || d == nil || d.Impure {
		return nil
	}
	return r.Seen(o)
}

// isConst reports whether o is the scalar constant v.
func isConst(o *Op, v float64) bool {
	if o.Kind != "const" {
		return false
	}
	switch x := o.Attrs["value"].(type) {
	case float64:
		return x == v
	case int:
		return float64(x) == v
	}
	return false
}

// dropIdentity returns the operand of a binary op whose other operand is the identity
// constant e (on the right, or on either side when the op commutes), provided dropping the
// op does not change the result's shape: x·1 has x's shape, but 1·x with a broadcasting 1
// would not, and a constant is a scalar, so that only fails for a scalar x.
func dropIdentity(o *Op, e float64, commutes bool) *Op {
	x, c := o.Args[0], o.Args[1]
	if !isConst(c, e) && commutes && isConst(x, e) {
		x, c = c, x
	}
	if !isConst(c, e) || !x.Type.Shape.Equal(o.Type.Shape) {
		return nil
	}
	return x
}

// bceOfSigmoid rewrites bce(sigmoid(z), t) to the stable bce_logits(z, t) when every use of
// the sigmoid is as the prediction of a bce, so that the sigmoid itself goes away. In a
// training graph the sigmoid also feeds its own gradient and bce_grad, so the rule leaves it
// alone: the compiler emits bce_logits there itself, before autodiff.
func bceOfSigmoid(r *Rewriter, o *Op) *Op {
	p, t := o.Args[0], o.Args[1]
	if p.Kind != "sigmoid" {
		return nil
	}
	for _, u := range r.Uses[p] {
		if u == nil || u.Kind != "bce" || u.Args[0] != p || u.Args[1] == p {
			return nil
		}
	}
	return r.Op("bce_logits", nil, p.Args[0], t)
}

// sinkScalarBroadcast lets a binary op read a scalar s instead of broadcast_like(s, like),
// when the op's own broadcasting gives the same result: the other operand already has the
// result's shape, or is a scalar too, in which case the broadcast moves after the op. Autodiff
// emits the pattern at the root of every backward pass (mean's gradient is
// broadcast_like(1, x) / count(x)), and each instance is a B×N tensor written and read for
// nothing.
func sinkScalarBroadcast(r *Rewriter, o *Op) *Op {
	for i := 0; i < 2; i++ {
		bl, other := o.Args[i], o.Args[1-i]
		if bl.Kind != "broadcast_like" || len(bl.Args[0].Type.Shape) != 0 {
			continue
		}
		args := []*Op{o.Args[0], o.Args[1]}
		args[i] = bl.Args[0]
		switch {
		case other.Type.Shape.Equal(o.Type.Shape):
			return r.Op(o.Kind, o.Attrs.Clone(), args...)
		case len(other.Type.Shape) == 0 && bl.Type.Shape.Equal(o.Type.Shape):
			return r.Op("broadcast_like", bl.Attrs.Clone(), r.Op(o.Kind, o.Attrs.Clone(), args...), bl.Args[1])
		}
	}
	return nil
}
