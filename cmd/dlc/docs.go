package main

// docs are the commands' help: the line dlc --help lists for each, and the text
// that dlc help COMMAND prints above its flags.
var docs = map[string]struct{ short, long string }{
	"check": {"report diagnostics; exit 1 if there are any",
		"Compile FILE and report its diagnostics, each with its line and a caret; exit 1 if there are any."},
	"compile": {"print the IR of FILE",
		"Print the IR of FILE: as lowered (--show before), optimised (after, the default) or both. A model with a train block ends with the memory a run of it holds, as a comment the IR reader skips. --show phases says instead how FILE trains, phase by phase, in the language."},
	"params": {"list each trained parameter's name, shape and count",
		"List each trained parameter of FILE with its shape, element count and initialiser, and the total; for a model with a train block, the memory a run of it holds."},
	"summary": {"each block call's output shape and parameter count",
		"For each network of FILE (a block no other block calls), list the block calls its body makes in order, each with its line, the shape it returns as the checker inferred it (symbolic dimensions kept: [B, 64, 14, 14]), its parameters and its training state (batch-norm running statistics); then the network's trainable and non-trainable parameters, and the totals. dlc run prints the same table before it trains (--no-summary leaves it out)."},
	"run": {"train per FILE's train block",
		"Train the model of FILE as its train block says, printing a line per epoch and drawing its pictures (the loss curve, reconstructions, samples) into --out. The flags override the train block."},
	"apply": {"run one block or role of a trained model on data",
		"Run one block of FILE (an encoder, a decoder, a discriminator), a family function (AE.reconstruct) or role (reconstruct, corrupt, encode, …) with the weights of --init on the rows of a .npy array (--in X.npy) or of a data set (--data), and write its outputs as a .npy array; --grid draws the inputs above the outputs. A function of several tensor inputs (a conditional generator G(z, y)) takes each as --in NAME=X.npy, or from --data the inputs the train block feeds (its samples, its targets or one-hot labels).\n\nFor a graph model, dlc apply FILE --init W --out Y.npy writes its predictions over its graph data (a row per node, or per graph of a set); for a link model, each pair's edge probability, of --pairs or by default of the run's held-out test pairs (printing their AUROC)."},
	"sample": {"draw from a trained generator",
		"Draw -n samples from the generator of FILE (a gan's GAN.sample) with the weights of --init, and write them as a PNG grid, or as a .npy array when -o ends in .npy. --label picks a conditional generator's classes; --in NAME=X.npy feeds an input of the sample function (the condition y, or the noise z) the rows of a .npy array instead."},
	"score": {"classify a generator's samples with a trained classifier",
		"Draw -n samples from the generator of FILE, classify them with the classifier --classifier (a model trained with cross_entropy) and print the mean max-softmax confidence and each class's share; for a conditional generator, also how often the requested label is seen."},
	"embed": {"an autoencoder's codes and their 2-D map",
		"Encode a data set with the autoencoder of FILE (its encode function: a VAE's μ) and write the codes as .npy and CSV (with a label column), and a 2-D map of them, NAME-map.png, coloured by label: t-SNE of up to -n codes, PCA with --pca, the code itself when it has two values."},
	"traverse": {"a latent traversal: each code dimension varied, decoded",
		"Decode codes of the autoencoder of FILE (its decode function) with the weights of --init, each chosen code dimension (--dims, default all) going through --steps values from LO to HI (--span), the others fixed at 0 (a VAE prior's mean) or at the code of a sample (--from test:0), and write them as a PNG, a row per dimension labelled z0, z1, … and a column per value."},
	"export": {"export a model to PyTorch",
		"Write the model of FILE, with the weights of --init, as a Python package in -o DIR: model.py (one nn.Module per block, named as in FILE, and load(dir)), train.py (the same phases, losses, optimisers and data; --device cpu|cuda, and data-parallel under torchrun) and weights.safetensors in torch's names and layout (nn.Linear.weight [out, in]). dlc import reads torch's weights back."},
	"anomaly": {"flag samples by reconstruction error",
		"Score every sample of a data set by the reconstruction error of the autoencoder of FILE, flag those above the training data's 99th percentile (or --threshold), write PREFIX.csv, PREFIX.npy and a histogram PREFIX-hist.png, and for a set with labels print precision, recall and AUROC (normal: the classes of the training data, or --normal)."},
	"fmt": {"format .dl files in place",
		"Format each FILE (each .dl file under FILE when it is a directory) in the canonical layout (lang.Format): four spaces per level, one space around = and the operators, the = of consecutive settings aligned, every comment and blank-line group kept. The file is rewritten atomically, and only when it changes; one that does not parse is reported with its line and left as it was. -d prints the changes as a unified diff instead, -l lists the files that would change."},
	"lsp": {"a language server for editors, over stdin and stdout",
		"Serve the Language Server Protocol on standard input and output, for an editor: the compiler's diagnostics as a file is opened and edited, the shape of the value under the cursor on hover, go to the definition of a block, binding or import, and formatting as dlc fmt does. It runs until the editor asks it to exit."},
}
