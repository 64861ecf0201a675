package schema

import "fmt"

// The settings of the train block and of the gan family. compiler/train.go reads the train
// block through compiler.checkSettings; compiler/gan.go reads its settings by hand, and
// TestTrainAndGANTables in compiler holds it to these names.

// SupervisedLosses are the losses a plain model trains with against the data's targets.
var SupervisedLosses = []string{"cross_entropy", "mse", "l1", "bce", "bce_logits"}

func optimizerSetting(name, doc string) Setting {
	return Setting{Name: name, Kind: CallOf, Calls: Optimizers, CallsIn: "the table of optimisers", Noun: "optimizer",
		Want: "an optimizer such as adam(lr: 1e-3)", Doc: doc}
}

// TrainSettings are the train block's settings.
var TrainSettings = []Setting{
	{Name: "data", Kind: CallOf, Calls: DataSources, CallsIn: "the table of data sources", Noun: "data source", Required: true,
		Want: "a data source such as mnist(split: \"train\")", Doc: "the training data"},
	{Name: "test", Kind: CallOf, Calls: DataSources, CallsIn: "the table of data sources", Noun: "data source", Want: "a data source",
		Doc: "the test data, evaluated after every epoch"},
	func() Setting {
		s := optimizerSetting("optimizer", "the optimiser; every phase gets its own instance")
		s.Default = "adam(lr: 1e-3)"
		return s
	}(),
	optimizerSetting("d_optimizer", "a gan or an adversarial autoencoder only: the optimiser of its discriminator phase d, overriding optimizer"),
	optimizerSetting("g_optimizer", "a gan or an adversarial autoencoder only: the optimiser of its generator's (or encoder's) phase g, overriding optimizer"),
	{Name: "batch", Kind: Int, Range: AtLeast(1), Default: "32", Want: "a positive int", Doc: "samples per step"},
	{Name: "epochs", Kind: Int, Range: AtLeast(1), Default: "1", Want: "a positive int", Doc: "passes over the data"},
	{Name: "seed", Kind: Int, Range: AtLeast(0), Default: "1", Doc: "seeds the initialisers, the shuffling and the random ops"},
	{Name: "shuffle", Kind: Bool, Default: "true", Doc: "shuffle the samples every epoch"},
	{Name: "loss", Kind: Word, Values: SupervisedLosses,
		Doc: "a plain model's loss against the data's targets: required for a supervised model, refused for a family; a link-level graph model takes bce_logits only, its default"},
	{Name: "labelled", Kind: CallOf, Doc: "a node-level graph model only, and required there: the nodes whose labels the loss sees", Calls: []*Call{
		{Name: "nodes", Positional: true, Doc: "these nodes, each with a known label", Args: []Setting{
			{Name: "ids", Kind: Ints, Range: AtLeast(0), Required: true, Want: "a list of node numbers such as [0, 33]", Doc: "the node numbers"}}},
		{Name: "per_class", Positional: true, Doc: "k nodes of each class, drawn with the run's seed", Args: []Setting{
			{Name: "k", Kind: Int, Range: AtLeast(1), Required: true, Doc: "nodes per class"}}},
		{Name: "fraction", Positional: true, Doc: "this share of the nodes with a known label (at least one), drawn with the run's seed", Args: []Setting{
			{Name: "f", Kind: Float, Range: Open(0, 1), Required: true, Doc: "the share"}}}}},
	{Name: "test_edges", Kind: Float, Range: Open(0, 1), Default: "0.1", Want: "a fraction of the edges in (0, 1)",
		Doc: "a link-prediction or edge-level model only: the fraction of node pairs held out (link: with as many non-edges; edge level: their targets hidden from the loss and evaluated)"},
	{Name: "neighbors", Kind: Ints, Range: AtLeast(1), Want: "a list of fan-outs, one per layer, such as [10, 5]",
		Doc: "a node-level graph model only: train (and evaluate) on neighbour-sampled mini-batches of batch seed nodes, as PyG's NeighborLoader: up to the first fan-out of each seed's in-neighbours, then up to the second of each of theirs, …; the model runs on the sampled subgraph, the loss on its seeds"},
	{Name: "validation", Kind: CallOf, Calls: ValidationCalls, Noun: "validation source",
		Want: "fraction(f) or a data source such as mnist(split: \"test\")",
		Doc:  "data evaluated after every epoch as val_loss and val_NAME: fraction(f) holds out that share of the training data (drawn with the run's seed; for a node-level model, of the labelled nodes; for a link-level model, of the training edges), or a data source of the data's kind (the table of data sources)"},
	{Name: "early_stopping", Kind: CallOf, Want: "patience(n, monitor: \"val_loss\", min_delta: 0)",
		Doc: "stop when the monitor has not improved for n epochs, then restore the best epoch's weights (also when n never ran out)", Calls: []*Call{
			{Name: "patience", Positional: true, Doc: "epochs without improvement before the run stops", Args: append([]Setting{
				{Name: "n", Kind: Int, Range: AtLeast(1), Required: true, Doc: "the patience, in epochs"}}, monitorArgs("val_loss")...)}}},
	scheduleSetting("schedule", "the learning rate's schedule, for every phase (a phase's own schedule overrides it)"),
	clipSetting("clip", "gradient clipping, for every phase (a phase's own clip overrides it)"),
	scheduleSetting("d_schedule", "a gan or an adversarial autoencoder only: the schedule of its discriminator phase d, overriding schedule"),
	scheduleSetting("g_schedule", "a gan or an adversarial autoencoder only: the schedule of its phase g, overriding schedule"),
	clipSetting("d_clip", "a gan or an adversarial autoencoder only: the clipping of its discriminator phase d, overriding clip"),
	clipSetting("g_clip", "a gan or an adversarial autoencoder only: the clipping of its phase g, overriding clip"),
}

