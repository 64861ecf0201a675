package compiler

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
	"github.com/dlc-lang/dlc/lang"
)

// Phases written in a train block: training as a list of optimiser steps, each with its own
// loss, the networks it updates, its optimiser and how many batches it takes.
//
//	train CycleGAN(a: [B, 1, 28, 28], b: [B, 1, 28, 28] = draw) {
//	    data = mnist(split: "train", low: -1, high: 1)
//	    phase d {
//	        updates = [DA, DB]
//	        loss    = mse_to(DA(a), 1) + …
//	    }
//	    phase g {
//	        updates = [GAB, GBA]
//	        loss    = …
//	    }
//	}
//
// The train block's parameters are the tensors the data feeds every phase: `= samples` (the
// default of the first) is the batch, `= targets` its targets, `= draw` a second batch of
// the same data in an order of its own. A phase's body is statements like a block's; a
// call of a block there is a call of that network at the top level, so that every phase
// that calls G uses G's one set of parameters (G.dense0.weight, …). The settings loss (a
// scalar), updates (a list of networks), optimizer, repeat and report (a list of scalar
// locals to log as metrics) say what the phase is; every network a phase does not update
// is frozen while it runs, and its gradients are not even built.
//
// The evaluation (T.eval) computes every phase's loss in evaluation mode: the first
// phase's is the run's test loss, the others are reported as PHASE_loss beside the
// reports. The families (gan, autoencoder, a model trained with a loss) produce the same
// plan: phases with step functions, the parameters each updates, and an evaluation.

// writtenPhase is a phase's settings once its body is lowered.
type writtenPhase struct {
	ph      *lang.Phase
	loss    *ir.Op
	lossPos lang.Pos
	updates []string
	updPos  lang.Pos
	opt     *ir.OptSpec
	repeat  int
	sched   *ir.Schedule
	clip    *ir.Clip
	reports []ir.Output
	show    []*ir.Op // images to show after each epoch, one row each
	// showNames are the show list's elements as written, which name the picture's rows.
	showNames []string
}

// trainFeeds reads the train block's parameters: what the data feeds each.
func trainFeeds(t *lang.Train) ([]ir.FeedKind, error) {
	kinds := make([]ir.FeedKind, len(t.Params))
	names := map[string]ir.FeedKind{"samples": ir.FeedSamples, "targets": ir.FeedTargets, "draw": ir.FeedDraw}
	samples := 0
	for i, prm := range t.Params {
		if prm.Type.Shape == nil {
			return nil, lang.Errorf(prm.Pos, "train: %s: %s, want a tensor shape such as [B, 784]: the parameters of a train block are the tensors its data feeds", prm.Name, typeString(prm.Type))
		}
		switch {
		case prm.Default == nil && i == 0:
			kinds[i] = ir.FeedSamples
		case prm.Default == nil:
			return nil, lang.Errorf(prm.Pos, "train: %s: say what feeds it: = samples, = targets or = draw", prm.Name)
		default:
			k, ok := names[bareIdent(prm.Default)]
			if !ok {
				return nil, lang.Errorf(prm.Default.Pos, "train: %s = %s, want samples (the batch), targets (its targets) or draw (a batch in an order of its own)", prm.Name, exprString(prm.Default))
			}
			kinds[i] = k
		}
		if kinds[i] == ir.FeedSamples {
			samples++
		}
	}
	if samples != 1 {
		return nil, lang.Errorf(t.Pos, "train: %s: want one parameter fed the samples, got %d", t.Target, samples)
	}
	return kinds, nil
}

