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
	lossPos  lang.Pos // where the loss is declared: the loss ops' position
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
			if name != "bce" && name != "mse" && name != "l1" {
				return nil, lang.Errorf(s.Value.Pos, "%s: loss = %s, want bce, mse or l1", f.Name, exprString(s.Value))
			}
			ae.loss, ae.lossPos = name, s.Value.Pos
		case "penalty":
			c := bareCall(s.Value)
			if c == nil || c.Func != "l2" || len(c.Args) != 1 {
				return nil, lang.Errorf(s.Value.Pos, "%s: penalty = %s, want l2(lambda)", f.Name, exprString(s.Value))
			}
			v, err := (&lowerer{p: p}).eval(newScope("", ""), c.Args[0].Value)
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

// autoencoderFunc lowers dec(enc(x)) and, for "loss" and "step", its loss against x.
func (p *Program) autoencoderFunc(f *lang.Family, ae *autoencoder, mode string) (*ir.Func, error) {
	l := p.newLowerer(f.Name + "." + mode)
	top := newScope("", f.Pos.Filename)
	sc := newScope(ae.enc.Name, ae.enc.Pos.Filename)
	ins, ok, err := l.bindEntryParams(ae.enc, sc)
	if err != nil {
		return nil, err
	}
	if !ok || len(ins) != 1 {
		return nil, lang.Errorf(ae.enc.Pos, "%s: an autoencoder's encoder takes one tensor and hyperparameters with defaults", ae.enc.Name)
	}
	x := ins[0]
	codes, err := l.body(ae.enc, sc)
	if err != nil {
		return nil, err
	}
	if len(codes) != 1 {
		return nil, lang.Errorf(ae.enc.Pos, "%s: returns %d values, want one code", ae.enc.Name, len(codes))
	}
	top.names["z"] = codes[0]
	top.prefix = ""
	recon, err := l.instantiateTop(top, ae.dec, codes[0], f.Params[1].Pos)
	if err != nil {
		return nil, err
	}
	if !recon.Type.Shape.Equal(x.Type.Shape) {
		return nil, lang.Errorf(f.Params[1].Pos, "%s: decoder %s returns %v, want the encoder's input shape %v", f.Name, ae.dec.Name, recon.Type.Shape, x.Type.Shape)
	}
	if mode == "reconstruct" {
		l.b.F.Outputs = []ir.Output{{Name: "out", Value: recon}}
		return l.b.F, nil
	}
	lossV, err := builtins[ae.loss].lower(l, &lang.Call{Pos: ae.lossPos, Func: ae.loss}, []value{tensorVal(recon), tensorVal(x)})
	if err != nil {
		return nil, err
	}
	loss := lossV.op
	params := l.b.F.Params()
	if ae.l2 > 0 {
		if loss, err = l.l2Penalty(ae.lossPos, loss, params, ae.l2); err != nil {
			return nil, err
		}
	}
	l.b.F.Outputs = []ir.Output{{Name: "loss", Value: loss}}
	if mode == "loss" && ae.loss != "mse" {
		// The family's own metric: the reconstruction's mean squared error per element,
		// comparable across losses (and the usual anomaly score).
		mse, err := builtins["mse"].lower(l, &lang.Call{Pos: ae.lossPos, Func: "mse"}, []value{tensorVal(recon), tensorVal(x)})
		if err != nil {
			return nil, err
		}
		l.b.F.Outputs = append(l.b.F.Outputs, ir.Output{Name: "metric:mse", Value: mse.op})
	}
	if mode == "step" {
		grads, err := ir.Grad(l.b.F, loss, params)
		if err != nil {
			return nil, lang.Errorf(f.Pos, "%s: %v", f.Name, err)
		}
		for i, prm := range params {
			l.b.F.Outputs = append(l.b.F.Outputs, ir.Output{Name: "grad:" + prm.Attrs.String("name"), Value: grads[i]})
		}
	}
	return l.b.F, nil
}

// instantiateTop lowers a block called with one tensor at the top level of a family, so
// that its parameters are named after the block itself (Dec.dense0.weight).
func (l *lowerer) instantiateTop(top *scope, b *lang.Block, arg value, at lang.Pos) (*ir.Op, error) {
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
			continue
		}
		tensors++
		if err := l.unify(sc, prm.Type.Shape, arg.op.Type.Shape, b.Name+": "+prm.Name, at); err != nil {
			return nil, err
		}
		sc.names[prm.Name] = arg
	}
	if tensors != 1 {
		return nil, lang.Errorf(b.Pos, "%s: takes %d tensors, want one", b.Name, tensors)
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