// ValidationCalls are what validation = … takes: a fraction of the training data, or any
// data source.
var ValidationCalls = append([]*Call{
	{Name: "fraction", Positional: true, Doc: "hold out this share of the training data, drawn with the run's seed", Args: []Setting{
		{Name: "f", Kind: Float, Range: Open(0, 1), Required: true, Doc: "the share held out"}}},
}, DataSources...)

// Modes are how a monitor improves: auto infers it from the name (a loss falls; an
// accuracy or an AUROC rises).
var Modes = []string{"auto", "min", "max"}

// monitorArgs are the arguments that name a monitored metric, as early_stopping and
// plateau take them.
func monitorArgs(def string) []Setting {
	return []Setting{
		{Name: "monitor", Kind: String, Default: def,
			Doc: "the metric watched, as the epoch line names it: val_loss, val_accuracy, test_loss, train_loss, d_loss…"},
		{Name: "min_delta", Kind: Float, Range: AtLeast(0), Default: "0", Doc: "the least change that counts as an improvement"},
		{Name: "mode", Kind: String, Values: Modes, Default: "auto",
			Doc: "min (lower is better), max, or auto: max for a name ending in accuracy or auroc, min for one ending in loss"},
	}
}

// Schedules are the learning-rate schedules. Each sets a phase's rate at the start of
// every epoch e = 1, 2, … (or, with interval: "step", before its every optimiser step)
// from the optimiser's lr, as PyTorch's schedulers stepped once
// an epoch do (StepLR, ExponentialLR, CosineAnnealingLR after a linear warm-up,
// ReduceLROnPlateau); runtime/train/schedule.go holds the formulas.
var Schedules = []*Call{
	{Name: "step", Positional: true, Doc: "lr·gamma^⌊(e−1)/every⌋ (StepLR)", Args: []Setting{
		{Name: "every", Kind: Int, Range: AtLeast(1), Required: true, Doc: "epochs (or steps, with interval: \"step\") between decays"},
		{Name: "gamma", Kind: Float, Range: Above(0), Default: "0.1", Doc: "the factor of each decay"},
		intervalArg()}},
	{Name: "exponential", Positional: true, Doc: "lr·gamma^(e−1) (ExponentialLR)", Args: []Setting{
		{Name: "gamma", Kind: Float, Range: Above(0), Required: true, Doc: "the factor of each epoch (or step)"},
		intervalArg()}},
	{Name: "cosine", Positional: true, Check: cosineCheck,
		Doc: "lr·e/(warmup+1) for e ≤ warmup, then min_lr + (lr − min_lr)·(1 + cos(π·(e − 1 − warmup)/(T − warmup)))/2, T the run's epochs (CosineAnnealingLR)", Args: []Setting{
			{Name: "warmup", Kind: Int, Range: AtLeast(0), Default: "0", Doc: "epochs (or steps) of linear warm-up"},
			{Name: "min_lr", Kind: Float, Range: AtLeast(0), Default: "0", Doc: "the rate the cosine ends at"},
			{Name: "epochs", Kind: Int, Range: AtLeast(0), Default: "0", Doc: "T, the epochs the cosine spans after the warm-up counted in; 0 for the run's epochs. With interval: \"step\", T in steps, which must be given"},
			intervalArg()}},
	{Name: "plateau", Positional: true, Doc: "multiply the rate by factor when the monitor has not improved for patience epochs, down to min_lr (ReduceLROnPlateau)", Args: append([]Setting{
		{Name: "patience", Kind: Int, Range: AtLeast(0), Default: "10", Doc: "epochs without improvement before a cut"},
		{Name: "factor", Kind: Float, Range: Open(0, 1), Default: "0.1", Doc: "the factor of a cut"},
		{Name: "min_lr", Kind: Float, Range: AtLeast(0), Default: "0", Doc: "the least rate"}}, monitorArgs("val_loss")...)},
}

