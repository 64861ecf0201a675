package ir

// FuseRules fold dense layers into the fused ops of ops_fused.go, and a gather into the segment
// reduction that reads it (ops_graph_fused.go). A fusion is legal only when
// the values it swallows have no other user, so each rule checks Uses; after autodiff this
// holds for the forward intermediates because every activation's gradient reads its output,
// not its input.
// The activations and their gradient helpers are the ops the table marks Activation.
func FuseRules() []Rule {
	return []Rule{
		{Name: "dense-bias", Kinds: []string{"add"}, Rewrite: fuseDenseBias},
		{Name: "dense-act", Kinds: Activations(), Rewrite: fuseDenseAct},
		{Name: "matmul-act-grad", Kinds: activationGrads(), Rewrite: fuseMatmulActGrad},
		{Name: "gather-segment", Kinds: []string{"segment_sum", "segment_mean"}, Rewrite: fuseGatherSegment},
	}
}

// matmulAttrs copies the transpose flags of a matmul, leaving false ones out.
func matmulAttrs(m *Op, a Attrs) Attrs {
	for _, k := range []string{"ta", "tb"} {
		if m.Attrs.Bool(k) {
			a[k] = true
		}
	}
	return a
}

// fuseDenseBias: add(matmul(x, w), b) → dense{act: none}(x, w, b), b a row bias, in either
// operand order.
func fuseDenseBias(r *Rewriter, o *Op) *Op {
	for i := 0; i < 2; i++ {
		m, b := o.Args[i], o.Args[1-i]
		if m.Kind != "matmul" || !r.Uses.Only(m, o) || !o.Type.Shape.Equal(m.Type.Shape) ||
			!IsBiasShape(b.Type.Shape, m.Type.Shape[1]) {
			continue
		}
		return r.Op("dense", matmulAttrs(m, Attrs{"act": "none"}), m.Args[0], m.Args[1], b)
	}
	return nil
}

// fuseDenseAct: act(dense{act: none}(x, w, b)) → dense{act}(x, w, b).
func fuseDenseAct(r *Rewriter, o *Op) *Op {
	d := o.Args[0]
	if d.Kind != "dense" || d.Attrs.String("act") != "none" || !r.Uses.Only(d, o) {
		return nil
	}
	a := d.Attrs.Clone()
	a["act"] = o.Kind
	for k, v := range o.Attrs {
		a[k] = v
	}
	return r.Op("dense", a, append([]*Op(nil), d.Args...)...)
}

// fuseMatmulActGrad: act_grad(matmul(a, b), y) → matmul_act_grad{act}(a, b, y).
func fuseMatmulActGrad(r *Rewriter, o *Op) *Op {
	m, y := o.Args[0], o.Args[1]
	if m.Kind != "matmul" || !r.Uses.Only(m, o) {
		return nil
	}
	a := matmulAttrs(m, Attrs{"act": activationOf(o.Kind)})
	for k, v := range o.Attrs {
		a[k] = v
	}
	return r.Op("matmul_act_grad", a, m.Args[0], m.Args[1], y)
}

// activationOf returns the activation whose gradient helper is grad.
func activationOf(grad string) string {
	for _, k := range Activations() {
		if opTable[k].Act.Grad == grad {
			return k
		}
	}
	return ""
}
