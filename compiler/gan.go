package compiler

import (
	"math"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
	"github.com/dlc-lang/dlc/lang"
)

// The GAN family: a generator G and a discriminator D trained against each other.
//
//	gan GAN(gen: G, disc: D) {
//	    noise           = normal(100)      # or uniform(100): z ~ N(0, I) or U[-1, 1]
//	    loss            = non_saturating   # or minimax
//	    d_steps         = 1                # discriminator steps per generator step
//	    label_smoothing = 0.9              # optional: the target of real samples
//	}
//
// It lowers to two phases. GAN.d_step trains D on a batch of real samples x and a batch of
// fakes G(z): loss = bce(D(x), s) + bce(D(stop_gradient(G(z))), 0), D's logits throughout,
// with s = 1 or the smoothed label; only D's parameters get gradients, and the stop makes
// explicit in the IR that no backward op of G is built. GAN.g_step trains G through a D
// whose weights stay fixed: loss = bce(D(G(z)), 1) (non-saturating: maximise log D(G(z)))
// or −bce(D(G(z)), 0) (minimax: minimise log(1 − D(G(z)))), with gradients for G's
// parameters only. Both run in training mode (batch norm updates its running statistics in
// each network it runs, as PyTorch's DCGAN does). GAN.loss evaluates both losses in
// evaluation mode, and GAN.sample maps a noise batch to samples.
//
// When G takes a second tensor, the model is conditional: G(z, y) and D(x, y), with y the
// data's one-hot labels, fed to both networks.
//
// Instead of noise, G may take an image made from the real batch: `input = avg_pool2(x)`
// (any expression of x) makes G an image-to-image network, e.g. super-resolution from a
// 14×14 version of each 28×28 digit. A content loss `content = l1(λ)` (or `mse(λ)`, or
// `bce(λ)` for a sigmoid output against x in [0, 1]) adds λ·l1(G(input), x) to G's loss, and
// the evaluation reports the PSNR of G's outputs and of nearest and bilinear upsampling of
// the input, over the peak-to-peak range 2 of a tanh output (1 with bce): psnr = mean over
// images of 10·log10(peak² / mse).

type gan struct {
	gen, disc    *lang.Block
	noise        string // "normal" or "uniform"
	noiseSize    int
	noisePos     lang.Pos
	loss         string // "non_saturating" or "minimax"
	lossPos      lang.Pos
	dSteps       int
	realLabel    float64
	conditional  bool
	genPos, dPos lang.Pos
	input        *lang.Expr // G's input as an expression of x, instead of noise
	content      string     // "l1" or "mse": G's content loss against x, with weight contentW
	contentW     float64
	contentPos   lang.Pos
	dLossExpr    *lang.Expr // losses written in the file, overriding the standard ones
	gLossExpr    *lang.Expr
}

func (p *Program) ganOf(f *lang.Family) (*gan, error) {
	gen, disc, err := p.ganBlocks(f)
	if err != nil {
		return nil, err
	}
	g := &gan{gen: gen, disc: disc, noise: "normal", loss: "non_saturating", dSteps: 1, realLabel: 1,
		lossPos: f.Pos, noisePos: f.Pos, genPos: f.Params[0].Pos, dPos: f.Params[1].Pos}
	got, err := p.checkSettings(f.Name, schema.GANSettings, f.Settings, f.EndPos)
	if err != nil {
		return nil, err
	}
	g.read(got)
	switch {
	case got.has("noise") && g.input != nil:
		return nil, lang.Errorf(g.noisePos, "%s: noise and input both set: the generator takes one or the other", f.Name)
	case !got.has("noise") && g.input == nil:
		return nil, lang.Errorf(f.Pos, "%s: missing noise = normal(size) (or uniform(size), or input = an expression of x)", f.Name)
	case g.content != "" && g.input == nil:
		return nil, lang.Errorf(g.contentPos, "%s: a content loss compares G's output with x, so it needs input = …, not noise", f.Name)
	}
	return g, nil
}

