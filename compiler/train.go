package compiler

import (
	"slices"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
	"github.com/dlc-lang/dlc/lang"
	"github.com/dlc-lang/dlc/runtime/data"
)

// trainBlock is a train block's settings once read.
type trainBlock struct {
	t         *lang.Train
	spec      *ir.TrainSpec
	optimizer ir.OptSpec
	phaseOpts map[string]ir.OptSpec // d_optimizer, g_optimizer: by phase
	loss      *lang.Setting
	graph     graphSettings
	fam       *lang.Family            // the target, when it is a family block
	block     *lang.Block             // the target, when it is a model
	schedules map[string]*ir.Schedule // by phase name; "" for every phase
	clips     map[string]*ir.Clip
}

// lowerTrain fills the module's train spec from the train block.
func (p *Program) lowerTrain(m *ir.Module, t *lang.Train) error {
	p.monitors = nil
	tb := &trainBlock{t: t, graph: graphSettings{train: t}, phaseOpts: map[string]ir.OptSpec{},
		spec:      &ir.TrainSpec{Batch: 32, Epochs: 1, Seed: 1, Shuffle: true, Pos: irPos(t.Pos)},
		optimizer: ir.OptSpec{Name: "adam", Args: map[string]float64{"lr": 1e-3}, Pos: irPos(t.Pos)}}
	if err := p.trainTarget(tb); err != nil {
		return err
	}
	got, err := p.checkSettings("train", schema.TrainSettings, t.Settings, t.Pos)
	if err != nil {
		return err
	}
	if err := p.readTrainSettings(tb, got); err != nil {
		return err
	}
	if err := p.readLoopSettings(tb, got); err != nil {
		return err
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
		tb.phaseLoop(&ph)
		spec.Phases = append(spec.Phases, ph)
	}
	if err := p.checkMonitors(m, spec); err != nil {
		return err
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

// readTrainSettings takes the checked settings of the train block into tb, and checks
// what the table cannot: which settings the target allows.
func (p *Program) readTrainSettings(tb *trainBlock, got settings) error {
	spec := tb.spec
	spec.Data = got["data"].dataSpec()
	if got.has("test") {
		d := got["test"].dataSpec()
		spec.Test = &d
	}
	spec.Batch, spec.Epochs, spec.Seed = int(got.num("batch")), int(got.num("epochs")), int64(got.num("seed"))
	spec.Shuffle = got.num("shuffle") != 0
	if got.has("optimizer") {
		tb.optimizer = got["optimizer"].optSpec()
	}
	for _, name := range []string{"d_optimizer", "g_optimizer"} {
		phase := strings.TrimSuffix(name, "_optimizer")
		switch {
		case !got.has(name):
		case !hasPhase(p.plans[tb.t.Target], phase):
			return lang.Errorf(tb.setting(name).Pos, "train: %s applies to the phases of a gan or an adversarial autoencoder; use optimizer (or a phase's own)", name)
		default:
			tb.phaseOpts[phase] = got[name].optSpec()
		}
	}
	if s := tb.setting("loss"); s != nil {
		switch {
		case tb.fam != nil:
			return lang.Errorf(s.Pos, "train: the loss of %s %s is set in its own block", tb.fam.Kind, tb.fam.Name)
		case tb.block == nil:
			return lang.Errorf(s.Pos, "train: each phase sets its own loss = …")
		}
		tb.loss = s
	}
	tb.graph.labelled, tb.graph.testEdges = tb.setting("labelled"), tb.setting("test_edges")
	tb.graph.edgeTargets = data.EdgeTargets(spec.Data)
	if tb.graph.neighborsAt = tb.setting("neighbors"); tb.graph.neighborsAt != nil {
		ids, _ := got["neighbors"].val.asInts()
		for _, n := range ids {
			tb.graph.neighbors = append(tb.graph.neighbors, int(n))
		}
	}
	for _, s := range []*lang.Setting{tb.graph.labelled, tb.graph.testEdges, tb.graph.neighborsAt} {
		if g, _ := graphParams(tb.block); s != nil && g == nil {
			return lang.Errorf(s.Pos, "train: %s applies to a model that takes a graph", s.Name)
		}
	}
	return nil
}

// setting returns the train block's setting name as written, or nil.
func (tb *trainBlock) setting(name string) *lang.Setting {
	for _, s := range tb.t.Settings {
		if s.Name == name {
			return s
		}
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