// lowerPhases lowers the phases written in train block t: a step function T.P for each
// phase P, and the evaluation T.eval.
func (p *Program) lowerPhases(m *ir.Module, t *lang.Train) (*plan, error) {
	if len(t.Params) == 0 {
		return nil, lang.Errorf(t.Pos, "train: %s writes its own phases, so it takes the tensors its data feeds: train %s(x: [B, …]) { … }", t.Target, t.Target)
	}
	kinds, err := trainFeeds(t)
	if err != nil {
		return nil, err
	}
	pl := &plan{inputs: kinds, eval: t.Target + ".eval"}
	seen := map[string]bool{}
	for _, ph := range t.Phases {
		if seen[ph.Name] {
			return nil, lang.Errorf(ph.Pos, "train: phase %s written twice", ph.Name)
		}
		if ph.Name == "eval" || ph.Name == "show" {
			return nil, lang.Errorf(ph.Pos, "train: a phase cannot be named %s: %s.%s is the run's %s function", ph.Name, t.Target, ph.Name, map[string]string{"eval": "evaluation", "show": "pictures'"}[ph.Name])
		}
		seen[ph.Name] = true
		l, wp, err := p.lowerPhase(t, ph, t.Target+"."+ph.Name, "train")
		if err != nil {
			return nil, err
		}
		step, err := l.finishWritten(wp)
		if err != nil {
			return nil, err
		}
		m.Funcs = append(m.Funcs, l.b.F)
		pl.phases = append(pl.phases, step)
	}
	ev, err := p.lowerPhaseEval(t)
	if err != nil {
		return nil, err
	}
	m.Funcs = append(m.Funcs, ev)
	var shown *lang.Setting
	for _, ph := range t.Phases {
		s := phaseSettingOf(ph, "show")
		switch {
		case s == nil:
			continue
		case shown != nil:
			return nil, lang.Errorf(s.Pos, "train: show is set in two phases (first at %s): the run shows one list of images", shortPos(shown.Pos))
		}
		shown = s
		f, err := p.lowerPhaseShow(t, ph)
		if err != nil {
			return nil, err
		}
		m.Funcs = append(m.Funcs, f)
		pl.role(ir.RoleShow, f.Name)
	}
	return pl, nil
}

// phaseSettingOf returns phase ph's setting name, or nil.
func phaseSettingOf(ph *lang.Phase, name string) *lang.Setting {
	for _, s := range ph.Body {
		if s.Assign != nil && s.Assign.Name == name {
			return s.Assign
		}
	}
	return nil
}

// lowerPhaseShow lowers T.show: phase ph's body in evaluation mode, with its show list as
// its outputs, each named by the element when it is a name and outI otherwise.
func (p *Program) lowerPhaseShow(t *lang.Train, ph *lang.Phase) (*ir.Func, error) {
	l, wp, err := p.lowerPhase(t, ph, t.Target+".show", "eval")
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	for i, o := range wp.show {
		// An element written as a name (a, fake_b) names its output, and so the picture's
		// row; any other (GBA(fake_b)) is outI.
		name := wp.showNames[i]
		if !isIdent(name) || taken[name] {
			name = fmt.Sprintf("out%d", i)
		}
		taken[name] = true
		l.b.F.Outputs = append(l.b.F.Outputs, ir.Output{Name: name, Value: o})
	}
	if l.b.Err != nil {
		return nil, lang.Errorf(ph.Pos, "phase %s: %v", ph.Name, l.b.Err)
	}
	return l.b.F, nil
}

// lowerPhase lowers phase ph of t alone into a new function fn, in mode.
func (p *Program) lowerPhase(t *lang.Train, ph *lang.Phase, fn, mode string) (*lowerer, *writtenPhase, error) {
	l := p.newLowerer(fn, mode)
	sc, err := l.phaseScope(t)
	if err != nil {
		return nil, nil, err
	}
	wp, err := l.phaseBody(sc, ph)
	return l, wp, err
}

