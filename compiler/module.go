package compiler

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// Lower builds the module: a function for each block of the main file that can stand alone,
// the functions of each family block, and the train spec.
func (p *Program) Lower() (*ir.Module, error) {
	m := &ir.Module{}
	for _, d := range p.Main.Decls {
		// Blocks that other blocks call are helpers, generic in their shapes; they are
		// checked through their calls. The others are entry points.
		if d.Block == nil || p.blocks[d.Block.Name] != d.Block || p.called[d.Block.Name] {
			continue
		}
		f, ok, err := p.entry(d.Block)
		if err != nil {
			return nil, err
		}
		if !ok && !p.boundInFamily(d.Block.Name) {
			// A block nobody calls, whose hyperparameters cannot all take defaults, could
			// only be dropped unchecked: say so rather than print "ok" for it.
			return nil, lang.Errorf(d.Block.Pos, "%s: nothing calls %s, and it cannot run alone: hyperparameter %s has no default (give it one, or call %s from another block)",
				d.Block.Name, d.Block.Name, firstWithoutDefault(d.Block), d.Block.Name)
		}
		if ok {
			m.Funcs = append(m.Funcs, f)
		}
	}
	for _, file := range p.Files {
		for _, d := range file.Decls {
			if d.Family != nil {
				if err := p.lowerFamily(m, d.Family); err != nil {
					return nil, err
				}
			}
		}
	}
	if len(p.trains) > 1 {
		return nil, lang.Errorf(p.trains[1].Pos, "train: a file has at most one train block (first at %s)", shortPos(p.trains[0].Pos))
	}
	if len(p.trains) == 0 && len(p.overrides) > 0 {
		return nil, fmt.Errorf("--set %s=%s: the file has no train block to set it in", p.overrides[0].Key, p.overrides[0].Value)
	}
	if len(p.trains) == 1 {
		if err := p.applyOverrides(p.trains[0], p.overrides); err != nil {
			return nil, err
		}
		if err := p.lowerTrain(m, p.trains[0]); err != nil {
			return nil, overrideError(err, p.overrides)
		}
	}
	return m, nil
}

// boundInFamily reports whether a family block's parameter names block name (gen: G): such a
// block is used, and checked, through its family.
func (p *Program) boundInFamily(name string) bool {
	for _, file := range p.Files {
		for _, d := range file.Decls {
			if d.Family == nil {
				continue
			}
			for _, prm := range d.Family.Params {
				if prm.Type != nil && prm.Type.Named == name {
					return true
				}
			}
		}
	}
	return false
}

// firstWithoutDefault names the first hyperparameter of b that has no default.
func firstWithoutDefault(b *lang.Block) string {
	for _, prm := range b.Params {
		if prm.Type.Shape == nil && prm.Default == nil {
			return prm.Name
		}
	}
	return "?"
}

// familyBlock returns the block bound to a family parameter, checking its kind.
func (p *Program) familyBlock(f *lang.Family, prm *lang.Param, kind string) (*lang.Block, error) {
	b, ok := p.blocks[prm.Type.Named]
	if !ok || prm.Type.Named == "" {
		return nil, lang.Errorf(prm.Type.Pos, "%s: %s has type %s, want the name of %s %s block", f.Name, prm.Name, typeString(prm.Type), article(kind), kind)
	}
	if b.Kind != kind {
		return nil, lang.Errorf(prm.Type.Pos, "%s: %s is %s %s, want %s %s block", f.Name, prm.Name, b.Kind, b.Name, article(kind), kind)
	}
	return b, nil
}

func typeString(t *lang.TypeExpr) string {
	if t.Shape != nil {
		return shapeString(t.Shape)
	}
	return t.Named
}