// intervalArg is a schedule's unit: e counts epochs (the rate is set at each epoch's
// start) or the phase's optimiser steps (set before each step), as Lightning's
// interval "epoch" or "step".
func intervalArg() Setting {
	return Setting{Name: "interval", Kind: Word, Values: []string{"epoch", "step"}, Default: "epoch",
		Doc: "what e counts: epochs, or the phase's optimiser steps (the rate then changes before every step)"}
}

// cosineCheck refuses a cosine whose warm-up fills its epochs, and a cosine by steps
// without its length (a Word argument comes as its index: interval step is 1).
func cosineCheck(a map[string]float64) (arg, msg string) {
	if a["interval"] == 1 && a["epochs"] == 0 {
		return "epochs", `interval: "step" needs epochs: the cosine's length T in steps`
	}
	if a["epochs"] > 0 && a["warmup"] >= a["epochs"] {
		return "warmup", fmt.Sprintf("warmup %g, want fewer epochs than epochs %g", a["warmup"], a["epochs"])
	}
	return "", ""
}

// Clips are the ways a phase's gradients are clipped before its optimiser steps.
var Clips = []*Call{
	{Name: "norm", Positional: true, Doc: "scale the gradients of the parameters the phase updates so that their global L2 norm is at most max (torch.nn.utils.clip_grad_norm_)", Args: []Setting{
		{Name: "max", Kind: Float, Range: Above(0), Required: true, Doc: "the largest norm"}}},
	{Name: "value", Positional: true, Doc: "clamp every gradient element to [−max, max] (torch.nn.utils.clip_grad_value_)", Args: []Setting{
		{Name: "max", Kind: Float, Range: Above(0), Required: true, Doc: "the largest magnitude"}}},
}

func scheduleSetting(name, doc string) Setting {
	return Setting{Name: name, Kind: CallOf, Calls: Schedules, CallsIn: "the table of schedules", Noun: "schedule",
		Want: "a schedule such as step(every: 5, gamma: 0.5)", Doc: doc}
}

func clipSetting(name, doc string) Setting {
	return Setting{Name: name, Kind: CallOf, Calls: Clips, CallsIn: "the table of clips", Noun: "clip", Want: "norm(max) or value(max)", Doc: doc}
}

