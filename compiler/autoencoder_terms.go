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
			metrics = append(metrics, ir.Output{Name: ir.OutputName(ir.OutMetric, "sparsity_kl"), Value: pen})
		}
		loss = b.Op("add", nil, loss, b.Op("mul", nil, pen, b.Const(ae.sparseW)))
	}
	if ae.contractive > 0 {
		pen, err := l.contractivePenalty(f, ae, fw)
		if err != nil {
			return nil, nil, err
		}
		metrics = append(metrics, ir.Output{Name: ir.OutputName(ir.OutMetric, "contractive"), Value: pen})
		loss = b.Op("add", nil, loss, b.Op("mul", nil, pen, b.Const(ae.contractive)))
	}
	if ae.variational {
		var kl []ir.Output
		if loss, kl, err = l.vaeKL(ae, fw, loss); err != nil {
			return nil, nil, err
		}
		metrics = append(metrics, kl...)
	}
	if b.Err != nil {
		return nil, nil, lang.Errorf(f.Pos, "%s: %v", f.Name, b.Err)
	}
	return loss, metrics, nil
}

// vaeKL adds a VAE's KL term, β times KL(N(μ, σ²) ‖ N(0, I)), to loss, and returns the
// metrics that report it unweighted: the KL and, with bce, the negative ELBO per image.
func (l *lowerer) vaeKL(ae *autoencoder, fw *aeForward, loss *ir.Op) (*ir.Op, []ir.Output, error) {
	b := l.b
	mean := func(o *ir.Op, axes []int) *ir.Op { return b.Op("mean", ir.Attrs{"axes": axes, "keepdims": false}, o) }
	sum := func(o *ir.Op, axes []int) *ir.Op { return b.Op("sum", ir.Attrs{"axes": axes, "keepdims": false}, o) }
	var metrics []ir.Output
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
	if ae.beta != 1 {
		// A β-VAE weighs the KL term (β = 1 lowers no op, so the plain VAE's IR is
		// unchanged); the metrics keep the unweighted KL and negative ELBO.
		l.setPos(ae.betaPos)
		term = b.Op("mul", nil, term, b.Const(ae.beta))
		l.setPos(ae.latentPos)
	}
	loss = b.Op("add", nil, loss, term)
	metrics = append(metrics, ir.Output{Name: ir.OutputName(ir.OutMetric, "kl"), Value: kl})
	if ae.loss == "bce" {
		summed := &autoencoder{loss: "bce", reduction: "sum", lossPos: ae.latentPos}
		rec, err := l.reconError(summed, fw, false)
		if err != nil {
			return nil, nil, err
		}
		metrics = append(metrics, ir.Output{Name: ir.OutputName(ir.OutMetric, "nelbo"), Value: b.Op("add", nil, rec, kl)})
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

// denseLayer is one layer of an encoder the contractive penalty supports: y = act(x·W + b).
type denseLayer struct {
	act string // sigmoid, tanh, relu, leaky_relu, or "" for none
	y   *ir.Op // the layer's output
	w   *ir.Op // its weight [in, out]
}

// denseStack reads the encoder's code h as a stack of dense layers with elementwise
// activations on the input in (possibly flattened first), last layer first; ok is false
// with the reason when h is made otherwise.
func denseStack(h, in *ir.Op) ([]denseLayer, string) {
	var layers []denseLayer
	cur := h
	for cur != in {
		if cur.Kind == "reshape" && cur.Args[0] == in && len(layers) > 0 {
			break // a flattened input: the Jacobian's columns are x's elements in order
		}
		layer := denseLayer{y: cur}
		switch cur.Kind {
		case "sigmoid", "tanh", "relu", "leaky_relu":
			layer.act, cur = cur.Kind, cur.Args[0]
		}
		mm := cur
		if cur.Kind == "add" && cur.Args[1].Kind == "param" {
			mm = cur.Args[0]
		}
		if mm.Kind != "matmul" || mm.Attrs.Bool("ta") || mm.Attrs.Bool("tb") || mm.Args[1].Kind != "param" {
			// Name the op that makes the layer, past reshapes, activations and biases.
			what := mm
			for len(what.Args) > 0 && (what.Kind == "reshape" || what.Kind == "add" || what.Kind == "relu" ||
				what.Kind == "sigmoid" || what.Kind == "tanh" || what.Kind == "leaky_relu") {
				what = what.Args[0]
			}
			return nil, "it applies " + what.Kind + " where a dense layer should be"
		}
		layer.w = mm.Args[1]
		layers = append(layers, layer)
		cur = mm.Args[0]
	}
	if len(layers) == 0 {
		return nil, "its code is its input"
	}
	return layers, ""
}

// contractivePenalty is the mean over the batch of ‖∂h/∂x‖²_F, computed exactly for the
// class of encoders it supports: dense layers (dense or linear, on the input possibly
// flattened) with elementwise activations (sigmoid, tanh, relu, leaky_relu, or none). Each
// layer's Jacobian is diag(act′(a))·Wᵀ, with act′ written from the output y (y(1 − y),
// 1 − y², the slope of relu and leaky_relu, whose own derivative is zero almost everywhere),
// so the penalty is made of ordinary ops that autodiff differentiates once. One layer has
// the closed form ‖J‖²_F = Σ_j act′(a_j)² Σ_i W_ij²; a deeper stack multiplies out each
// sample's Jacobian [k, F] from the code down (B·k·H_l·H_{l−1} multiply-adds per layer,
// the price of exactness). dlc computes first derivatives only, so other encoders (conv,
// pooling, normalisation), whose Jacobian would need second-order autodiff to train, are
// a compile error.
func (l *lowerer) contractivePenalty(f *lang.Family, ae *autoencoder, fw *aeForward) (*ir.Op, error) {
	layers, why := denseStack(fw.h, fw.in)
	if layers == nil {
		return nil, lang.Errorf(ae.contractPos, "%s: contractive penalty: encoder %s is not supported: %s; it is computed exactly for dense layers on the input with elementwise activations (sigmoid, tanh, relu, leaky_relu or none)", f.Name, ae.enc.Name, why)
	}
	b := l.b
	l.setPos(ae.contractPos)
	slope := func(ly denseLayer) *ir.Op {
		y := ly.y
		ones := b.Op("broadcast_like", nil, b.Const(1), y)
		switch ly.act {
		case "sigmoid":
			return b.Op("mul", nil, y, b.Op("sub", nil, b.Const(1), y))
		case "tanh":
			return b.Op("sub", nil, b.Const(1), b.Op("square", nil, y))
		case "relu":
			return b.Op("relu_grad", nil, ones, y)
		case "leaky_relu":
			return b.Op("leaky_relu_grad", ir.Attrs{"alpha": y.Attrs.Float("alpha", 0.01)}, ones, y)
		}
		return ones
	}
	mean := func(o *ir.Op) *ir.Op { return b.Op("mean", ir.Attrs{"axes": []int{}, "keepdims": false}, o) }
	var pen *ir.Op
	if len(layers) == 1 {
		colSq := b.Op("sum", ir.Attrs{"axes": []int{0}, "keepdims": false}, b.Op("square", nil, layers[0].w))
		pen = mean(b.Op("sum", ir.Attrs{"axes": []int{1}, "keepdims": false}, b.Op("mul", nil, b.Op("square", nil, slope(layers[0])), colSq)))
	} else {
		// q holds each sample's ∂h/∂(layer input) as [B, k, H]: start from the code's
		// layer, diag(s)·Wᵀ, and apply each layer below: q·diag(s)·Wᵀ.
		batch, k := fw.h.Type.Shape[0], fw.h.Type.Shape[1]
		top := layers[0]
		s := b.Op("reshape", ir.Attrs{"shape": ir.Shape{batch, k, ir.Const(1)}}, slope(top))
		q := b.Op("mul", nil, s, b.Op("transpose", ir.Attrs{"perm": []int{1, 0}}, top.w))
		for _, ly := range layers[1:] {
			hs, in := ly.w.Type.Shape[1], ly.w.Type.Shape[0]
			s := b.Op("reshape", ir.Attrs{"shape": ir.Shape{batch, ir.Const(1), hs}}, slope(ly))
			flat := b.Op("reshape", ir.Attrs{"shape": ir.Shape{batch.Mul(k), hs}}, b.Op("mul", nil, q, s))
			q = b.Op("reshape", ir.Attrs{"shape": ir.Shape{batch, k, in}}, b.Op("matmul", ir.Attrs{"tb": true}, flat, ly.w))
		}
		pen = mean(b.Op("sum", ir.Attrs{"axes": []int{1, 2}, "keepdims": false}, b.Op("square", nil, q)))
	}
	if b.Err != nil {
		return nil, lang.Errorf(ae.contractPos, "contractive: %v", b.Err)
	}
	return pen, nil
}