// phaseScope makes the inputs of a phase's function from the train block's parameters and
// returns the scope its body runs in.
func (l *lowerer) phaseScope(t *lang.Train) (*scope, error) {
	sc := newScope(t.Target, t.Pos.Filename)
	sc.top = true
	sig := &lang.Block{Pos: t.Pos, Name: t.Target}
	for _, prm := range t.Params {
		sig.Params = append(sig.Params, &lang.Param{Pos: prm.Pos, EndPos: prm.EndPos, Name: prm.Name, Type: prm.Type})
	}
	if _, _, err := l.bindEntryParams(sig, sc); err != nil {
		return nil, err
	}
	return sc, nil
}

// phaseBody lowers the statements of one phase and reads its settings.
func (l *lowerer) phaseBody(sc *scope, ph *lang.Phase) (*writtenPhase, error) {
	wp := &writtenPhase{ph: ph, repeat: 1}
	set := map[string]bool{}
	for _, s := range ph.Body {
		switch {
		case s.Return != nil:
			return nil, lang.Errorf(s.Pos, "phase %s: a phase has no return; its loss = … is what it minimises", ph.Name)
		case s.Unpack != nil:
			if err := l.unpack(sc, s.Unpack); err != nil {
				return nil, err
			}
		default:
			a := s.Assign
			if isPhaseSetting(a.Name) {
				if set[a.Name] {
					return nil, lang.Errorf(a.Pos, "phase %s: %s set twice", ph.Name, a.Name)
				}
				set[a.Name] = true
				if err := l.phaseSetting(sc, wp, a); err != nil {
					return nil, err
				}
				continue
			}
			v, err := l.assign(sc, a)
			if err != nil {
				return nil, err
			}
			sc.names[a.Name] = v
		}
	}
	if wp.loss == nil {
		return nil, lang.Errorf(ph.Pos, "phase %s: missing loss = … (a scalar the phase minimises)", ph.Name)
	}
	if wp.updates == nil {
		return nil, lang.Errorf(ph.Pos, "phase %s: missing updates = [Net, …] (the networks whose parameters this phase trains)", ph.Name)
	}
	return wp, nil
}

func isPhaseSetting(name string) bool {
	_, ok := schema.Lookup(schema.PhaseSettings, name)
	return ok
}

// phaseSetting reads one of the reserved settings of a phase.
func (l *lowerer) phaseSetting(sc *scope, wp *writtenPhase, s *lang.Setting) error {
	name := wp.ph.Name
	switch s.Name {
	case "loss":
		v, err := l.eval(sc, s.Value)
		if err != nil {
			return err
		}
		if v.kind != kTensor || len(v.op.Type.Shape) != 0 {
			return lang.Errorf(s.Value.Pos, "phase %s: loss = %s is %s, want a scalar tensor (e.g. mean(…))", name, exprString(s.Value), describe(v))
		}
		wp.loss, wp.lossPos = v.op, s.Value.Pos
	case "updates", "report":
		names, err := identList(s, "phase "+name)
		if err != nil {
			return err
		}
		if s.Name == "updates" {
			wp.updates, wp.updPos = names, s.Value.Pos
			return l.checkUpdates(wp)
		}
		for _, n := range names {
			v, ok := sc.names[n]
			if !ok || v.kind != kTensor || len(v.op.Type.Shape) != 0 {
				return lang.Errorf(s.Value.Pos, "phase %s: report %s, want a scalar tensor assigned earlier in the phase", name, n)
			}
			wp.reports = append(wp.reports, ir.Output{Name: ir.OutputName(ir.OutMetric, n), Value: v.op})
		}
	case "show":
		// Only T.show computes the images: in a step they would be a forward pass more
		// (updating batch-norm statistics), and in the evaluation dead ops.
		if l.b.F.Name != sc.prefix+".show" {
			return nil
		}
		return l.phaseShow(sc, wp, s)
	case "optimizer", "repeat", "schedule", "clip":
		spec, _ := schema.Lookup(schema.PhaseSettings, s.Name)
		st, err := settingsChecker{what: "phase " + name, eval: l.p.evalConst}.value("phase "+name, spec, s.Value)
		if err != nil {
			return err
		}
		switch s.Name {
		case "repeat":
			wp.repeat = int(st.val.num)
		case "schedule":
			// (Each lowering of the phase, the step's and the evaluation's, reads it:
			// its monitor is checked once per reading, against the same metrics.)
			wp.sched = l.p.schedule("phase "+name+": schedule", st)
		case "clip":
			wp.clip = clipOf(st)
		default:
			o := st.optSpec()
			wp.opt = &o
		}
	}
	return nil
}

