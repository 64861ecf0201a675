package compiler

import (
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// The adversarial autoencoder (Makhzani et al.): a discriminator C on codes learns to tell
// draws from the prior (real) from the encoder's codes (fake), and the encoder learns to
// fool it, so that the codes' distribution matches the prior. Training takes three phases
// per batch, in this order:
//
//	recon  AE.step:   the reconstruction loss and penalties; E's and D's parameters
//	d      AE.d_step: bce(C(p), 1) + bce(C(stop_gradient(E(x))), 0), p ~ prior; C's parameters
//	g      AE.g_step: bce(C(E(x)), 1), through a C whose weights stay fixed; E's parameters
//
// all with C's logits, as in the gan family. AE.loss reports the reconstruction loss and the
// discriminator's view of the test codes.

// priorDraw draws a batch of codes like h from the prior.
func (l *lowerer) priorDraw(ae *autoencoder, h *ir.Op) *ir.Op {
	l.setPos(ae.priorPos)
	attrs := ir.Attrs{"shape": h.Type.Shape, "stream": l.p.nextStream()}
	if ae.prior == "uniform" {
		attrs["low"], attrs["high"] = -1.0, 1.0
		return l.b.Op("random_uniform", attrs)
	}
	attrs["mean"], attrs["std"] = 0.0, 1.0
	return l.b.Op("random_normal", attrs)
}

// codeLogit runs the discriminator on a batch of codes and checks it gives one logit each.
func (l *lowerer) codeLogit(f *lang.Family, ae *autoencoder, v *ir.Op, what string) (*ir.Op, error) {
	logit, err := l.instantiateTop(ae.disc, []value{tensorVal(v)}, ae.dPos)
	if err != nil {
		return nil, err
	}
	if s := logit.Type.Shape; len(s) != 2 || !s[0].Equal(v.Type.Shape[0]) || !s[1].Equal(ir.Const(1)) {
		return nil, lang.Errorf(ae.dPos, "%s: discriminator %s returns %v on %s, want one logit per sample [%v, 1]", f.Name, ae.disc.Name, s, what, v.Type.Shape[0])
	}
	return logit, nil
}

// bceConst is the mean of bce_logits(logit, target) for a constant target.
func (l *lowerer) bceConst(logit *ir.Op, target float64) *ir.Op {
	b := l.b
	t := b.Op("broadcast_like", nil, b.Const(target), logit)
	return b.Op("mean", ir.Attrs{"axes": []int{}, "keepdims": false}, b.Op("bce_logits", nil, logit, t))
}

// adversarialLosses returns the discriminator's loss and the encoder's, and the mean
// probabilities the discriminator gives the prior's draws and the codes.
func (l *lowerer) adversarialLosses(f *lang.Family, ae *autoencoder, fw *aeForward, held bool) (dLoss, gLoss, dReal, dFake *ir.Op, err error) {
	p := l.priorDraw(ae, fw.h)
	realLogit, err := l.codeLogit(f, ae, p, "draws from the prior")
	if err != nil {
		return
	}
	codes := fw.h
	if held {
		l.setPos(ae.dPos)
		codes = l.b.Op("stop_gradient", nil, codes)
	}
	fakeLogit, err := l.codeLogit(f, ae, codes, "the encoder's codes")
	if err != nil {
		return
	}
	b := l.b
	l.setPos(ae.dPos)
	meanProb := func(logit *ir.Op) *ir.Op {
		return b.Op("mean", ir.Attrs{"axes": []int{}, "keepdims": false}, b.Op("sigmoid", nil, logit))
	}
	dLoss = b.Op("add", nil, l.bceConst(realLogit, 1), l.bceConst(fakeLogit, 0))
	gLoss = l.bceConst(fakeLogit, 1)
	dReal, dFake = meanProb(realLogit), meanProb(fakeLogit)
	if b.Err != nil {
		err = lang.Errorf(ae.dPos, "%s: %v", f.Name, b.Err)
	}
	return
}

// adversarialStep lowers AE.d_step (the discriminator's phase) or AE.g_step (the
// encoder's).
func (l *lowerer) adversarialStep(f *lang.Family, ae *autoencoder, fw *aeForward, fn string) (ir.Phase, error) {
	dLoss, gLoss, dReal, dFake, err := l.adversarialLosses(f, ae, fw, fn == "d_step")
	if err != nil {
		return ir.Phase{}, err
	}
	isEnc := map[*ir.Op]bool{}
	for _, o := range fw.encParams {
		isEnc[o] = true
	}
	var discParams []*ir.Op
	for _, o := range l.b.F.Params() {
		if !isEnc[o] {
			discParams = append(discParams, o)
		}
	}
	if fn == "d_step" {
		l.b.F.Outputs = []ir.Output{{Name: ir.OutputName(ir.OutMetric, "d_real"), Value: dReal}, {Name: ir.OutputName(ir.OutMetric, "d_fake"), Value: dFake}}
		return l.finishStep(ae.dPos, "d", dLoss, discParams)
	}
	l.b.F.Outputs = []ir.Output{{Name: ir.OutputName(ir.OutMetric, "d_fake_g"), Value: dFake}}
	return l.finishStep(ae.dPos, "g", gLoss, fw.encParams)
}

// adversarialMetrics adds the discriminator's losses and view of the codes to AE.loss.
func (l *lowerer) adversarialMetrics(f *lang.Family, ae *autoencoder, fw *aeForward) error {
	dLoss, gLoss, dReal, dFake, err := l.adversarialLosses(f, ae, fw, false)
	if err != nil {
		return err
	}
	l.b.F.Outputs = append(l.b.F.Outputs, ir.Output{Name: ir.OutputName(ir.OutMetric, "d_loss"), Value: dLoss}, ir.Output{Name: ir.OutputName(ir.OutMetric, "g_loss"), Value: gLoss},
		ir.Output{Name: ir.OutputName(ir.OutMetric, "d_real"), Value: dReal}, ir.Output{Name: ir.OutputName(ir.OutMetric, "d_fake"), Value: dFake})
	return nil
}
