package compiler

import (
	"slices"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// trainBlock is a train block's settings once read.
type trainBlock struct {
	t         *lang.Train
	spec      *ir.TrainSpec
	optimizer ir.OptSpec
	phaseOpts map[string]ir.OptSpec // d_optimizer, g_optimizer: by phase
	loss      *lang.Setting
	graph     graphSettings
	fam       *lang.Family // the target, when it is a family block
	block     *lang.Block  // the target, when it is a model
}

// lowerTrain fills the module's train spec from the train block.
func (p *Program) lowerTrain(m *ir.Module, t *lang.Train) error {
	tb := &trainBlock{t: t, graph: graphSettings{train: t}, phaseOpts: map[string]ir.OptSpec{},
		spec:      &ir.TrainSpec{Batch: 32, Epochs: 1, Seed: 1, Shuffle: true, Pos: irPos(t.Pos)},
		optimizer: ir.OptSpec{Name: "adam", Args: map[string]float64{"lr": 1e-3}, Pos: irPos(t.Pos)}}
	if err := p.trainTarget(tb); err != nil {
		return err
	}
	hasData := false
	seen := map[string]bool{}
	for _, s := range t.Settings {
		if seen[s.Name] {
			return lang.Errorf(s.Pos, "train: %s set twice", s.Name)
		}
		seen[s.Name] = true
		hasData = hasData || s.Name == "data"
		if err := p.trainSetting(tb, s); err != nil {
			return err
		}
	}
	if !hasData {
		return lang.Errorf(t.Pos, "train: missing data = …")
	}
	pl, err := p.trainPlan(m, tb)
	if err != nil {
		return err
	}
	spec := tb.spec
	spec.Task, spec.Eval, spec.Noise, spec.Graph = pl.task, pl.eval, pl.noise, pl.graph
	spec.Feeds = pl.feeds
	if ev := m.Func(pl.eval); spec.Feeds == nil && ev != nil {
		for i, kind := range pl.inputs {
			if i < len(ev.Inputs) {
				spec.Feeds = append(spec.Feeds, ir.Feed{Input: ev.Inputs[i].Name, Kind: kind})
			}
		}
	}
	spec.Roles = slices.SortedFunc(slices.Values(pl.roles), func(a, b ir.RoleFunc) int { return int(a.Role) - int(b.Role) })
	for _, ph := range pl.phases {
		if ph.Optimizer.Name == "" {
			ph.Optimizer = tb.optimizer
		}
		if o, ok := tb.phaseOpts[ph.Name]; ok {
			ph.Optimizer = o
		}
		spec.Phases = append(spec.Phases, ph)
	}
	m.Train = spec
	return nil
}

// trainTarget checks what the train block names: a family block or a model, or, when it
// writes its own phases, a new name for the run.
func (p *Program) trainTarget(tb *trainBlock) error {
	t := tb.t
	fam, isFamily := p.families[t.Target]
	block, isBlock := p.blocks[t.Target]
	switch {
	case len(t.Phases) > 0 && (isFamily || isBlock):
		return lang.Errorf(t.Pos, "train: %s writes its own phases, so it names the run; %s is already a block of this file", t.Target, t.Target)
	case len(t.Phases) > 0:
		return nil
	case len(t.Params) > 0:
		return lang.Errorf(t.Params[0].Pos, "train: only a train block that writes its own phases takes parameters (the tensors its data feeds)")
	case isFamily:
		tb.fam = fam
		return nil
	case isBlock && block.Kind != "layer":
		tb.block = block
		return nil
	}
	var cands []string
	for n := range p.families {
		cands = append(cands, n)
	}
	for n, b := range p.blocks {
		if !p.std[b] {
			cands = append(cands, n)
		}
	}
	if s := nearest(t.Target, cands); s != "" {
		return lang.Errorf(t.Pos, "train: undefined: %s (did you mean %s?)", t.Target, s)
	}
	return lang.Errorf(t.Pos, "train: undefined: %s", t.Target)
}

// trainSetting reads one setting of the train block into tb.
func (p *Program) trainSetting(tb *trainBlock, s *lang.Setting) error {
	spec := tb.spec
	switch s.Name {
	case "data", "test":
		d, err := p.dataSpec(s)
		if err != nil {
			return err
		}
		if s.Name == "data" {
			spec.Data = d
		} else {
			spec.Test = &d
		}
	case "optimizer", "d_optimizer", "g_optimizer":
		if s.Name != "optimizer" && !hasPhase(p.plans[tb.t.Target], strings.TrimSuffix(s.Name, "_optimizer")) {
			return lang.Errorf(s.Pos, "train: %s applies to the phases of a gan or an adversarial autoencoder; use optimizer (or a phase's own)", s.Name)
		}
		o, err := p.optimizerCall(s)
		if err != nil {
			return err
		}
		if s.Name == "optimizer" {
			tb.optimizer = o
		} else {
			tb.phaseOpts[strings.TrimSuffix(s.Name, "_optimizer")] = o
		}
	case "batch", "epochs", "seed":
		return p.trainCount(spec, s)
	case "shuffle":
		switch bareIdent(s.Value) {
		case "true":
			spec.Shuffle = true
		case "false":
			spec.Shuffle = false
		default:
			return lang.Errorf(s.Value.Pos, "train: shuffle = %s, want true or false", exprString(s.Value))
		}
	case "loss":
		switch {
		case tb.fam != nil:
			return lang.Errorf(s.Pos, "train: the loss of %s %s is set in its own block", tb.fam.Kind, tb.fam.Name)
		case tb.block == nil:
			return lang.Errorf(s.Pos, "train: each phase sets its own loss = …")
		}
		tb.loss = s
	case "labelled", "test_edges":
		if g, _ := graphParams(tb.block); g == nil {
			return lang.Errorf(s.Pos, "train: %s applies to a model that takes a graph", s.Name)
		}
		if s.Name == "labelled" {
			tb.graph.labelled = s
		} else {
			tb.graph.testEdges = s
		}
	default:
		return lang.Errorf(s.Pos, "train: unknown setting %s (want data, test, optimizer, d_optimizer, g_optimizer, batch, epochs, seed, shuffle, loss, labelled, test_edges)", s.Name)
	}
	return nil
}

// trainCount reads batch, epochs or seed.
func (p *Program) trainCount(spec *ir.TrainSpec, s *lang.Setting) error {
	v, err := p.evalConst(s.Value)
	if err != nil {
		return err
	}
	if v.kind != kInt || v.num < 0 || (v.num == 0 && s.Name != "seed") {
		want := "a positive int"
		if s.Name == "seed" {
			want = "an int ≥ 0"
		}
		return lang.Errorf(s.Value.Pos, "train: %s = %s, want %s", s.Name, v, want)
	}
	switch s.Name {
	case "batch":
		spec.Batch = int(v.num)
	case "epochs":
		spec.Epochs = int(v.num)
	default:
		spec.Seed = int64(v.num)
	}
	return nil
}

// trainPlan lowers what the train block trains: its own phases, a family's, a graph
// model's or a model's against its targets.
func (p *Program) trainPlan(m *ir.Module, tb *trainBlock) (*plan, error) {
	switch {
	case len(tb.t.Phases) > 0:
		return p.lowerPhases(m, tb.t)
	case tb.fam != nil:
		return p.plans[tb.fam.Name], nil
	}
	if g, _ := graphParams(tb.block); g != nil {
		return p.lowerGraphTask(m, tb.block, tb.loss, tb.graph)
	}
	if tb.loss == nil {
		return nil, lang.Errorf(tb.t.Pos, "train: missing loss = … (training model %s needs one: %s)", tb.block.Name, strings.Join(supervisedLosses, ", "))
	}
	return p.lowerSupervised(m, tb.block, tb.loss)
}

// optimizerCall reads `optimizer = adam(lr: 1e-3)`: a call whose arguments are named
// numbers.
func (p *Program) optimizerCall(s *lang.Setting) (ir.OptSpec, error) {
	c := bareCall(s.Value)
	if c == nil {
		return ir.OptSpec{}, lang.Errorf(s.Value.Pos, "train: %s = %s, want a call such as adam(lr: 1e-3)", s.Name, exprString(s.Value))
	}
	o := ir.OptSpec{Name: c.Func, Args: map[string]float64{}, Pos: irPos(c.Pos)}
	for _, a := range c.Args {
		if a.Name == "" {
			return ir.OptSpec{}, lang.Errorf(a.Pos, "train: %s arguments are named (lr: 1e-3)", c.Func)
		}
		v, err := p.evalConst(a.Value)
		if err != nil {
			return ir.OptSpec{}, err
		}
		if v.kind != kInt && v.kind != kFloat && v.kind != kBool {
			return ir.OptSpec{}, lang.Errorf(a.Value.Pos, "train: %s: %s is %s, want a number", c.Func, a.Name, v)
		}
		o.Args[a.Name] = v.num
	}
	return o, nil
}

// hasPhase reports whether plan pl (nil for a plain model, lowered later) trains a phase
// of that name.
func hasPhase(pl *plan, name string) bool {
	if pl == nil {
		return false
	}
	for _, ph := range pl.phases {
		if ph.Name == name {
			return true
		}
	}
	return false
}
