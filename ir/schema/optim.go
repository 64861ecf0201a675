package schema

import "fmt"

// The optimisers a train block's optimizer settings name, with torch.optim's defaults,
// and the initialisers a param's init names. runtime/train/optim.go and runtime/train/init.go
// implement them under the same names.

var (
	nonNeg = AtLeast(0)
	beta   = HalfOpen(0, 1)

	lr          = Setting{Name: "lr", Kind: Float, Range: nonNeg, Default: "1e-3", Doc: "the learning rate"}
	weightDecay = Setting{Name: "weight_decay", Kind: Float, Range: nonNeg, Default: "0", Doc: "the weight decay wd"}
	adamArgs    = []Setting{
		lr,
		{Name: "beta1", Kind: Float, Range: beta, Default: "0.9", Doc: "β1, the decay of the first moment m"},
		{Name: "beta2", Kind: Float, Range: beta, Default: "0.999", Doc: "β2, the decay of the second moment v"},
		{Name: "eps", Kind: Float, Range: nonNeg, Default: "1e-8", Doc: "added to √v"},
		weightDecay,
	}
)

// Optimizers are the optimisers; their arguments are named and numeric (true and false
// count as 1 and 0).
var Optimizers = []*Call{
	{Name: "sgd", Check: sgdCheck, Args: []Setting{
		{Name: "lr", Kind: Float, Range: nonNeg, Default: "0.01", Doc: "the learning rate"},
		{Name: "momentum", Kind: Float, Range: nonNeg, Default: "0", Doc: "the momentum"},
		{Name: "dampening", Kind: Float, Range: nonNeg, Default: "0", Doc: "the dampening of the momentum"},
		{Name: "nesterov", Kind: Bool, Default: "false", Doc: "Nesterov momentum: needs momentum > 0 and dampening 0"},
		weightDecay,
	}, Doc: "g = ∇ + wd·p; with momentum, b = g on the first step, else momentum·b + (1 − dampening)·g, and g = g + momentum·b (nesterov) or b; p ← p − lr·g"},
	{Name: "adam", Args: adamArgs,
		Doc: "weight decay as L2 added to the gradient; m, v moments with bias correction per parameter; p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + eps)"},
	{Name: "adamw", Args: adamwArgs(),
		Doc: "decoupled decay: p ← p·(1 − lr·wd) before the Adam update"},
}

func adamwArgs() []Setting {
	a := append([]Setting(nil), adamArgs...)
	a[len(a)-1].Default = "0.01"
	return a
}

// sgdCheck refuses Nesterov momentum without momentum, or with dampening.
func sgdCheck(a map[string]float64) (arg, msg string) {
	if a["nesterov"] == 1 && (a["momentum"] <= 0 || a["dampening"] != 0) {
		return "nesterov", fmt.Sprintf("nesterov needs momentum > 0 and dampening 0, got momentum %g, dampening %g", a["momentum"], a["dampening"])
	}
	return "", ""
}

// Initializers are the initialisers, written as a string holding a name, or a name and
// one number in parentheses for those with an argument: init: "normal(0.02)". Fans are
// those of runtime.Fans.
var Initializers = []*Call{
	{Name: "zeros", Doc: "constant 0"},
	{Name: "ones", Doc: "constant 1"},
	{Name: "glorot_uniform", Aliases: []string{"xavier_uniform"}, Doc: "U(−a, a), a = √(6 / (fan_in + fan_out))"},
	{Name: "glorot_normal", Aliases: []string{"xavier_normal"}, Doc: "N(0, 2 / (fan_in + fan_out))"},
	{Name: "he_uniform", Aliases: []string{"kaiming_uniform"}, Doc: "U(−a, a), a = √(6 / fan_in)"},
	{Name: "he_normal", Aliases: []string{"kaiming_normal"}, Doc: "N(0, 2 / fan_in)"},
	{Name: "normal", Positional: true, Doc: "N(0, std²) (0.02 is the DCGAN init)", Args: []Setting{
		{Name: "std", Kind: Float, Range: nonNeg, Default: "0.02", Doc: "the standard deviation"}}},
	{Name: "uniform", Positional: true, Doc: "U(−limit, limit)", Args: []Setting{
		{Name: "limit", Kind: Float, Range: nonNeg, Default: "0.05", Doc: "the bound"}}},
}
