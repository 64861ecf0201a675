package compiler

import (
	"slices"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// lowerTrain fills the module's train spec from the train block.
func (p *Program) lowerTrain(m *ir.Module, t *lang.Train) error {
	spec := &ir.TrainSpec{Batch: 32, Epochs: 1, Seed: 1, Shuffle: true, Pos: irPos(t.Pos)}
	optimizer := ir.OptSpec{Name: "adam", Args: map[string]float64{"lr": 1e-3}, Pos: irPos(t.Pos)}
	phaseOpts := map[string]ir.OptSpec{}
	fam, isFamily := p.families[t.Target]
	block, isBlock := p.blocks[t.Target]
	switch {
	case isFamily:
	case isBlock && block.Kind != "layer":
	default:
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
	var loss *lang.Setting
	gs := graphSettings{train: t}
	seen := map[string]bool{}
	hasData := false
	for _, s := range t.Settings {
		if seen[s.Name] {
			return lang.Errorf(s.Pos, "train: %s set twice", s.Name)
		}
		seen[s.Name] = true
		switch s.Name {
		case "data", "test":
			d, err := p.dataSpec(s)
			if err != nil {
				return err
			}
			if s.Name == "data" {
				spec.Data, hasData = d, true
			} else {
				spec.Test = &d
			}
		case "optimizer", "d_optimizer", "g_optimizer":
			if s.Name != "optimizer" && !hasPhase(p.plans[t.Target], strings.TrimSuffix(s.Name, "_optimizer")) {
				return lang.Errorf(s.Pos, "train: %s applies to the phases of a gan or an adversarial autoencoder; use optimizer", s.Name)
			}
			c := bareCall(s.Value)
			if c == nil {
				return lang.Errorf(s.Value.Pos, "train: optimizer = %s, want a call such as adam(lr: 1e-3)", exprString(s.Value))
			}
			o := ir.OptSpec{Name: c.Func, Args: map[string]float64{}, Pos: irPos(c.Pos)}
			for _, a := range c.Args {
				if a.Name == "" {
					return lang.Errorf(a.Pos, "train: %s arguments are named (lr: 1e-3)", c.Func)
				}
				v, err := p.evalConst(a.Value)
				if err != nil {
					return err
				}
				if v.kind != kInt && v.kind != kFloat && v.kind != kBool {
					return lang.Errorf(a.Value.Pos, "train: %s: %s is %s, want a number", c.Func, a.Name, v)
				}
				o.Args[a.Name] = v.num
			}
			if s.Name == "optimizer" {
				optimizer = o
			} else {
				phaseOpts[strings.TrimSuffix(s.Name, "_optimizer")] = o
			}
		case "batch", "epochs", "seed":
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
			if isFamily {
				return lang.Errorf(s.Pos, "train: the loss of %s %s is set in its own block", fam.Kind, fam.Name)
			}
			loss = s
		case "labelled", "test_edges":
			if g, _ := graphParams(block); !isBlock || g == nil {
				return lang.Errorf(s.Pos, "train: %s applies to a model that takes a graph", s.Name)
			}
			if s.Name == "labelled" {
				gs.labelled = s
			} else {
				gs.testEdges = s
			}
		default:
			return lang.Errorf(s.Pos, "train: unknown setting %s (want data, test, optimizer, d_optimizer, g_optimizer, batch, epochs, seed, shuffle, loss, labelled, test_edges)", s.Name)
		}
	}
	if !hasData {
		return lang.Errorf(t.Pos, "train: missing data = …")
	}
	var pl *plan
	if g, _ := graphParams(block); isBlock && g != nil {
		var err error
		if pl, err = p.lowerGraphTask(m, block, loss, gs); err != nil {
			return err
		}
	} else if isBlock {
		if loss == nil {
			return lang.Errorf(t.Pos, "train: missing loss = … (training model %s needs one: %s)", block.Name, strings.Join(supervisedLosses, ", "))
		}
		var err error
		if pl, err = p.lowerSupervised(m, block, loss); err != nil {
			return err
		}
	} else {
		pl = p.plans[fam.Name]
	}
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
		ph.Optimizer = optimizer
		if o, ok := phaseOpts[ph.Name]; ok {
			ph.Optimizer = o
		}
		spec.Phases = append(spec.Phases, ph)
	}
	m.Train = spec
	return nil
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
