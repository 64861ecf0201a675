package schema

// The settings of the blocks that take them: a layer block (message passing) and the
// autoencoder family. A layer's other statements are ordinary assignments, so a name not
// in LayerSettings is a variable; a family block holds settings only.

// LayerSettings are a layer block's settings, in the order they must come.
var LayerSettings = []Setting{
	{Name: "self_loops", Kind: Bool, Default: "false",
		Doc: "every node also sends its message to itself; set before the message"},
	{Name: "normalize", Kind: Word, Values: []string{"none", "sym"}, Default: "none",
		Doc: "sym scales each message by 1/√(deg(src)·deg(dst)): degrees count edges into the node (plus the self loop), and a degree of 0 counts as 1; set before the message"},
	{Name: "edge_weight", Kind: Expr, Want: "an expression with one value per edge, [E] or [E, 1]",
		Doc: "scales each edge's message by its weight w (a self loop weighs 1), as PyG's edge_weight; with normalize = sym the degrees are the sums of the weights into the node (plus 1 for the self loop), a sum of 0 counting as 1; weights should be ≥ 0; set before the message"},
	{Name: "message", Kind: Expr, Required: true, Want: "an expression with one row per edge, [E, …]",
		Doc: "one row per edge: an expression of h[g.src], h[g.dst], g.edge and anything computed before it"},
	{Name: "aggregate", Kind: Word, Values: []string{"sum", "mean", "max", "min"}, Required: true,
		Doc: "how the messages combine onto each edge's target (segment_sum …), binding `aggregated`, [N, …]; a node no edge reaches gets zeros"},
	{Name: "update", Kind: Expr, Required: true, Want: "an expression of aggregated with one row per node (the layer's result)",
		Doc: "the layer's result, an expression of `aggregated` and the node tensors, e.g. relu(dense(concat(h, aggregated), H))"},
}

var weight = Setting{Name: "lambda", Kind: Float, Range: AtLeast(0), Required: true, Doc: "the weight λ"}

// AutoencoderSettings are the autoencoder family's settings; each chooses a variant.
var AutoencoderSettings = []Setting{
	{Name: "loss", Kind: Expr, Values: []string{"bce", "mse", "l1"}, Default: "bce",
		Want: "bce, mse or l1, or an expression of x, z and recon",
		Doc:  "the reconstruction loss: a bare name, or an expression of x, z and recon giving a scalar"},
	{Name: "reduction", Kind: Word, Values: []string{"mean", "sum"}, Default: "mean",
		Want: "mean (over every element) or sum (over each sample's elements, mean over the batch)",
		Doc:  "mean over every element, or the sum over each sample's elements, then the mean over the batch; sum by default with latent = gaussian"},
	{Name: "penalty", Kind: CallOf, Doc: "λ·Σ‖W‖² over the weight matrices", Calls: []*Call{
		{Name: "l2", Positional: true, Args: []Setting{weight}, Doc: "λ·Σ‖W‖²"}}},
	{Name: "sparsity", Kind: CallOf, Doc: "a penalty on the codes h", Calls: []*Call{
		{Name: "l1", Positional: true, Args: []Setting{weight}, Doc: "λ·Σ_j |h_j| per sample"},
		{Name: "kl", Positional: true, Doc: "β·Σ_j KL(ρ ‖ ρ̂_j), ρ̂_j the mean activation of code unit j", Args: []Setting{
			{Name: "rho", Kind: Float, Range: Open(0, 1), Required: true,
				Want: "a number in (0, 1): the mean activation each code unit is pulled towards", Doc: "the target ρ"},
			{Name: "beta", Kind: Float, Range: AtLeast(0), Required: true, Doc: "the weight β"}}}}},
	{Name: "corrupt", Kind: CallOf, Doc: "denoising: the input is corrupted in training only", Calls: []*Call{
		{Name: "mask", Positional: true, Doc: "each input element set to 0 with probability q", Args: []Setting{
			{Name: "q", Kind: Float, Range: Closed(0, 1), Required: true, Doc: "the masking probability"}}},
		{Name: "gaussian", Positional: true, Doc: "σ·ε added, ε ~ N(0, 1)", Args: []Setting{
			{Name: "sigma", Kind: Float, Range: AtLeast(0), Required: true, Doc: "the noise standard deviation"}}}}},
	{Name: "contractive", Kind: Float, Range: AtLeast(0), Doc: "λ·‖∂h/∂x‖²_F per sample"},
	{Name: "latent", Kind: Word, Values: []string{"gaussian"},
		Want: "gaussian (a variational autoencoder)",
		Doc:  "gaussian: a variational autoencoder, whose encoder returns (μ, log σ²); not with disc or a loss expression"},
	{Name: "beta", Kind: Float, Range: AtLeast(0), Default: "1",
		Doc: "β, the weight of a VAE's KL term: the loss is reconstruction + β·KL (β-VAE, Higgins et al. 2017; 1 is the plain VAE); needs latent = gaussian"},
	{Name: "prior", Kind: Word, Values: []string{"normal", "uniform"}, Default: "normal",
		Want: "normal (N(0, I)) or uniform (U[−1, 1])",
		Doc:  "the adversarial autoencoder's target for the codes; needs disc"},
}