// ganBlocks returns the generator and the discriminator a GAN-like family block pairs.
func (p *Program) ganBlocks(f *lang.Family) (gen, disc *lang.Block, err error) {
	if len(f.Params) != 2 {
		return nil, nil, lang.Errorf(f.Pos, "%s: %s %s takes (gen: Generator, disc: Discriminator), got %d parameters", f.Name, article(f.Kind), f.Kind, len(f.Params))
	}
	if gen, err = p.familyBlock(f, f.Params[0], "generator"); err != nil {
		return nil, nil, err
	}
	disc, err = p.familyBlock(f, f.Params[1], "discriminator")
	return gen, disc, err
}

// read takes the family's checked settings (schema.GANSettings).
func (g *gan) read(got settings) {
	if n := got["noise"]; n.given() {
		g.noise, g.noiseSize, g.noisePos = n.fn.Name, int(n.args.num("size")), n.pos
	}
	g.input, g.dLossExpr, g.gLossExpr = got["input"].expr, got["d_loss"].expr, got["g_loss"].expr
	if c := got["content"]; c.given() {
		g.content, g.contentW, g.contentPos = c.fn.Name, c.args.num("weight"), c.pos
	}
	if l := got["loss"]; l.given() {
		g.loss, g.lossPos = l.val.str, l.pos
	}
	g.dSteps, g.realLabel = int(got.num("d_steps")), got.num("label_smoothing")
}

func init() {
	registerFamily("gan", familyKind{doc: "a generator and a discriminator trained against each other (minimax or non-saturating)", lower: (*Program).lowerGAN})
}

// lowerGAN lowers GAN.d_step, GAN.g_step, GAN.loss and GAN.sample.
func (p *Program) lowerGAN(m *ir.Module, f *lang.Family) (*plan, error) {
	g, err := p.ganOf(f)
	if err != nil {
		return nil, err
	}
	pl := &plan{inputs: []ir.FeedKind{ir.FeedSamples}, eval: f.Name + ".loss"}
	if g.input != nil {
		// G maps data to data: its pictures are inputs beside outputs, like a reconstruction.
		pl.role(ir.RoleReconstruct, f.Name+".sample")
	} else {
		pl.role(ir.RoleSample, f.Name+".sample")
		pl.noise = map[string]ir.Noise{"normal": ir.NoiseNormal, "uniform": ir.NoiseUniform}[g.noise]
	}
	for _, fn := range []string{"d_step", "g_step", "loss", "sample"} {
		l := p.newLowerer(f.Name+"."+fn, map[bool]string{true: "train", false: "eval"}[fn == "d_step" || fn == "g_step"])
		ph, err := l.ganFunc(f, g, fn)
		if err != nil {
			return nil, err
		}
		if g.conditional {
			pl.inputs = []ir.FeedKind{ir.FeedSamples, ir.FeedTargets}
		}
		m.Funcs = append(m.Funcs, l.b.F)
		switch fn {
		case "d_step":
			ph.Repeat = g.dSteps
			pl.phases = append(pl.phases, ph)
		case "g_step":
			pl.phases = append(pl.phases, ph)
		}
	}
	return pl, nil
}

// ganFunc lowers one function of the family into l.
func (l *lowerer) ganFunc(f *lang.Family, g *gan, fn string) (ir.Phase, error) {
	gs := &ganStep{l: l, f: f, g: g, fn: fn}
	if err := gs.inputs(); err != nil {
		return ir.Phase{}, err
	}
	fake, err := l.instantiateTop(g.gen, gs.withCond(gs.z), g.genPos)
	if err != nil {
		return ir.Phase{}, err
	}
	if fn == "sample" {
		l.b.F.Outputs = []ir.Output{{Name: "out", Value: fake}}
		return ir.Phase{}, nil
	}
	return gs.losses(fake)
}

// ganStep is one function of a gan family being lowered: its inputs (the data x, the
// condition y, the generator's input z) and the pieces its losses share.
type ganStep struct {
	l       *lowerer
	f       *lang.Family
	g       *gan
	fn      string
	x, y, z *ir.Op
}

