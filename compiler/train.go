package compiler

import (
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// lowerTrain fills the module's train spec from the train block.
func (p *Program) lowerTrain(m *ir.Module, t *lang.Train) error {
	spec := &ir.TrainSpec{
		Optimizer: ir.OptSpec{Name: "adam", Args: map[string]float64{"lr": 1e-3}, Pos: irPos(t.Pos)},
		Batch:     32, Epochs: 1, Seed: 1, Shuffle: true,
		Pos: irPos(t.Pos),
	}
	fam, isFamily := p.families[t.Target]
	block, isBlock := p.blocks[t.Target]
	switch {
	case isFamily:
		spec.Family, spec.Step, spec.Eval = fam.Kind, fam.Name+".step", fam.Name+".loss"
		spec.Inputs = []string{"x"} // the encoder's input is fed the data's samples
		spec.Extra = map[string]string{"reconstruct": fam.Name + ".reconstruct"}
	case isBlock && block.Kind != "layer":
		spec.Family, spec.Step, spec.Eval = "model", block.Name+".step", block.Name+".loss"
		spec.Inputs = []string{"x", "y"} // samples and their targets
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
		case "optimizer":
			c := bareCall(s.Value)
			if c == nil {
				return lang.Errorf(s.Value.Pos, "train: optimizer = %s, want a call such as adam(lr: 1e-3)", exprString(s.Value))
			}
			o := ir.OptSpec{Name: c.Func, Args: map[string]float64{}, Pos: irPos(c.Pos)}
			for _, a := range c.Args {
				if a.Name == "" {
					return lang.Errorf(a.Pos, "train: %s arguments are named (lr: 1e-3)", c.Func)
				}
				v, err := (&lowerer{p: p}).eval(newScope("", ""), a.Value)
				if err != nil {
					return err
				}
				if v.kind != kInt && v.kind != kFloat && v.kind != kBool {
					return lang.Errorf(a.Value.Pos, "train: %s: %s is %s, want a number", c.Func, a.Name, v)
				}
				o.Args[a.Name] = v.num
			}
			spec.Optimizer = o
		case "batch", "epochs", "seed":
			v, err := (&lowerer{p: p}).eval(newScope("", ""), s.Value)
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
		default:
			return lang.Errorf(s.Pos, "train: unknown setting %s (want data, test, optimizer, batch, epochs, seed, shuffle, loss)", s.Name)
		}
	}
	if !hasData {
		return lang.Errorf(t.Pos, "train: missing data = …")
	}
	if isBlock {
		if loss == nil {
			return lang.Errorf(t.Pos, "train: missing loss = … (training model %s needs one: %s)", block.Name, strings.Join(supervisedLosses, ", "))
		}
		if err := p.lowerSupervised(m, block, loss); err != nil {
			return err
		}
	}
	m.Train = spec
	return nil
}
