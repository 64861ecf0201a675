package compiler

import (
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// aeForward is one pass through the autoencoder: the clean input, what the encoder saw,
// the code, and (unless the function stops at the code) the reconstruction.
type aeForward struct {
	x, in     *ir.Op // the clean input, and the encoder's input (x corrupted in training)
	y         *ir.Op // a conditional autoencoder's condition, which both networks take
	h         *ir.Op // the code: the encoder's result, μ for a VAE
	logvar    *ir.Op // a VAE's log σ², clamped
	z         *ir.Op // the decoder's input: h, or μ + σ·ε when a VAE samples
	recon     *ir.Op
	encParams []*ir.Op // the parameters the encoder made
}

// autoencoderFunc lowers one function of the family into l and returns its phase when it
// is a training step.
func (l *lowerer) autoencoderFunc(f *lang.Family, ae *autoencoder, fn string) (ir.Phase, error) {
	if fn == "decode" {
		return ir.Phase{}, l.aeDecode(ae)
	}
	fw, err := l.aeForward(f, ae, fn)
	if err != nil {
		return ir.Phase{}, err
	}
	out := func(o *ir.Op) (ir.Phase, error) {
		l.b.F.Outputs = []ir.Output{{Name: "out", Value: o}}
		return ir.Phase{}, nil
	}
	switch fn {
	case "corrupt":
		return out(fw.in)
	case "encode":
		return out(fw.h)
	case "reconstruct":
		return out(fw.recon)
	case "score":
		s, err := l.reconError(ae, fw, true)
		if err != nil {
			return ir.Phase{}, err
		}
		return out(s)
	case "d_step", "g_step":
		return l.adversarialStep(f, ae, fw, fn)
	}
	loss, err := l.reconError(ae, fw, false)
	if err != nil {
		return ir.Phase{}, err
	}
	if ae.lossExpr != nil {
		if loss, err = l.lossExpr(f, ae.lossExpr, map[string]*ir.Op{"x": fw.x, "z": fw.h, "recon": fw.recon}); err != nil {
			return ir.Phase{}, err
		}
	}
	var metrics []ir.Output
	if loss, metrics, err = l.aePenalties(f, ae, fw, loss); err != nil {
		return ir.Phase{}, err
	}
	if fn == "step" {
		l.b.F.Outputs = metrics
		name := "train"
		if ae.disc != nil {
			name = "recon"
		}
		return l.finishStep(f.Pos, name, loss, l.b.F.Params())
	}
	l.b.F.Outputs = append([]ir.Output{{Name: "loss", Value: loss}}, metrics...)
	if ae.loss != "mse" {
		// The family's own metric: the reconstruction's mean squared error per element,
		// comparable across losses (and the usual anomaly score).
		mse, err := builtins["mse"].lower(l, &lang.Call{Pos: ae.lossPos, Func: "mse"}, []value{tensorVal(fw.recon), tensorVal(fw.x)})
		if err != nil {
			return ir.Phase{}, err
		}
		l.b.F.Outputs = append(l.b.F.Outputs, ir.Output{Name: ir.OutputName(ir.OutMetric, "mse"), Value: mse.op})
	}
	if ae.disc != nil {
		return ir.Phase{}, l.adversarialMetrics(f, ae, fw)
	}
	return ir.Phase{}, nil
}

// aeForward lowers the encoder on the (corrupted, in training) input and, unless fn needs
// only the code, the decoder on the code.
func (l *lowerer) aeForward(f *lang.Family, ae *autoencoder, fn string) (*aeForward, error) {
	sc := newScope(ae.enc.Name, ae.enc.Pos.Filename)
	ins, ok, err := l.bindEntryParams(ae.enc, sc)
	if err != nil {
		return nil, err
	}
	if !ok || len(ins) != 1 && !(ae.conditional && len(ins) == 2) {
		return nil, lang.Errorf(ae.enc.Pos, "%s: an autoencoder's encoder takes one tensor, or two for a conditional one (x, y), and hyperparameters with defaults", ae.enc.Name)
	}
	fw := &aeForward{x: ins[0], in: ins[0]}
	if ae.conditional {
		fw.y = ins[1]
	}
	if ae.corrupt != "" && l.training() {
		if fw.in, err = l.corruptInput(ae, fw.x); err != nil {
			return nil, err
		}
		sc.names[fw.x.Attrs.String("name")] = tensorVal(fw.in)
	}
	if fn == "corrupt" {
		return fw, nil
	}
	codes, err := l.body(ae.enc, sc)
	if err != nil {
		return nil, err
	}
	fw.encParams = l.b.F.Params()
	if ae.variational {
		if len(codes) != 2 {
			return nil, lang.Errorf(ae.enc.Pos, "%s: latent = gaussian: encoder %s returns %d value(s), want two: the mean μ and log σ² of each code", f.Name, ae.enc.Name, len(codes))
		}
		mu, lv := codes[0].op, codes[1].op
		if len(mu.Type.Shape) != 2 || !mu.Type.Shape.Equal(lv.Type.Shape) {
			return nil, lang.Errorf(ae.enc.Pos, "%s: latent = gaussian: encoder %s returns μ %v and log σ² %v, want two equal shapes [B, k]", f.Name, ae.enc.Name, mu.Type.Shape, lv.Type.Shape)
		}
		fw.h = mu
		l.setPos(ae.latentPos)
		// log σ² is clamped to [−30, 20] (σ from 3e-7 to 2.2e4), so that exp neither
		// underflows to a zero σ nor overflows; outside the range its gradient is zero.
		fw.logvar = l.b.Op("minimum", nil, l.b.Op("maximum", nil, lv, l.b.Const(-30)), l.b.Const(20))
		fw.z = mu
		if fn == "step" || fn == "loss" {
			// z = μ + σ·ε. The evaluation samples too, from its own stream, so that the
			// test loss is the same one-sample estimate of the negative ELBO that training
			// minimises (as PyTorch's VAE example reports it).
			eps := l.b.Op("random_normal", ir.Attrs{"shape": mu.Type.Shape, "mean": 0.0, "std": 1.0, "stream": l.p.nextStream()})
			sigma := l.b.Op("exp", nil, l.b.Op("mul", nil, fw.logvar, l.b.Const(0.5)))
			fw.z = l.b.Op("add", nil, mu, l.b.Op("mul", nil, sigma, eps))
		}
		if l.b.Err != nil {
			return nil, lang.Errorf(ae.latentPos, "%s: %v", f.Name, l.b.Err)
		}
	} else {
		if len(codes) != 1 {
			return nil, lang.Errorf(ae.enc.Pos, "%s: returns %d values, want one code", ae.enc.Name, len(codes))
		}
		fw.h, fw.z = codes[0].op, codes[0].op
	}
	if fn == "encode" || fn == "d_step" || fn == "g_step" {
		return fw, nil
	}
	decIn := []value{tensorVal(fw.z)}
	if fw.y != nil {
		decIn = append(decIn, tensorVal(fw.y))
	}
	if fw.recon, err = l.instantiateTop(ae.dec, decIn, ae.decPos); err != nil {
		return nil, err
	}
	if !fw.recon.Type.Shape.Equal(fw.x.Type.Shape) {
		return nil, lang.Errorf(ae.decPos, "%s: decoder %s returns %v, want the encoder's input shape %v", f.Name, ae.dec.Name, fw.recon.Type.Shape, fw.x.Type.Shape)
	}
	return fw, nil
}

// aeDecode lowers AE.decode: the decoder alone, from a code input to a reconstruction.
func (l *lowerer) aeDecode(ae *autoencoder) error {
	sc := newScope(ae.dec.Name, ae.dec.Pos.Filename)
	ins, ok, err := l.bindEntryParams(ae.dec, sc)
	if err != nil {
		return err
	}
	if !ok || len(ins) != 1 && !(ae.conditional && len(ins) == 2) {
		return lang.Errorf(ae.dec.Pos, "%s: an autoencoder's decoder takes one tensor, or two for a conditional one (z, y), and hyperparameters with defaults", ae.dec.Name)
	}
	outs, err := l.body(ae.dec, sc)
	if err != nil {
		return err
	}
	if len(outs) != 1 {
		return lang.Errorf(ae.dec.Pos, "%s: returns %d values, want one reconstruction", ae.dec.Name, len(outs))
	}
	l.b.F.Outputs = []ir.Output{{Name: "out", Value: outs[0].op}}
	return nil
}

// instantiateTop lowers a call of block b at the top level of a family, so that its
// parameters are named after the block itself (Dec.dense0.weight) and a second call of the
// same block shares them. args are its tensor arguments in order; its hyperparameters take
// their defaults.
func (l *lowerer) instantiateTop(b *lang.Block, args []value, at lang.Pos) (*ir.Op, error) {
	sc := newScope(b.Name, b.Pos.Filename)
	tensors := 0
	for _, prm := range b.Params {
		if prm.Type.Shape == nil {
			if prm.Default == nil {
				return nil, lang.Errorf(prm.Pos, "%s: hyperparameter %s needs a default to be used in a family block", b.Name, prm.Name)
			}
			v, err := l.eval(sc, prm.Default)
			if err != nil {
				return nil, err
			}
			if v, err = l.checkKind(prm, v, b.Name, prm.Default.Pos); err != nil {
				return nil, err
			}
			sc.names[prm.Name] = v
		}
	}
	for _, prm := range b.Params {
		if prm.Type.Shape == nil {
			continue
		}
		if tensors >= len(args) {
			return nil, lang.Errorf(at, "%s: takes more tensors than the %d it is given here", b.Name, len(args))
		}
		arg := args[tensors]
		tensors++
		if err := l.unify(sc, prm.Type.Shape, arg.op.Type.Shape, b.Name+": "+prm.Name, at); err != nil {
			return nil, err
		}
		sc.names[prm.Name] = arg
	}
	if tensors != len(args) {
		return nil, lang.Errorf(b.Pos, "%s: takes %d tensors, want %d", b.Name, tensors, len(args))
	}
	rets, err := l.body(b, sc)
	if err != nil {
		return nil, err
	}
	if len(rets) != 1 {
		return nil, lang.Errorf(b.Pos, "%s: returns %d values, want one", b.Name, len(rets))
	}
	return rets[0].op, nil
}