// signature checks the generator's signature, which fixes the noise and the condition,
// and returns its tensor inputs.
func (gs *ganStep) signature() ([]*ir.Op, error) {
	g := gs.g
	gl := gs.l.p.newLowerer("signature", "eval")
	gins, ok, err := gl.bindEntryParams(g.gen, newScope(g.gen.Name, g.gen.Pos.Filename))
	if err != nil {
		return nil, err
	}
	if !ok || len(gins) < 1 || len(gins) > 2 {
		return nil, lang.Errorf(g.gen.Pos, "%s: a generator takes the noise [B, n] (and, conditional, one-hot labels [B, K]), and hyperparameters with defaults", g.gen.Name)
	}
	zs := gins[0].Type.Shape
	if g.input == nil {
		if len(zs) != 2 || !zs[1].IsConst() {
			return nil, lang.Errorf(g.gen.Pos, "%s: noise input %v, want [B, n] with a constant n", g.gen.Name, zs)
		}
		if zs[1].Coef != g.noiseSize {
			return nil, lang.Errorf(g.noisePos, "%s: noise size %d differs from the generator's input %s %v", gs.f.Name, g.noiseSize, gins[0].Name, zs)
		}
	}
	g.conditional = len(gins) == 2
	return gins, nil
}

// inputs makes the function's inputs: the noise (and condition) for sample, else the data
// that feeds D (x, and y when conditional) and G's input drawn or made from x.
func (gs *ganStep) inputs() error {
	l, g, f := gs.l, gs.g, gs.f
	gins, err := gs.signature()
	if err != nil {
		return err
	}
	zs := gins[0].Type.Shape
	if gs.fn == "sample" && g.input == nil {
		l.setPos(g.genPos)
		gs.z = l.b.Input("z", ir.F32(zs))
		if g.conditional {
			gs.y = l.b.Input("y", ir.F32(gins[1].Type.Shape))
		}
		return nil
	}
	dins, ok, err := l.bindEntryParams(g.disc, newScope(g.disc.Name, g.disc.Pos.Filename))
	if err != nil {
		return err
	}
	if want := map[bool]int{false: 1, true: 2}[g.conditional]; !ok || len(dins) != want {
		return lang.Errorf(g.disc.Pos, "%s: a discriminator takes %d tensors here (samples%s), and hyperparameters with defaults",
			g.disc.Name, want, map[bool]string{false: "", true: " and one-hot labels"}[g.conditional])
	}
	gs.x = dins[0]
	if g.conditional {
		gs.y = dins[1]
	}
	l.setPos(g.noisePos)
	attrs := ir.Attrs{"shape": ir.Shape{gs.x.Type.Shape[0], zs[1]}, "stream": l.p.nextStream()}
	switch {
	case g.input != nil:
		sc := newScope(f.Name, f.Pos.Filename)
		sc.names["x"] = tensorVal(gs.x)
		v, err := l.eval(sc, g.input)
		if err != nil {
			return err
		}
		if v.kind != kTensor {
			return lang.Errorf(g.input.Pos, "%s: input = %s is %s, want a tensor made from x", f.Name, exprString(g.input), v)
		}
		gs.z = v.op
	case g.noise == "uniform":
		attrs["low"], attrs["high"] = -1.0, 1.0
		gs.z = l.b.Op("random_uniform", attrs)
	default:
		attrs["mean"], attrs["std"] = 0.0, 1.0
		gs.z = l.b.Op("random_normal", attrs)
	}
	return nil
}

// withCond is v, with the condition y when the model is conditional: a network's inputs.
func (gs *ganStep) withCond(v *ir.Op) []value {
	if gs.g.conditional {
		return []value{tensorVal(v), tensorVal(gs.y)}
	}
	return []value{tensorVal(v)}
}

// disc runs D on v, which must give one logit per sample.
func (gs *ganStep) disc(v *ir.Op, what string) (*ir.Op, error) {
	g := gs.g
	logit, err := gs.l.instantiateTop(g.disc, gs.withCond(v), g.dPos)
	if err != nil {
		return nil, err
	}
	if s := logit.Type.Shape; len(s) != 2 || !s[0].Equal(v.Type.Shape[0]) || !s[1].Equal(ir.Const(1)) {
		return nil, lang.Errorf(g.dPos, "%s: discriminator %s returns %v on %s, want one logit per sample [%v, 1]", gs.f.Name, g.disc.Name, s, what, v.Type.Shape[0])
	}
	return logit, nil
}