// phaseShow reads show = [a, G(a), …]: images of one shape, shown as the rows of a picture
// after each epoch (the first of each on the test set's first samples).
func (l *lowerer) phaseShow(sc *scope, wp *writtenPhase, s *lang.Setting) error {
	elems := listElems(s.Value)
	if len(elems) == 0 {
		return lang.Errorf(s.Value.Pos, "phase %s: show = %s, want a list of images such as [a, G(a)]", wp.ph.Name, exprString(s.Value))
	}
	for _, e := range elems {
		v, err := l.eval(sc, e)
		if err != nil {
			return err
		}
		if v.kind != kTensor || len(v.op.Type.Shape) < 2 {
			return lang.Errorf(e.Pos, "phase %s: show: %s is %s, want a batch of images [B, …]", wp.ph.Name, exprString(e), describe(v))
		}
		if first := wp.show; len(first) > 0 && !first[0].Type.Shape.Equal(v.op.Type.Shape) {
			return lang.Errorf(e.Pos, "phase %s: show: %s is %v, the first image is %v; the rows of a picture have one shape", wp.ph.Name, exprString(e), v.op.Type.Shape, first[0].Type.Shape)
		}
		wp.show = append(wp.show, v.op)
		wp.showNames = append(wp.showNames, exprString(e))
	}
	return nil
}

// listElems returns the elements of e when e is a list literal [a, b, …], else nil.
func listElems(e *lang.Expr) []*lang.Expr {
	if pr := e.Left.Left.Postfix.Primary; len(e.Rest) == 0 && len(e.Left.Rest) == 0 && !e.Left.Left.Neg && len(e.Left.Left.Postfix.Suffix) == 0 && pr.List != nil {
		return pr.List.Elems
	}
	return nil
}

