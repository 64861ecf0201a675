package compiler

import (
	"strconv"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// Builtins that behave differently in training and evaluation: dropout, and batch norm
// with its running statistics. The compiler lowers every function in one mode (see
// lowerer.mode), so the same source gives both.

func init() {
	builtins["dropout"] = &builtin{shapes: "s → s", doc: "in training, zeroes each element with probability p and scales the rest by 1/(1 − p); in evaluation, x",
		params: []bparam{tensorArg("x"), {name: "p", kind: kFloat, def: floatDefault(0.5)}},
		lower: func(l *lowerer, c *lang.Call, a []value) (value, error) {
			x, p := a[0].op, a[1].num
			if p < 0 || p >= 1 {
				return value{}, lang.Errorf(c.Pos, "dropout: p = %v, want 0 ≤ p < 1", p)
			}
			if !l.training() || p == 0 {
				return a[0], nil
			}
			l.setPos(c.Pos)
			mask := l.b.Op("random_bernoulli", ir.Attrs{"shape": x.Type.Shape, "p": 1 - p, "stream": l.p.nextStream()})
			y := l.b.Op("mul", nil, l.b.Op("mul", nil, x, mask), l.b.Const(1/(1-p)))
			if l.b.Err != nil {
				return value{}, lang.Errorf(c.Pos, "dropout: %v", l.b.Err)
			}
			return tensorVal(y), nil
		}}
	builtins["batchnorm"] = &builtin{shapes: "[B, F] or [B, C, H, W] → same",
		doc:    "normalises each feature (channel) by the batch's mean and variance in training, by running averages (updated with momentum) in evaluation, then scales and shifts by trained weight and bias",
		params: []bparam{tensorArg("x"), {name: "momentum", kind: kFloat, def: floatDefault(0.1)}, {name: "eps", kind: kFloat, def: floatDefault(1e-5)}},
		lower:  lowerBatchNorm}
}

// lowerBatchNorm lowers batchnorm(x) for x of shape [B, F] (statistics over the batch) or
// [B, C, H, W] (over the batch and the pixels of each channel). Its parameters and state are
// named INSTANCE.batchnormK.{weight, bias, running_mean, running_var}, each of shape [F] or
// [C], as PyTorch's BatchNorm1d/2d name and shape them. The running variance is updated with
// the unbiased batch variance, as PyTorch does, while the batch is normalised with the
// biased one.
func lowerBatchNorm(l *lowerer, c *lang.Call, a []value) (value, error) {
	x, momentum, eps := a[0].op, a[1].num, a[2].num
	s := x.Type.Shape
	var axes []int
	var bshape ir.Shape // the statistics' shape, broadcast against x
	switch len(s) {
	case 2:
		axes, bshape = []int{0}, ir.Shape{ir.Const(1), s[1]}
	case 4:
		axes, bshape = []int{0, 2, 3}, ir.Shape{ir.Const(1), s[1], ir.Const(1), ir.Const(1)}
	default:
		return value{}, lang.Errorf(c.Pos, "batchnorm: got %v, want [B, F] or [B, C, H, W]", s)
	}
	if !s[1].IsConst() {
		return value{}, lang.Errorf(c.Pos, "batchnorm: got %v, want a constant number of features on axis 1", s)
	}
	if momentum <= 0 || momentum > 1 || eps <= 0 {
		return value{}, lang.Errorf(c.Pos, "batchnorm: momentum %v and eps %v, want 0 < momentum ≤ 1 and eps > 0", momentum, eps)
	}
	sc := l.sc
	prefix := "batchnorm" + strconv.Itoa(sc.counts["batchnorm"])
	sc.counts["batchnorm"]++
	feat := ir.Shape{s[1]}
	weight, err := l.declareParam(sc, prefix+".weight", feat, "ones", c.Pos)
	if err != nil {
		return value{}, err
	}
	bias, err := l.declareParam(sc, prefix+".bias", feat, "zeros", c.Pos)
	if err != nil {
		return value{}, err
	}
	rmean := l.declareState(sc, prefix+".running_mean", feat, "zeros", c.Pos)
	rvar := l.declareState(sc, prefix+".running_var", feat, "ones", c.Pos)
	b := l.b
	l.setPos(c.Pos)
	bcast := func(v *ir.Op) *ir.Op { return b.Op("reshape", ir.Attrs{"shape": bshape}, v) }
	var mean, variance *ir.Op
	if l.training() {
		mean = b.Op("mean", ir.Attrs{"axes": axes, "keepdims": true}, x)
		centred := b.Op("sub", nil, x, mean)
		variance = b.Op("mean", ir.Attrs{"axes": axes, "keepdims": true}, b.Op("square", nil, centred))
		// running ← (1 − m)·running + m·batch, with the variance made unbiased: n/(n − 1).
		n := b.Op("count", ir.Attrs{"axes": axes}, x)
		unbias := b.Op("div", nil, n, b.Op("sub", nil, n, b.Const(1)))
		flat := func(v *ir.Op) *ir.Op { return b.Op("reshape", ir.Attrs{"shape": feat}, v) }
		keep, take := b.Const(1-momentum), b.Const(momentum)
		l.updateState(sc.prefix+"."+prefix+".running_mean",
			b.Op("add", nil, b.Op("mul", nil, rmean, keep), b.Op("mul", nil, flat(mean), take)))
		l.updateState(sc.prefix+"."+prefix+".running_var",
			b.Op("add", nil, b.Op("mul", nil, rvar, keep), b.Op("mul", nil, b.Op("mul", nil, flat(variance), unbias), take)))
	} else {
		mean, variance = bcast(rmean), bcast(rvar)
	}
	xhat := b.Op("div", nil, b.Op("sub", nil, x, mean), b.Op("sqrt", nil, b.Op("add", nil, variance, b.Const(eps))))
	y := b.Op("add", nil, b.Op("mul", nil, xhat, bcast(weight)), bcast(bias))
	if b.Err != nil {
		return value{}, lang.Errorf(c.Pos, "batchnorm: %v", b.Err)
	}
	return tensorVal(y), nil
}
