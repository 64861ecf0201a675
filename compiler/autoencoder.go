package compiler

import (
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
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
	beta           float64 // a VAE's weight of the KL term: 1 unless beta = β is set
	betaPos        lang.Pos
	prior          string // adversarial: "normal" or "uniform"
	priorPos       lang.Pos
	// conditional: the encoder takes (x, y) and the decoder (z, y), y the data's targets
	// (one-hot labels): a conditional (variational) autoencoder.
	conditional bool
}

// tensorParams counts a block's tensor parameters.
func tensorParams(b *lang.Block) int {
	n := 0
	for _, prm := range b.Params {
		if prm.Type.Shape != nil {
			n++
		}
	}
	return n
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
	if ae.conditional {
		pl.inputs = append(pl.inputs, ir.FeedTargets)
	}
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
	got, err := p.checkSettings(f.Name, schema.AutoencoderSettings, f.Settings, f.EndPos)
	if err != nil {
		return nil, err
	}
	ae.read(got)
	hasPrior, hasReduction := got.has("prior"), got.has("reduction")
	ae.conditional = tensorParams(enc) == 2
	switch {
	case ae.conditional && tensorParams(dec) != 2:
		return nil, lang.Errorf(ae.decPos, "%s: encoder %s takes a condition besides x (a conditional autoencoder), so decoder %s must take it too: %s(z: [B, k], y: [B, K])", f.Name, enc.Name, dec.Name, dec.Name)
	case ae.conditional && (ae.disc != nil || ae.contractive != 0):
		return nil, lang.Errorf(f.Pos, "%s: a conditional encoder (x, y) goes with the plain and the variational autoencoder, not with a discriminator or contractive", f.Name)
	case hasPrior && ae.disc == nil:
		return nil, lang.Errorf(ae.priorPos, "%s: a prior needs a discriminator on the codes: autoencoder %s(enc: …, dec: …, disc: CodeDisc)", f.Name, f.Name)
	case got.has("beta") && !ae.variational:
		return nil, lang.Errorf(ae.betaPos, "%s: beta weighs a variational autoencoder's KL term: it needs latent = gaussian", f.Name)
	case ae.variational && ae.disc != nil:
		return nil, lang.Errorf(ae.latentPos, "%s: latent = gaussian and a discriminator both match the codes to a prior: pick one", f.Name)
	case ae.variational && ae.lossExpr != nil:
		return nil, lang.Errorf(ae.latentPos, "%s: latent = gaussian needs loss = bce, mse or l1: its KL term is added to that loss", f.Name)
	case ae.variational && !hasReduction:
		ae.reduction = "sum" // the negative ELBO: the reconstruction summed over pixels
	}
	return ae, nil
}

// read takes the variant from the family's checked settings (schema.AutoencoderSettings).
func (ae *autoencoder) read(got settings) {
	if loss := got["loss"]; loss.given() {
		ae.loss, ae.lossPos = loss.val.str, loss.pos
		if ae.loss == "" {
			ae.lossExpr = loss.expr // an expression of x, z and recon
		}
	}
	ae.reduction = got.word("reduction")
	ae.l2 = got["penalty"].args.num("lambda")
	if sp := got["sparsity"]; sp.given() {
		ae.sparse, ae.sparsePos = sp.fn.Name, sp.pos
		ae.sparseW, ae.rho = sp.args.num("lambda"), sp.args.num("rho")
		if sp.fn.Name == "kl" {
			ae.sparseW = sp.args.num("beta")
		}
	}
	if c := got["corrupt"]; c.given() {
		ae.corrupt, ae.corruptP, ae.corruptPos = c.fn.Name, c.args.num(c.fn.Args[0].Name), c.pos
	}
	ae.contractive, ae.contractPos = got.num("contractive"), got["contractive"].pos
	ae.variational, ae.latentPos = got.has("latent"), got["latent"].pos
	ae.beta, ae.betaPos = got.num("beta"), got["beta"].pos
	ae.prior, ae.priorPos = got.word("prior"), got["prior"].pos
}
