package schema

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
	{Name: "content", Kind: CallOf, Doc: "with input: λ·l1(G(input), x) (or mse) added to G's loss", Calls: []*Call{
		{Name: "l1", Positional: true, Doc: "the mean absolute difference", Args: weightArg()},
		{Name: "mse", Positional: true, Doc: "the mean squared difference", Args: weightArg()}}},
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
	{Name: "show", Kind: Expr, Want: "a list of image batches of one shape",
		Doc: "the rows of NAME-show.png, written after each epoch from the test set's first samples (one phase at most)"},
}