// identList reads [A, B, …], a list of names (or one name alone).
func identList(s *lang.Setting, what string) ([]string, error) {
	elems := listElems(s.Value)
	if elems == nil && bareIdent(s.Value) != "" {
		elems = []*lang.Expr{s.Value}
	}
	var out []string
	for _, e := range elems {
		n := bareIdent(e)
		if n == "" {
			return nil, lang.Errorf(e.Pos, "%s: %s lists names, got %s", what, s.Name, exprString(e))
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, lang.Errorf(s.Value.Pos, "%s: %s = %s, want a list of names such as [G, D]", what, s.Name, exprString(s.Value))
	}
	return out, nil
}

// checkUpdates checks that every network a phase updates is a block, listed once.
func (l *lowerer) checkUpdates(wp *writtenPhase) error {
	for i, n := range wp.updates {
		if slices.Contains(wp.updates[:i], n) {
			return lang.Errorf(wp.updPos, "phase %s: updates lists %s twice", wp.ph.Name, n)
		}
		b, ok := l.p.blocks[n]
		if !ok || l.p.std[b] {
			var cands []string
			for name, b := range l.p.blocks {
				if !l.p.std[b] {
					cands = append(cands, name)
				}
			}
			msg := fmt.Sprintf("phase %s: updates %s, which is not a network of this file", wp.ph.Name, n)
			if s := nearest(n, cands); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			return lang.Errorf(wp.updPos, "%s", msg)
		}
	}
	return nil
}

// finishWritten differentiates a written phase's loss with respect to the parameters of the
// networks it updates and returns its phase.
func (l *lowerer) finishWritten(wp *writtenPhase) (ir.Phase, error) {
	var params []*ir.Op
	feeds := ancestors(wp.loss)
	for _, n := range wp.updates {
		found, used := false, false
		for _, prm := range l.b.F.Params() {
			if strings.HasPrefix(prm.Attrs.String("name"), n+".") {
				params, found = append(params, prm), true
				used = used || feeds[prm]
			}
		}
		if found && !used {
			return ir.Phase{}, lang.Errorf(wp.updPos, "phase %s: updates %s, but its loss does not depend on %s: the phase would never move it", wp.ph.Name, n, n)
		}
		if !found {
			var called []string
			for _, prm := range l.b.F.Params() {
				called = append(called, prm.Attrs.String("name"))
			}
			return ir.Phase{}, lang.Errorf(wp.updPos, "phase %s: updates %s, but the phase never calls %s (or %s has no parameters); the networks it calls are %s",
				wp.ph.Name, n, n, n, strings.Join(networks(called), ", "))
		}
	}
	if l.b.Err != nil {
		return ir.Phase{}, lang.Errorf(wp.lossPos, "phase %s: %v", wp.ph.Name, l.b.Err)
	}
	l.b.F.Outputs = append(l.b.F.Outputs, wp.reports...)
	ph, err := l.finishStep(wp.lossPos, wp.ph.Name, wp.loss, params)
	if err != nil {
		return ir.Phase{}, err
	}
	ph.Repeat = wp.repeat
	ph.Schedule, ph.Clip = wp.sched, wp.clip
	if wp.opt != nil {
		ph.Optimizer = *wp.opt
	}
	return ph, nil
}

// networks returns the networks parameters belong to (G of G.dense0.weight), in order of
// first appearance.
func networks(params []string) []string {
	var nets []string
	for _, n := range params {
		if net, _, _ := strings.Cut(n, "."); !slices.Contains(nets, net) {
			nets = append(nets, net)
		}
	}
	return nets
}

// ancestors returns the ops v's gradient reaches: those it is computed from, v included,
// not through a stop_gradient.
func ancestors(v *ir.Op) map[*ir.Op]bool {
	seen := map[*ir.Op]bool{}
	stack := []*ir.Op{v}
	for len(stack) > 0 {
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[o] {
			continue
		}
		seen[o] = true
		if o.Kind != "stop_gradient" {
			stack = append(stack, o.Args...)
		}
	}
	return seen
}

// lowerPhaseEval lowers T.eval: every phase's body in evaluation mode, in one function.
func (p *Program) lowerPhaseEval(t *lang.Train) (*ir.Func, error) {
	l := p.newLowerer(t.Target+".eval", "eval")
	sc, err := l.phaseScope(t)
	if err != nil {
		return nil, err
	}
	reported := map[string]bool{}
	for i, ph := range t.Phases {
		psc := newScope(sc.prefix, sc.file)
		psc.top = true
		for n, v := range sc.names {
			psc.names[n] = v
		}
		wp, err := l.phaseBody(psc, ph)
		if err != nil {
			return nil, err
		}
		out := ir.Output{Name: ir.OutputName(ir.OutLoss, ""), Value: wp.loss}
		if i > 0 {
			out.Name = ir.OutputName(ir.OutMetric, ph.Name+"_loss")
		}
		l.b.F.Outputs = append(l.b.F.Outputs, out)
		for _, r := range wp.reports {
			if !reported[r.Name] {
				reported[r.Name] = true
				l.b.F.Outputs = append(l.b.F.Outputs, r)
			}
		}
	}
	if l.b.Err != nil {
		return nil, lang.Errorf(t.Pos, "train: %v", l.b.Err)
	}
	return l.b.F, nil
}

// isIdent reports whether s is a name: a letter or _, then letters, digits and _.
func isIdent(s string) bool {
	for i, r := range s {
		if r != '_' && !unicode.IsLetter(r) && (i == 0 || !unicode.IsDigit(r)) {
			return false
		}
	}
	return s != ""
}
