package compiler

import (
	"fmt"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
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

// lsganSettings are the family's settings, checked by checkSettings.
var lsganSettings = []schema.Setting{
	{Name: "noise", Kind: schema.CallOf, Required: true, Doc: "the generator's noise [B, n]", Calls: []*schema.Call{
		{Name: "normal", Positional: true, Doc: "z ~ N(0, I)", Args: []schema.Setting{{Name: "size", Kind: schema.Int, Range: schema.AtLeast(1), Required: true, Doc: "n, the generator's input size"}}},
		{Name: "uniform", Positional: true, Doc: "z ~ U[−1, 1]", Args: []schema.Setting{{Name: "size", Kind: schema.Int, Range: schema.AtLeast(1), Required: true, Doc: "n, the generator's input size"}}}}},
	{Name: "d_steps", Kind: schema.Int, Range: schema.AtLeast(1), Default: "1", Want: "an int ≥ 1 (discriminator steps per generator step)",
		Doc: "discriminator steps per generator step"},
}

// lsganSettings reads the family block; sample is the expression drawing a noise batch
// of the batch dimension batch.
func (p *Program) lsganSettings(f *lang.Family, batch string) (noise ir.Noise, dSteps int, sample string, err error) {
	got, err := p.checkSettings(f.Name, lsganSettings, f.Settings, f.EndPos)
	if err != nil {
		return 0, 0, "", err
	}
	n := got["noise"]
	noise, sample = ir.NoiseNormal, fmt.Sprintf("normal([%s, %d])", batch, int(n.args.num("size")))
	if n.fn.Name == "uniform" {
		noise, sample = ir.NoiseUniform, fmt.Sprintf("uniform([%s, %d], low: -1, high: 1)", batch, int(n.args.num("size")))
	}
	return noise, int(got.num("d_steps")), sample, nil
}