func sizeArg(doc string) []Setting {
	return []Setting{{Name: "size", Kind: Int, Range: AtLeast(1), Required: true, Doc: doc}}
}

func weightArg() []Setting {
	return []Setting{{Name: "weight", Kind: Float, Range: AtLeast(0), Required: true, Doc: "the weight λ"}}
}

// GANSettings are the gan family's settings.
var GANSettings = []Setting{
	{Name: "noise", Kind: CallOf, Doc: "the generator's noise [B, n]; required unless input is set", Calls: []*Call{
		{Name: "normal", Positional: true, Doc: "z ~ N(0, I)", Args: sizeArg("n, equal to the generator's input size")},
		{Name: "uniform", Positional: true, Doc: "z ~ U[−1, 1]", Args: sizeArg("n, equal to the generator's input size")}}},
	{Name: "input", Kind: Expr, Want: "an expression of x",
		Doc: "instead of noise, G's input made from the real batch, e.g. avg_pool2(x): a super-resolution GAN"},
	{Name: "content", Kind: CallOf, Doc: "with input: λ·l1(G(input), x) (or mse, or bce) added to G's loss", Calls: []*Call{
		{Name: "l1", Positional: true, Doc: "the mean absolute difference", Args: weightArg()},
		{Name: "mse", Positional: true, Doc: "the mean squared difference", Args: weightArg()},
		{Name: "bce", Positional: true, Doc: "the mean binary cross-entropy of G's output, a probability (a sigmoid: computed from its logits), against x in [0, 1]: for masks, which l1 and mse let collapse to zeros", Args: weightArg()}}},
	{Name: "loss", Kind: Word, Values: []string{"non_saturating", "minimax"}, Default: "non_saturating",
		Doc: "non_saturating (G maximises log D(G(z))) or minimax (G minimises log(1 − D(G(z))))"},
	{Name: "d_loss", Kind: Expr, Want: "an expression of d_real, d_fake, x and fake",
		Doc: "the discriminator's loss written out, replacing the standard one: an expression of the logits d_real and d_fake, x and the detached fake"},
	{Name: "g_loss", Kind: Expr, Want: "an expression of d_fake, x and fake",
		Doc: "the generator's loss written out, replacing the standard one: an expression of d_fake, x and fake"},
	{Name: "d_steps", Kind: Int, Range: AtLeast(1), Default: "1", Want: "an int ≥ 1 (discriminator steps per generator step)",
		Doc: "discriminator steps per generator step"},
	{Name: "label_smoothing", Kind: Float, Range: OpenClosed(0, 1), Default: "1", Want: "a number in (0, 1]: the target of real samples",
		Doc: "the target of real samples (one-sided smoothing)"},
}

// PhaseSettings are the names a phase written in a train block reserves; its other
// statements are computations, as in a block's body.
var PhaseSettings = []Setting{
	{Name: "loss", Kind: Expr, Required: true, Want: "a scalar tensor", Doc: "what the phase minimises"},
	{Name: "updates", Kind: Expr, Required: true, Want: "a list of networks such as [G, D]",
		Doc: "the networks (blocks) whose parameters the phase trains, each called in the phase; every other network is frozen while it runs"},
	optimizerSetting("optimizer", "this phase's optimiser; the train block's optimizer when not set"),
	{Name: "repeat", Kind: Int, Range: AtLeast(1), Default: "1", Want: "an int ≥ 1 (batches this phase takes before the next runs)",
		Doc: "batches this phase takes, one step each, before the next phase runs"},
	{Name: "report", Kind: Expr, Want: "a list of scalars assigned earlier in the phase",
		Doc: "scalars reported as metrics on every epoch's line"},
	scheduleSetting("schedule", "this phase's learning-rate schedule; the train block's schedule when not set"),
	clipSetting("clip", "this phase's gradient clipping; the train block's clip when not set"),
	{Name: "show", Kind: Expr, Want: "a list of image batches of one shape",
		Doc: "the rows of NAME-show.png, written after each epoch from the test set's first samples (one phase at most)"},
}
