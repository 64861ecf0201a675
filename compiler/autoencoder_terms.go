package compiler

import (
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// The terms of an autoencoder's loss: the reconstruction error with its reduction, the
// corruption of a denoising autoencoder, and the penalties (L2 on the weights, sparsity of
// the code, the contractive penalty, a VAE's KL divergence).

// corruptInput draws a fresh corruption of x: masking noise zeroes each element with
// probability q; Gaussian noise adds σ·ε. It is lowered only in training mode.
func (l *lowerer) corruptInput(ae *autoencoder, x *ir.Op) (*ir.Op, error) {
	b := l.b
	l.setPos(ae.corruptPos)
	var out *ir.Op
	switch {
	case ae.corruptP == 0:
		return x, nil
	case ae.corrupt == "mask":
		keep := b.Op("random_bernoulli", ir.Attrs{"shape": x.Type.Shape, "p": 1 - ae.corruptP, "stream": l.p.nextStream()})
		out = b.Op("mul", nil, x, keep)
	default:
		eps := b.Op("random_normal", ir.Attrs{"shape": x.Type.Shape, "mean": 0.0, "std": ae.corruptP, "stream": l.p.nextStream()})
		out = b.Op("add", nil, x, eps)
	}
	if b.Err != nil {
		return nil, lang.Errorf(ae.corruptPos, "corrupt: %v", b.Err)
	}
	return out, nil
}

// sampleAxes are the axes of one sample of x: every axis but the batch.
func sampleAxes(x *ir.Op) []int {
	axes := make([]int, 0, len(x.Type.Shape)-1)
	for i := 1; i < len(x.Type.Shape); i++ {
		axes = append(axes, i)
	}
	return axes
}

// reconError is the reconstruction loss of recon against the clean x: a scalar reduced as
// the family says (mean over every element, or the sum over each sample's elements, mean
// over the batch), or with perSample the [B] error of each sample reduced the same way
// (the anomaly score; mean squared error per element when the loss is an expression).
func (l *lowerer) reconError(ae *autoencoder, fw *aeForward, perSample bool) (*ir.Op, error) {
	kind := ae.loss
	if kind == "" {
		if !perSample {
			return nil, nil // the loss expression replaces it
		}
		kind = "mse"
	}
	if !perSample && ae.reduction == "mean" {
		lv, err := builtins[kind].lower(l, &lang.Call{Pos: ae.lossPos, Func: kind}, []value{tensorVal(fw.recon), tensorVal(fw.x)})
		return lv.op, err
	}
	e, err := l.elementLoss(kind, ae.lossPos, fw.recon, fw.x)
	if err != nil {
		return nil, err
	}
	b := l.b
	axes := sampleAxes(fw.x)
	var per *ir.Op
	if ae.reduction == "sum" {
		per = b.Op("sum", ir.Attrs{"axes": axes, "keepdims": false}, e)
	} else {
		per = b.Op("mean", ir.Attrs{"axes": axes, "keepdims": false}, e)
	}
	if !perSample {
		per = b.Op("mean", ir.Attrs{"axes": []int{}, "keepdims": false}, per)
	}
	if b.Err != nil {
		return nil, lang.Errorf(ae.lossPos, "%s: %v", kind, b.Err)
	}
	return per, nil
}

// elementLoss is the elementwise loss of kind bce, mse or l1 (the op the builtin loss of
// that name averages); bce of a sigmoid is computed from its logits.
func (l *lowerer) elementLoss(kind string, pos lang.Pos, p, t *ir.Op) (*ir.Op, error) {
	b := l.b
	l.setPos(pos)
	var e *ir.Op
	switch kind {
	case "bce":
		if p.Kind == "sigmoid" {
			e = b.Op("bce_logits", nil, p.Args[0], t)
		} else {
			e = b.Op("bce", nil, p, t)
		}
	case "mse":
		e = b.Op("square", nil, b.Op("sub", nil, p, t))
	default:
		e = b.Op("abs", nil, b.Op("sub", nil, p, t))
	}
	if b.Err != nil {
		return nil, lang.Errorf(pos, "%s: %v", kind, b.Err)
	}
	return e, nil
}

// aePenalties adds the family's penalties to loss, and returns the metrics that report
// them (the VAE's KL and negative ELBO).
func (l *lowerer) aePenalties(f *lang.Family, ae *autoencoder, fw *aeForward, loss *ir.Op) (*ir.Op, []ir.Output, error) {
	b := l.b
	var metrics []ir.Output
	var err error
	mean := func(o *ir.Op, axes []int) *ir.Op { return b.Op("mean", ir.Attrs{"axes": axes, "keepdims": false}, o) }
	sum := func(o *ir.Op, axes []int) *ir.Op { return b.Op("sum", ir.Attrs{"axes": axes, "keepdims": false}, o) }
	if ae.l2 > 0 {
		if loss, err = l.l2Penalty(ae.lossPos, loss, l.b.F.Params(), ae.l2); err != nil {
			return nil, nil, err
		}
	}
	if ae.sparse != "" && ae.sparseW > 0 {
		h := fw.h
		l.setPos(ae.sparsePos)
		var pen *ir.Op
		if ae.sparse == "l1" {
			// λ·Σ_j |h_j| per sample, mean over the batch.
			pen = mean(sum(b.Op("abs", nil, h), sampleAxes(h)), []int{})
		} else {
			if h.Kind != "sigmoid" || len(h.Type.Shape) != 2 {
				return nil, nil, lang.Errorf(ae.sparsePos, "%s: sparsity = kl(…) compares mean activations with rho, so it needs codes in (0, 1): encoder %s's result must be sigmoid(…) of shape [B, k], got %s %v", f.Name, ae.enc.Name, h.Kind, h.Type.Shape)
			}
			// β·Σ_j KL(ρ ‖ ρ̂_j), ρ̂_j the batch's mean activation of unit j, clamped to
			// [1e-6, 1 − 1e-6] so that the logs stay finite.
			rhoHat := b.Op("minimum", nil, b.Op("maximum", nil, mean(h, []int{0}), b.Const(1e-6)), b.Const(1-1e-6))
			rho := b.Const(ae.rho)
			one := b.Const(1)
			kl := b.Op("add", nil,
				b.Op("mul", nil, rho, b.Op("log", nil, b.Op("div", nil, rho, rhoHat))),
				b.Op("mul", nil, b.Const(1-ae.rho), b.Op("log", nil, b.Op("div", nil, b.Const(1-ae.rho), b.Op("sub", nil, one, rhoHat)))))
			pen = sum(kl, []int{})
			metrics = append(metrics, ir.Output{Name: "metric:sparsity_kl", Value: pen})
		}
		loss = b.Op("add", nil, loss, b.Op("mul", nil, pen, b.Const(ae.sparseW)))
	}
	if ae.contractive > 0 {
		pen, err := l.contractivePenalty(f, ae, fw)
		if err != nil {
			return nil, nil, err
		}
		metrics = append(metrics, ir.Output{Name: "metric:contractive", Value: pen})
		loss = b.Op("add", nil, loss, b.Op("mul", nil, pen, b.Const(ae.contractive)))
	}
	if ae.variational {
		l.setPos(ae.latentPos)
		// KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ_j (1 + log σ² − μ² − σ²) per sample, mean over the
		// batch: in nats, like the reconstruction summed over pixels.
		lv := fw.logvar
		inner := b.Op("sub", nil, b.Op("sub", nil, b.Op("add", nil, lv, b.Const(1)), b.Op("square", nil, fw.h)), b.Op("exp", nil, lv))
		kl := mean(b.Op("mul", nil, sum(inner, sampleAxes(fw.h)), b.Const(-0.5)), []int{})
		term := kl
		if ae.reduction == "mean" {
			// The reconstruction is a mean over each sample's elements: so is the KL term,
			// and the loss is the negative ELBO divided by the elements per sample.
			term = b.Op("div", nil, kl, b.Op("count", ir.Attrs{"axes": sampleAxes(fw.x)}, fw.x))
		}
		loss = b.Op("add", nil, loss, term)
		metrics = append(metrics, ir.Output{Name: "metric:kl", Value: kl})
		if ae.loss == "bce" {
			summed := &autoencoder{loss: "bce", reduction: "sum", lossPos: ae.latentPos}
			rec, err := l.reconError(summed, fw, false)
			if err != nil {
				return nil, nil, err
			}
			metrics = append(metrics, ir.Output{Name: "metric:nelbo", Value: b.Op("add", nil, rec, kl)})
		}
	}
	if b.Err != nil {
		return nil, nil, lang.Errorf(f.Pos, "%s: %v", f.Name, b.Err)
	}
	return loss, metrics, nil
}

// l2Penalty adds lambda·Σ‖W‖² over the weight matrices (not the biases) to the loss.
func (l *lowerer) l2Penalty(pos lang.Pos, loss *ir.Op, params []*ir.Op, lambda float64) (*ir.Op, error) {
	l.setPos(pos)
	total := loss
	var sum *ir.Op
	for _, w := range params {
		if len(w.Type.Shape) < 2 {
			continue
		}
		s := l.b.Op("sum", ir.Attrs{"axes": []int{}, "keepdims": false}, l.b.Op("square", nil, w))
		if sum == nil {
			sum = s
		} else {
			sum = l.b.Op("add", nil, sum, s)
		}
	}
	if sum != nil {
		total = l.b.Op("add", nil, loss, l.b.Op("mul", nil, sum, l.b.Const(lambda)))
	}
	if l.b.Err != nil {
		return nil, lang.Errorf(pos, "penalty: %v", l.b.Err)
	}
	return total, nil
}

// contractivePenalty is mean over the batch of ‖∂h/∂x‖²_F, exactly, for the class of
// encoders it supports: one dense layer on the input with an elementwise activation,
// h = σ(x·W + b) (σ one of sigmoid, tanh, relu, leaky_relu, or none; x may be flattened
// first). Then ∂h_j/∂x_i = σ'(a_j)·W_ij, so ‖J‖²_F = Σ_j σ'(a_j)² Σ_i W_ij², with σ'
// written from the output h (sigmoid h(1 − h), tanh 1 − h², relu and leaky_relu the
// slope, whose own derivative is zero almost everywhere). dlc computes first derivatives
// only, so other encoders, whose Jacobian would need second-order autodiff to train, are
// a compile error.
func (l *lowerer) contractivePenalty(f *lang.Family, ae *autoencoder, fw *aeForward) (*ir.Op, error) {
	h := fw.h
	unsupported := func(why string) error {
		return lang.Errorf(ae.contractPos, "%s: contractive penalty: %s; it is computed exactly for one dense layer on the input with an elementwise activation, h = act(dense(x, k)) (act sigmoid, tanh, relu, leaky_relu or none)", f.Name, why)
	}
	a, act := h, ""
	switch h.Kind {
	case "sigmoid", "tanh", "relu", "leaky_relu":
		a, act = h.Args[0], h.Kind
	}
	mm := a
	if a.Kind == "add" {
		mm = a.Args[0]
		if mm.Kind != "matmul" || a.Args[1].Kind != "param" {
			return nil, unsupported("encoder " + ae.enc.Name + "'s code is not x·W + b")
		}
	}
	if mm.Kind != "matmul" || mm.Attrs.Bool("ta") || mm.Attrs.Bool("tb") || mm.Args[1].Kind != "param" {
		return nil, unsupported("encoder " + ae.enc.Name + "'s code is made by " + h.Kind + ", not by a dense layer")
	}
	in := mm.Args[0]
	if in.Kind == "reshape" {
		in = in.Args[0]
	}
	if in != fw.in {
		return nil, unsupported("encoder " + ae.enc.Name + "'s dense layer does not read the input directly")
	}
	b := l.b
	l.setPos(ae.contractPos)
	w := mm.Args[1]
	ones := b.Op("broadcast_like", nil, b.Const(1), h)
	var slope *ir.Op
	switch act {
	case "sigmoid":
		slope = b.Op("mul", nil, h, b.Op("sub", nil, b.Const(1), h))
	case "tanh":
		slope = b.Op("sub", nil, b.Const(1), b.Op("square", nil, h))
	case "relu":
		slope = b.Op("relu_grad", nil, ones, h)
	case "leaky_relu":
		slope = b.Op("leaky_relu_grad", ir.Attrs{"alpha": h.Attrs.Float("alpha", 0.01)}, ones, h)
	default:
		slope = ones
	}
	colSq := b.Op("sum", ir.Attrs{"axes": []int{0}, "keepdims": false}, b.Op("square", nil, w))
	per := b.Op("sum", ir.Attrs{"axes": []int{1}, "keepdims": false}, b.Op("mul", nil, b.Op("square", nil, slope), colSq))
	pen := b.Op("mean", ir.Attrs{"axes": []int{}, "keepdims": false}, per)
	if b.Err != nil {
		return nil, lang.Errorf(ae.contractPos, "contractive: %v", b.Err)
	}
	return pen, nil
}
