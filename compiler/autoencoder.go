package compiler

import (
	"fmt"
	"math"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// The autoencoder family: an encoder E, a decoder D and what the loss adds to the
// reconstruction error. Every variant of the course is a setting of one family:
//
//	autoencoder AE(enc: E, dec: D) {            # a third block, disc: C, makes it adversarial
//	    loss        = bce                       # bce, mse, l1, or an expression of x, z, recon
//	    reduction   = mean                      # mean over every element, or sum per sample
//	    penalty     = l2(1e-4)                  # λ·Σ‖W‖² over the weight matrices
//	    sparsity    = l1(1e-3)                  # λ·Σ|h| per sample, or kl(rho: 0.05, beta: 3)
//	    corrupt     = mask(0.3)                 # or gaussian(0.5): denoising, training only
//	    contractive = 1e-4                      # λ·‖∂h/∂x‖²_F per sample
//	    latent      = gaussian                  # variational: E returns (μ, log σ²)
//	    prior       = normal                    # adversarial: the codes' target distribution
//	}
//
// Each function is lowered from the same source: AE.step in training mode (corruption and
// the VAE's ε drawn), AE.loss and the inference functions in evaluation mode. A tied
// decoder reads the encoder's weight by name (Enc.dense0.weight, see paramRef), which is
// the same IR param, so it is counted once and both uses feed its gradient.

type autoencoder struct {
	enc, dec, disc *lang.Block
	decPos, dPos   lang.Pos
	loss           string // bce, mse or l1; "" with lossExpr
	reduction      string // "mean" or "sum"
	lossPos        lang.Pos
	lossExpr       *lang.Expr // a loss written as an expression of x, z and recon
	l2             float64
	sparse         string // "l1" or "kl"
	sparseW        float64
	rho            float64
	sparsePos      lang.Pos
	corrupt        string // "mask" or "gaussian"
	corruptP       float64
	corruptPos     lang.Pos
	contractive    float64
	contractPos    lang.Pos
	variational    bool
	latentPos      lang.Pos
	prior          string // adversarial: "normal" or "uniform"
	priorPos       lang.Pos
}

func init() {
	registerFamily("autoencoder", familyKind{doc: "an encoder and a decoder trained to reconstruct (every variant of the course)", lower: (*Program).lowerAutoencoder})
}

// lowerAutoencoder lowers the family's functions and its plan: the training phase(s), the
// evaluation, and the extras the commands use (reconstruct, encode, decode, score, and
// corrupt or sample when the variant has them).
func (p *Program) lowerAutoencoder(m *ir.Module, f *lang.Family) (*plan, error) {
	ae, err := p.autoencoderOf(f)
	if err != nil {
		return nil, err
	}
	pl := &plan{inputs: []ir.FeedKind{ir.FeedSamples}, eval: f.Name + ".loss"}
	fns := []string{"loss", "step", "reconstruct", "encode", "decode", "score"}
	if ae.disc != nil {
		fns = []string{"loss", "step", "d_step", "g_step", "reconstruct", "encode", "decode", "score"}
	}
	if ae.corrupt != "" {
		fns = append(fns, "corrupt")
	}
	for _, fn := range fns {
		mode := "eval"
		if fn == "step" || fn == "d_step" || fn == "g_step" || fn == "corrupt" {
			mode = "train"
		}
		l := p.newLowerer(f.Name+"."+fn, mode)
		ph, err := l.autoencoderFunc(f, ae, fn)
		if err != nil {
			return nil, err
		}
		m.Funcs = append(m.Funcs, l.b.F)
		switch fn {
		case "step", "d_step", "g_step":
			pl.phases = append(pl.phases, ph)
		case "loss":
		default:
			r, _ := ir.ParseRole(fn)
			pl.role(r, l.b.F.Name)
		}
	}
	if ae.variational || ae.disc != nil {
		// Codes from the prior decode to new samples: dlc sample draws them.
		pl.role(ir.RoleSample, f.Name+".decode")
		pl.noise = map[bool]ir.Noise{true: ir.NoiseUniform, false: ir.NoiseNormal}[ae.prior == "uniform"]
	}
	return pl, nil
}

func (p *Program) autoencoderOf(f *lang.Family) (*autoencoder, error) {
	if len(f.Params) != 2 && len(f.Params) != 3 {
		return nil, lang.Errorf(f.Pos, "%s: an autoencoder takes (enc: Encoder, dec: Decoder) and, adversarial, disc: Discriminator; got %d parameters", f.Name, len(f.Params))
	}
	enc, err := p.familyBlock(f, f.Params[0], "encoder")
	if err != nil {
		return nil, err
	}
	dec, err := p.familyBlock(f, f.Params[1], "decoder")
	if err != nil {
		return nil, err
	}
	ae := &autoencoder{enc: enc, dec: dec, decPos: f.Params[1].Pos, loss: "bce", reduction: "mean", lossPos: f.Pos, prior: "normal"}
	if len(f.Params) == 3 {
		if ae.disc, err = p.familyBlock(f, f.Params[2], "discriminator"); err != nil {
			return nil, err
		}
		ae.dPos = f.Params[2].Pos
	}
	// number evaluates a setting's argument to a finite number that ok accepts, or returns
	// an error at the argument naming what it is and what it wants.
	number := func(e *lang.Expr, what, want string, ok func(float64) bool) (float64, error) {
		v, err := p.evalConst(e)
		if err != nil {
			return 0, err
		}
		if (v.kind != kFloat && v.kind != kInt) || math.IsNaN(v.num) || math.IsInf(v.num, 0) || !ok(v.num) {
			return 0, lang.Errorf(e.Pos, "%s: %s %s, want %s", f.Name, what, v, want)
		}
		return v.num, nil
	}
	nonNeg := func(x float64) bool { return x >= 0 }
	seen := map[string]bool{}
	hasPrior, hasReduction := false, false
	for _, s := range f.Settings {
		if seen[s.Name] {
			return nil, lang.Errorf(s.Pos, "%s: %s set twice", f.Name, s.Name)
		}
		seen[s.Name] = true
		c := bareCall(s.Value)
		switch s.Name {
		case "loss":
			name := bareIdent(s.Value)
			switch {
			case name == "bce" || name == "mse" || name == "l1":
				ae.loss, ae.lossPos = name, s.Value.Pos
			case name != "":
				return nil, lang.Errorf(s.Value.Pos, "%s: loss = %s, want bce, mse or l1, or an expression of x, z and recon", f.Name, exprString(s.Value))
			default:
				ae.loss, ae.lossExpr, ae.lossPos = "", s.Value, s.Value.Pos
			}
		case "reduction":
			name := bareIdent(s.Value)
			if name != "mean" && name != "sum" {
				return nil, lang.Errorf(s.Value.Pos, "%s: reduction = %s, want mean (over every element) or sum (over each sample's elements, mean over the batch)", f.Name, exprString(s.Value))
			}
			ae.reduction, hasReduction = name, true
		case "penalty":
			if c == nil || c.Func != "l2" || len(c.Args) != 1 {
				return nil, lang.Errorf(s.Value.Pos, "%s: penalty = %s, want l2(lambda)", f.Name, exprString(s.Value))
			}
			if ae.l2, err = number(c.Args[0].Value, "l2 weight", "a number ≥ 0", nonNeg); err != nil {
				return nil, err
			}
		case "sparsity":
			switch {
			case c != nil && c.Func == "l1" && len(c.Args) == 1 && c.Args[0].Name == "":
				if ae.sparseW, err = number(c.Args[0].Value, "sparsity l1 weight", "a number ≥ 0", nonNeg); err != nil {
					return nil, err
				}
			case c != nil && c.Func == "kl" && len(c.Args) == 2:
				rho, beta, err := klArgs(c)
				if err != nil {
					return nil, lang.Errorf(s.Value.Pos, "%s: sparsity = kl(…): %v", f.Name, err)
				}
				if ae.rho, err = number(rho, "sparsity target rho", "a number in (0, 1): the mean activation each code unit is pulled towards", func(x float64) bool { return x > 0 && x < 1 }); err != nil {
					return nil, err
				}
				if ae.sparseW, err = number(beta, "sparsity weight beta", "a number ≥ 0", nonNeg); err != nil {
					return nil, err
				}
			default:
				return nil, lang.Errorf(s.Value.Pos, "%s: sparsity = %s, want l1(lambda) or kl(rho: …, beta: …)", f.Name, exprString(s.Value))
			}
			ae.sparse, ae.sparsePos = c.Func, s.Value.Pos
		case "corrupt":
			switch {
			case c != nil && c.Func == "mask" && len(c.Args) == 1:
				if ae.corruptP, err = number(c.Args[0].Value, "masking probability q", "a number in [0, 1]", func(x float64) bool { return x >= 0 && x <= 1 }); err != nil {
					return nil, err
				}
			case c != nil && c.Func == "gaussian" && len(c.Args) == 1:
				if ae.corruptP, err = number(c.Args[0].Value, "noise standard deviation sigma", "a number ≥ 0", nonNeg); err != nil {
					return nil, err
				}
			default:
				return nil, lang.Errorf(s.Value.Pos, "%s: corrupt = %s, want mask(q) or gaussian(sigma)", f.Name, exprString(s.Value))
			}
			ae.corrupt, ae.corruptPos = c.Func, s.Value.Pos
		case "contractive":
			if ae.contractive, err = number(s.Value, "contractive weight", "a number ≥ 0", nonNeg); err != nil {
				return nil, err
			}
			ae.contractPos = s.Value.Pos
		case "latent":
			if name := bareIdent(s.Value); name != "gaussian" {
				return nil, lang.Errorf(s.Value.Pos, "%s: latent = %s, want gaussian (a variational autoencoder)", f.Name, exprString(s.Value))
			}
			ae.variational, ae.latentPos = true, s.Value.Pos
		case "prior":
			name := bareIdent(s.Value)
			if name != "normal" && name != "uniform" {
				return nil, lang.Errorf(s.Value.Pos, "%s: prior = %s, want normal (N(0, I)) or uniform (U[−1, 1])", f.Name, exprString(s.Value))
			}
			ae.prior, ae.priorPos, hasPrior = name, s.Value.Pos, true
		default:
			return nil, lang.Errorf(s.Pos, "%s: unknown autoencoder setting %s (want loss, reduction, penalty, sparsity, corrupt, contractive, latent, prior)", f.Name, s.Name)
		}
	}
	switch {
	case hasPrior && ae.disc == nil:
		return nil, lang.Errorf(ae.priorPos, "%s: a prior needs a discriminator on the codes: autoencoder %s(enc: …, dec: …, disc: CodeDisc)", f.Name, f.Name)
	case ae.variational && ae.disc != nil:
		return nil, lang.Errorf(ae.latentPos, "%s: latent = gaussian and a discriminator both match the codes to a prior: pick one", f.Name)
	case ae.variational && ae.lossExpr != nil:
		return nil, lang.Errorf(ae.latentPos, "%s: latent = gaussian needs loss = bce, mse or l1: its KL term is added to that loss", f.Name)
	case ae.variational && !hasReduction:
		ae.reduction = "sum" // the negative ELBO: the reconstruction summed over pixels
	}
	return ae, nil
}

// klArgs returns the rho and beta arguments of kl(rho: …, beta: …), named or in that order.
func klArgs(c *lang.Call) (rho, beta *lang.Expr, err error) {
	byName := map[string]*lang.Expr{}
	for i, a := range c.Args {
		name := a.Name
		if name == "" {
			name = []string{"rho", "beta"}[i]
		}
		if name != "rho" && name != "beta" {
			return nil, nil, fmt.Errorf("unknown argument %s (want rho, beta)", name)
		}
		if byName[name] != nil {
			return nil, nil, fmt.Errorf("argument %s given twice", name)
		}
		byName[name] = a.Value
	}
	if byName["rho"] == nil || byName["beta"] == nil {
		return nil, nil, fmt.Errorf("want kl(rho: …, beta: …)")
	}
	return byName["rho"], byName["beta"], nil
}
