package compiler

import (
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
	"github.com/dlc-lang/dlc/lang"
)

// supervisedLosses are the losses a plain model can be trained with, against the data's
// targets.
var supervisedLosses = schema.SupervisedLosses

// lowerSupervised adds the functions that train model block b on (sample, target) pairs:
// b.loss, computing the loss and the metrics of the loss's kind, and b.step, adding the
// gradients. The target input y has the shape of b's result.
func (p *Program) lowerSupervised(m *ir.Module, b *lang.Block, loss *lang.Setting) (*plan, error) {
	name := bareIdent(loss.Value)
	known := false
	for _, l := range supervisedLosses {
		known = known || l == name
	}
	if !known {
		return nil, lang.Errorf(loss.Value.Pos, "train: loss = %s, want %s", exprString(loss.Value), strings.Join(supervisedLosses, ", "))
	}
	pl := &plan{inputs: []ir.FeedKind{ir.FeedSamples, ir.FeedTargets}, eval: b.Name + ".loss"}
	pl.role(ir.RolePredict, b.Name)
	for _, fn := range []string{"loss", "step"} {
		l, _, _, pred, err := p.lowerModel(b, fn, "one tensor (hyperparameters need defaults) to be trained on samples")
		if err != nil {
			return nil, err
		}
		l.setPos(loss.Pos)
		y := l.b.Input("y", ir.F32(pred.Type.Shape))
		lv, err := builtins[name].lower(l, &lang.Call{Pos: loss.Value.Pos, Func: name}, []value{tensorVal(pred), tensorVal(y)})
		if err != nil {
			return nil, err
		}
		l.b.F.Outputs = []ir.Output{{Name: "loss", Value: lv.op}}
		if fn == "loss" && name == "cross_entropy" {
			acc, err := l.accuracy(loss, pred, y)
			if err != nil {
				return nil, err
			}
			l.b.F.Outputs = append(l.b.F.Outputs, ir.Output{Name: ir.OutputName(ir.OutMetric, "accuracy"), Value: acc})
		}
		if fn == "step" {
			ph, err := l.finishStep(loss.Pos, "train", lv.op, l.b.F.Params())
			if err != nil {
				return nil, err
			}
			pl.phases = []ir.Phase{ph}
		}
		m.Funcs = append(m.Funcs, l.b.F)
	}
	return pl, nil
}

// lowerModel lowers model b as the function B.fn, in training mode for "step" and
// evaluation mode otherwise, with its tensor parameters as inputs, and returns its one
// prediction; takes says what b must take, for the message when it cannot stand alone
// with one tensor input.
func (p *Program) lowerModel(b *lang.Block, fn, takes string) (*lowerer, *scope, []*ir.Op, *ir.Op, error) {
	mode := "eval"
	if fn == "step" {
		mode = "train"
	}
	l := p.newLowerer(b.Name+"."+fn, mode)
	sc := newScope(b.Name, b.Pos.Filename)
	ins, ok, err := l.bindEntryParams(b, sc)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if !ok || len(ins) != 1 {
		return nil, nil, nil, nil, lang.Errorf(b.Pos, "train: %s must take %s", b.Name, takes)
	}
	outs, err := l.body(b, sc)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if len(outs) != 1 {
		return nil, nil, nil, nil, lang.Errorf(b.Pos, "train: %s returns %d values, want one prediction", b.Name, len(outs))
	}
	return l, sc, ins, outs[0].op, nil
}

// accuracy is the fraction of rows whose largest prediction is at the target's largest
// entry (its class, for one-hot targets).
func (l *lowerer) accuracy(at *lang.Setting, pred, y *ir.Op) (*ir.Op, error) {
	l.setPos(at.Pos)
	hit := l.b.Op("eq", nil, l.b.Op("argmax", ir.Attrs{"axis": -1}, pred), l.b.Op("argmax", ir.Attrs{"axis": -1}, y))
	acc := l.b.Op("mean", ir.Attrs{"axes": []int{}, "keepdims": false}, hit)
	if l.b.Err != nil {
		return nil, lang.Errorf(at.Pos, "accuracy: %v", l.b.Err)
	}
	return acc, nil
}
