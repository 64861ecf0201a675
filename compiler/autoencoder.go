package compiler

import (
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// autoencoder is the meaning of an autoencoder family block.
type autoencoder struct {
	enc, dec *lang.Block
	loss     string
	l2       float64
	lossPos  lang.Pos   // where the loss is declared: the loss ops' position
	lossExpr *lang.Expr // a loss written as an expression of x, z and recon
}

// lowerAutoencoder lowers AE.step (training), AE.loss (evaluation) and AE.reconstruct.
func (p *Program) lowerAutoencoder(m *ir.Module, f *lang.Family) (*plan, error) {
	ae, err := p.autoencoderOf(f)
	if err != nil {
		return nil, err
	}
	pl := &plan{family: "autoencoder", inputs: []string{"x"}, eval: f.Name + ".loss",
		extra: map[string]string{"reconstruct": f.Name + ".reconstruct"}}
	for _, fn := range []string{"loss", "step", "reconstruct"} {
		g, ph, err := p.autoencoderFunc(f, ae, fn)
		if err != nil {
			return nil, err
		}
		m.Funcs = append(m.Funcs, g)
		if fn == "step" {
			pl.phases = []ir.Phase{ph}
		}
	}
	return pl, nil
}

func (p *Program) autoencoderOf(f *lang.Family) (*autoencoder, error) {
	if len(f.Params) != 2 {
		return nil, lang.Errorf(f.Pos, "%s: an autoencoder takes (enc: Encoder, dec: Decoder), got %d parameters", f.Name, len(f.Params))
	}
	enc, err := p.familyBlock(f, f.Params[0], "encoder")
	if err != nil {
		return nil, err
	}
	dec, err := p.familyBlock(f, f.Params[1], "decoder")
	if err != nil {
		return nil, err
	}
	ae := &autoencoder{enc: enc, dec: dec, loss: "bce", lossPos: f.Pos}
	seen := map[string]bool{}
	for _, s := range f.Settings {
		if seen[s.Name] {
			return nil, lang.Errorf(s.Pos, "%s: %s set twice", f.Name, s.Name)
		}
		seen[s.Name] = true
		switch s.Name {
		case "loss":
			name := bareIdent(s.Value)
			switch {
			case name == "bce" || name == "mse" || name == "l1":
				ae.loss, ae.lossPos = name, s.Value.Pos
			case name != "":
				return nil, lang.Errorf(s.Value.Pos, "%s: loss = %s, want bce, mse or l1, or an expression of x, z and recon", f.Name, exprString(s.Value))
			default:
				ae.lossExpr, ae.lossPos = s.Value, s.Value.Pos
			}
		case "penalty":
			c := bareCall(s.Value)
			if c == nil || c.Func != "l2" || len(c.Args) != 1 {
				return nil, lang.Errorf(s.Value.Pos, "%s: penalty = %s, want l2(lambda)", f.Name, exprString(s.Value))
			}
			v, err := p.evalConst(c.Args[0].Value)
			if err != nil {
				return nil, err
			}
			if (v.kind != kFloat && v.kind != kInt) || v.num < 0 {
				return nil, lang.Errorf(c.Args[0].Pos, "%s: l2 weight %s, want a number ≥ 0", f.Name, v)
			}
			ae.l2 = v.num
		default:
			return nil, lang.Errorf(s.Pos, "%s: unknown autoencoder setting %s (want loss, penalty)", f.Name, s.Name)
		}
	}
	return ae, nil
}

// autoencoderFunc lowers dec(enc(x)) and, for "loss" and "step", its loss against x; the
// step is lowered in training mode, the others in evaluation mode.
func (p *Program) autoencoderFunc(f *lang.Family, ae *autoencoder, fn string) (*ir.Func, ir.Phase, error) {
	mode := "eval"
	if fn == "step" {
		mode = "train"
	}
	l := p.newLowerer(f.Name+"."+fn, mode)
	sc := newScope(ae.enc.Name, ae.enc.Pos.Filename)
	fail := func(err error) (*ir.Func, ir.Phase, error) { return nil, ir.Phase{}, err }
	ins, ok, err := l.bindEntryParams(ae.enc, sc)
	if err != nil {
		return fail(err)
	}
	if !ok || len(ins) != 1 {
		return fail(lang.Errorf(ae.enc.Pos, "%s: an autoencoder's encoder takes one tensor and hyperparameters with defaults", ae.enc.Name))
	}
	x := ins[0]
	codes, err := l.body(ae.enc, sc)
	if err != nil {
		return fail(err)
	}
	if len(codes) != 1 {
		return fail(lang.Errorf(ae.enc.Pos, "%s: returns %d values, want one code", ae.enc.Name, len(codes)))
	}
	recon, err := l.instantiateTop(ae.dec, []value{codes[0]}, f.Params[1].Pos)
	if err != nil {
		return fail(err)
	}
	if !recon.Type.Shape.Equal(x.Type.Shape) {
		return fail(lang.Errorf(f.Params[1].Pos, "%s: decoder %s returns %v, want the encoder's input shape %v", f.Name, ae.dec.Name, recon.Type.Shape, x.Type.Shape))
	}
	if fn == "reconstruct" {
		l.b.F.Outputs = []ir.Output{{Name: "out", Value: recon}}
		return l.b.F, ir.Phase{}, nil
	}
	var loss *ir.Op
	if ae.lossExpr != nil {
		loss, err = l.lossExpr(f, ae.lossExpr, map[string]*ir.Op{"x": x, "z": codes[0].op, "recon": recon})
	} else {
		var lv value
		lv, err = builtins[ae.loss].lower(l, &lang.Call{Pos: ae.lossPos, Func: ae.loss}, []value{tensorVal(recon), tensorVal(x)})
		loss = lv.op
	}
	if err != nil {
		return fail(err)
	}
	params := l.b.F.Params()
	if ae.l2 > 0 {
		if loss, err = l.l2Penalty(ae.lossPos, loss, params, ae.l2); err != nil {
			return fail(err)
		}
	}
	if fn == "step" {
		ph, err := l.finishStep(f.Pos, "train", loss, params)
		return l.b.F, ph, err
	}
	l.b.F.Outputs = []ir.Output{{Name: "loss", Value: loss}}
	if ae.loss != "mse" {
		// The family's own metric: the reconstruction's mean squared error per element,
		// comparable across losses (and the usual anomaly score).
		mse, err := builtins["mse"].lower(l, &lang.Call{Pos: ae.lossPos, Func: "mse"}, []value{tensorVal(recon), tensorVal(x)})
		if err != nil {
			return fail(err)
		}
		l.b.F.Outputs = append(l.b.F.Outputs, ir.Output{Name: "metric:mse", Value: mse.op})
	}
	return l.b.F, ir.Phase{}, nil
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