// bce is the mean bce of logits against a constant target.
func (gs *ganStep) bce(logit *ir.Op, target float64) *ir.Op {
	b := gs.l.b
	t := b.Op("broadcast_like", nil, b.Const(target), logit)
	return b.Op("mean", ir.Attrs{"axes": []int{}, "keepdims": false}, b.Op("bce_logits", nil, logit, t))
}

func (gs *ganStep) meanProb(logit *ir.Op) *ir.Op {
	b := gs.l.b
	return b.Op("mean", ir.Attrs{"axes": []int{}, "keepdims": false}, b.Op("sigmoid", nil, logit))
}

// ganLosses are what the steps and the evaluation report.
type ganLosses struct {
	dLoss, gLoss, dReal, dFake, fakeLogit *ir.Op
}

// losses lowers the losses of d_step, g_step or loss on the generator's output fake and
// finishes the function.
func (gs *ganStep) losses(fake *ir.Op) (ir.Phase, error) {
	l, g, f, fn := gs.l, gs.g, gs.f, gs.fn
	var content *ir.Op
	if g.content != "" && (fn == "g_step" || fn == "loss") {
		cv, err := builtins[g.content].lower(l, &lang.Call{Pos: g.contentPos, Func: g.content}, []value{tensorVal(fake), tensorVal(gs.x)})
		if err != nil {
			return ir.Phase{}, err
		}
		content = cv.op
	}
	genParams := l.b.F.Params()
	if !fake.Type.Shape.Equal(gs.x.Type.Shape) {
		return ir.Phase{}, lang.Errorf(g.genPos, "%s: generator %s returns %v, which does not fit discriminator %s's input %v", f.Name, g.gen.Name, fake.Type.Shape, g.disc.Name, gs.x.Type.Shape)
	}
	var ls ganLosses
	if fn == "d_step" || fn == "loss" {
		if err := gs.dLosses(&ls, fake); err != nil {
			return ir.Phase{}, err
		}
	}
	if fn == "g_step" || fn == "loss" {
		if err := gs.gLosses(&ls, fake, content); err != nil {
			return ir.Phase{}, err
		}
	}
	if l.b.Err != nil {
		return ir.Phase{}, lang.Errorf(g.lossPos, "%s: %v", f.Name, l.b.Err)
	}
	return gs.finish(ls, fake, genParams)
}

// dLosses lowers the discriminator's loss: real samples towards the real label, the
// detached fakes towards 0.
func (gs *ganStep) dLosses(ls *ganLosses, fake *ir.Op) error {
	l, g, b := gs.l, gs.g, gs.l.b
	realLogit, err := gs.disc(gs.x, "the real samples")
	if err != nil {
		return err
	}
	l.setPos(g.lossPos)
	held := b.Op("stop_gradient", nil, fake)
	if ls.fakeLogit, err = gs.disc(held, "the generator's samples"); err != nil {
		return err
	}
	l.setPos(g.lossPos)
	ls.dLoss = b.Op("add", nil, gs.bce(realLogit, g.realLabel), gs.bce(ls.fakeLogit, 0))
	if g.dLossExpr != nil {
		if ls.dLoss, err = l.lossExpr(gs.f, g.dLossExpr, map[string]*ir.Op{"d_real": realLogit, "d_fake": ls.fakeLogit, "x": gs.x, "fake": held}); err != nil {
			return err
		}
	}
	ls.dReal, ls.dFake = gs.meanProb(realLogit), gs.meanProb(ls.fakeLogit)
	return nil
}

// gLosses lowers the generator's loss through D, plus its content loss.
func (gs *ganStep) gLosses(ls *ganLosses, fake, content *ir.Op) error {
	l, g, b := gs.l, gs.g, gs.l.b
	if ls.fakeLogit == nil { // the evaluation reuses D(G(z)) of the discriminator's loss
		var err error
		if ls.fakeLogit, err = gs.disc(fake, "the generator's samples"); err != nil {
			return err
		}
	}
	l.setPos(g.lossPos)
	if g.loss == "minimax" {
		ls.gLoss = b.Op("neg", nil, gs.bce(ls.fakeLogit, 0))
	} else {
		ls.gLoss = gs.bce(ls.fakeLogit, 1)
	}
	if content != nil && g.contentW > 0 {
		ls.gLoss = b.Op("add", nil, ls.gLoss, b.Op("mul", nil, content, b.Const(g.contentW)))
	}
	if g.gLossExpr != nil {
		var err error
		if ls.gLoss, err = l.lossExpr(gs.f, g.gLossExpr, map[string]*ir.Op{"d_fake": ls.fakeLogit, "x": gs.x, "fake": fake}); err != nil {
			return err
		}
	}
	if ls.dFake == nil {
		ls.dFake = gs.meanProb(ls.fakeLogit)
	}
	return nil
}