// plan is what a family (or a plain model) contributes to the train spec: the functions it
// lowered for each phase, the evaluation and the roles, and what feeds their inputs. The
// train block adds the optimisers and the data.
type plan struct {
	task   ir.Task
	inputs []ir.FeedKind // what feeds each input of the eval function, in order (samples tasks)
	feeds  []ir.Feed     // or the feeds by name (graph tasks)
	phases []ir.Phase    // without optimisers
	eval   string
	roles  []ir.RoleFunc
	noise  ir.Noise
	graph  ir.GraphSpec
}

// role records that function fn plays role r.
func (pl *plan) role(r ir.Role, fn string) {
	pl.roles = append(pl.roles, ir.RoleFunc{Role: r, Func: fn})
}

// familyKind is one kind of family block: what it is and how it lowers. Each family's
// file registers its kind (registerFamily, in an init function), so that a new family is
// one new file.
type familyKind struct {
	doc   string // one line for the reference: what the family trains
	lower func(p *Program, m *ir.Module, f *lang.Family) (*plan, error)
}

var familyKinds = map[string]familyKind{}

func registerFamily(kind string, k familyKind) { familyKinds[kind] = k }

// familyKindNames lists the registered kinds, sorted.
func familyKindNames() []string {
	return slices.Sorted(maps.Keys(familyKinds))
}

// lowerFamily lowers the functions of family block f and records its plan.
func (p *Program) lowerFamily(m *ir.Module, f *lang.Family) error {
	k, ok := familyKinds[f.Kind]
	if !ok {
		msg := fmt.Sprintf("%s: unknown family kind %s (want %s)", f.Name, f.Kind, strings.Join(familyKindNames(), ", "))
		if s := nearest(f.Kind, familyKindNames()); s != "" {
			msg = fmt.Sprintf("%s: unknown family kind %s (did you mean %s?)", f.Name, f.Kind, s)
		}
		return lang.Errorf(f.Pos, "%s", msg)
	}
	pl, err := k.lower(p, m, f)
	if err != nil {
		return err
	}
	p.plans[f.Name] = pl
	return nil
}

// lossExpr evaluates a loss written in a family block as an expression of the values the
// family names (x, z, recon; d_real, d_fake, fake), which must be a scalar tensor.
func (l *lowerer) lossExpr(f *lang.Family, e *lang.Expr, names map[string]*ir.Op) (*ir.Op, error) {
	sc := newScope(f.Name, f.Pos.Filename)
	for n, o := range names {
		if o != nil {
			sc.names[n] = tensorVal(o)
		}
	}
	v, err := l.eval(sc, e)
	if err != nil {
		return nil, err
	}
	if v.kind != kTensor || len(v.op.Type.Shape) != 0 {
		return nil, lang.Errorf(e.Pos, "%s: loss %s is %s, want a scalar tensor (e.g. mean(…))", f.Name, exprString(e), describe(v))
	}
	return v.op, nil
}

// finishStep makes l's function a training step: it differentiates loss with respect to
// params, adds the "loss", "grad:NAME" and "state:NAME" outputs (before any metrics already
// there) and returns the phase updating params.
func (l *lowerer) finishStep(pos lang.Pos, name string, loss *ir.Op, params []*ir.Op) (ir.Phase, error) {
	grads, err := ir.Grad(l.b.F, loss, params)
	if err != nil {
		return ir.Phase{}, lang.Errorf(pos, "%v", err)
	}
	var metrics []ir.Output
	for _, o := range l.b.F.Outputs {
		if o.Name != "loss" {
			metrics = append(metrics, o)
		}
	}
	l.b.F.Outputs = []ir.Output{{Name: "loss", Value: loss}}
	ph := ir.Phase{Name: name, Step: l.b.F.Name, Repeat: 1, Params: []string{}}
	for i, prm := range params {
		n := prm.Attrs.String("name")
		l.b.F.Outputs = append(l.b.F.Outputs, ir.Output{Name: ir.OutputName(ir.OutGrad, n), Value: grads[i]})
		ph.Params = append(ph.Params, n)
	}
	l.stateOutputs()
	l.b.F.Outputs = append(l.b.F.Outputs, metrics...)
	return ph, nil
}

func article(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}
