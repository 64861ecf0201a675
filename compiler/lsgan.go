package compiler

import (
	"fmt"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// The least-squares GAN (Mao et al., 2017): the discriminator gives a score, not a logit,
// pulled towards 1 on real samples and 0 on the generator's; the generator pulls its
// samples' scores towards 1. Squares penalise samples far on the right side of the
// boundary too, which keeps the generator's gradient alive where a saturated sigmoid
// would not.
//
//	lsgan LS(gen: G, disc: D) {
//	    noise   = normal(100)   # or uniform(100): z ~ N(0, I) or U[-1, 1]
//	    d_steps = 1             # discriminator steps per generator step
//	}
//
// It is sugar for two phases, written below as the language writes them.

func init() {
	registerFamily("lsgan", familyKind{doc: "a generator and a discriminator with least-squares losses (LSGAN)", lower: (*Program).lowerLSGAN})
}

const lsganPhases = `train %[1]s(x: %[2]s) {
    phase d {
        updates = [%[3]s]
        repeat  = %[7]d
        z       = %[5]s
        real    = %[3]s(x)
        fake    = %[3]s(%[4]s(z))
        loss    = 0.5 * mean(square(real - 1)) + 0.5 * mean(square(fake))
        d_real  = mean(real)
        d_fake  = mean(fake)
        report  = [d_real, d_fake]
    }
    phase g {
        updates = [%[4]s]
        z       = %[5]s
        loss    = 0.5 * mean(square(%[3]s(%[4]s(z)) - 1))
    }
}`

func (p *Program) lowerLSGAN(m *ir.Module, f *lang.Family) (*plan, error) {
	gen, disc, err := p.ganBlocks(f)
	if err != nil {
		return nil, err
	}
	if len(disc.Params) != 1 || disc.Params[0].Type.Shape == nil || len(disc.Params[0].Type.Shape.Dims) < 2 || bareIdent(disc.Params[0].Type.Shape.Dims[0]) == "" {
		return nil, lang.Errorf(disc.Pos, "%s: an lsgan's discriminator takes one batch of samples [B, …]", disc.Name)
	}
	shape := disc.Params[0].Type.Shape
	noise, dSteps, sample, err := p.lsganSettings(f, bareIdent(shape.Dims[0]))
	if err != nil {
		return nil, err
	}
	t, err := p.expandPhases(f, fmt.Sprintf(lsganPhases, f.Name, shapeString(shape), disc.Name, gen.Name, sample, noise, dSteps))
	if err != nil {
		return nil, err
	}
	pl, err := p.lowerPhases(m, t)
	if err != nil {
		return nil, err
	}
	pl.role(ir.RoleSample, gen.Name)
	pl.noise = noise
	return pl, nil
}

// lsganSettings reads noise and d_steps; sample is the expression drawing a noise batch.
func (p *Program) lsganSettings(f *lang.Family, batch string) (noise ir.Noise, dSteps int, sample string, err error) {
	noise, dSteps = ir.NoiseNone, 1
	seen := map[string]bool{}
	for _, s := range f.Settings {
		if seen[s.Name] {
			return 0, 0, "", lang.Errorf(s.Pos, "%s: %s set twice", f.Name, s.Name)
		}
		seen[s.Name] = true
		switch s.Name {
		case "noise":
			c := bareCall(s.Value)
			if c == nil || (c.Func != "normal" && c.Func != "uniform") || len(c.Args) != 1 {
				return 0, 0, "", lang.Errorf(s.Value.Pos, "%s: noise = %s, want normal(size) or uniform(size)", f.Name, exprString(s.Value))
			}
			v, err := p.evalConst(c.Args[0].Value)
			if err != nil || v.kind != kInt || v.num < 1 {
				return 0, 0, "", lang.Errorf(c.Args[0].Pos, "%s: noise size %s, want a positive int", f.Name, exprString(c.Args[0].Value))
			}
			noise, sample = ir.NoiseNormal, fmt.Sprintf("normal([%s, %d])", batch, int(v.num))
			if c.Func == "uniform" {
				noise, sample = ir.NoiseUniform, fmt.Sprintf("uniform([%s, %d], low: -1, high: 1)", batch, int(v.num))
			}
		case "d_steps":
			v, err := p.evalConst(s.Value)
			if err != nil || v.kind != kInt || v.num < 1 {
				return 0, 0, "", lang.Errorf(s.Value.Pos, "%s: d_steps = %s, want an int ≥ 1 (discriminator steps per generator step)", f.Name, exprString(s.Value))
			}
			dSteps = int(v.num)
		default:
			return 0, 0, "", lang.Errorf(s.Pos, "%s: unknown lsgan setting %s (want noise, d_steps)", f.Name, s.Name)
		}
	}
	if noise == ir.NoiseNone {
		return 0, 0, "", lang.Errorf(f.Pos, "%s: missing noise = normal(size) (or uniform(size))", f.Name)
	}
	return noise, dSteps, sample, nil
}