// finish sets the function's outputs: a step's metrics and gradients, or the evaluation's
// losses and metrics.
func (gs *ganStep) finish(ls ganLosses, fake *ir.Op, genParams []*ir.Op) (ir.Phase, error) {
	l, g, b := gs.l, gs.g, gs.l.b
	isGen := map[*ir.Op]bool{}
	for _, o := range genParams {
		isGen[o] = true
	}
	discParams := []*ir.Op{}
	for _, o := range b.F.Params() {
		if !isGen[o] {
			discParams = append(discParams, o)
		}
	}
	metric := func(name string) string { return ir.OutputName(ir.OutMetric, name) }
	switch gs.fn {
	case "d_step":
		b.F.Outputs = []ir.Output{{Name: metric("d_real"), Value: ls.dReal}, {Name: metric("d_fake"), Value: ls.dFake}}
		return l.finishStep(g.lossPos, "d", ls.dLoss, discParams)
	case "g_step":
		b.F.Outputs = []ir.Output{{Name: metric("d_fake_g"), Value: ls.dFake}}
		return l.finishStep(g.lossPos, "g", ls.gLoss, genParams)
	}
	b.F.Outputs = []ir.Output{{Name: "loss", Value: ls.dLoss}, {Name: metric("g_loss"), Value: ls.gLoss},
		{Name: metric("d_real"), Value: ls.dReal}, {Name: metric("d_fake"), Value: ls.dFake}}
	if g.input != nil {
		if err := l.psnrMetrics(g, gs.z, fake, gs.x); err != nil {
			return ir.Phase{}, err
		}
	}
	return ir.Phase{}, nil
}

// psnrMetrics adds the PSNR of G's outputs and of nearest and bilinear upsampling of its
// input to the evaluation, when the input is an image the output is an integer upscale of.
func (l *lowerer) psnrMetrics(g *gan, in, out, x *ir.Op) error {
	b := l.b
	l.setPos(g.contentPos)
	peak := 2.0 // a tanh output's range
	if g.content == "bce" {
		peak = 1 // bce's targets are in [0, 1]
	}
	psnr := func(pred *ir.Op) *ir.Op {
		axes := make([]int, 0, len(x.Type.Shape)-1)
		for i := 1; i < len(x.Type.Shape); i++ {
			axes = append(axes, i)
		}
		mse := b.Op("mean", ir.Attrs{"axes": axes, "keepdims": false}, b.Op("square", nil, b.Op("sub", nil, pred, x)))
		db := b.Op("mul", nil, b.Op("log", nil, b.Op("div", nil, b.Const(peak*peak), mse)), b.Const(10/math.Ln10))
		return b.Op("mean", ir.Attrs{"axes": []int{}, "keepdims": false}, db)
	}
	b.F.Outputs = append(b.F.Outputs, ir.Output{Name: ir.OutputName(ir.OutMetric, "psnr"), Value: psnr(out)})
	is, xs := in.Type.Shape, x.Type.Shape
	if len(is) == 4 && len(xs) == 4 && is[2].IsConst() && xs[2].IsConst() && xs[2].Coef%is[2].Coef == 0 {
		scale := xs[2].Coef / is[2].Coef
		for _, mode := range []string{"nearest", "bilinear"} {
			up := b.Op("upsample2d", ir.Attrs{"scale": scale, "mode": mode}, in)
			if b.Err != nil {
				break
			}
			if up.Type.Shape.Equal(xs) {
				b.F.Outputs = append(b.F.Outputs, ir.Output{Name: ir.OutputName(ir.OutMetric, "psnr_"+mode), Value: psnr(up)})
			}
		}
	}
	if b.Err != nil {
		return lang.Errorf(g.contentPos, "psnr: %v", b.Err)
	}
	return nil
}
