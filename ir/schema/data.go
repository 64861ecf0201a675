package schema

import (
	"strconv"
	"strings"
)

// The data sources a train block's data and test settings name. runtime/data holds a
// loader under each name; Gives there says whether it loads samples, one graph or a set
// of graphs.

// SBMNoise is the sbm source's default noise, chosen so that the benchmark is
// neither trivial nor hopeless: on sbm(nodes: 100000, blocks: 10, edges: 1000000, p: 0.7,
// features: 32) with 10% of the nodes labelled, bench/torch_gnn.py's 2-layer mean/concat
// network reached test accuracy 0.976 at noise 2.5, 0.798 at 7, 0.740 at 8 and 0.682 at 9
// after 50 epochs (a nearest-block-mean guess from the features alone gets 0.24 at 8).
const SBMNoise = 8

var (
	count   = AtLeast(0)
	classes = Setting{Name: "classes", Kind: Int, Range: count, Default: "0",
		Doc: "the class count K; 0 infers the largest label plus one"}
	mnistCount = Setting{Name: "count", Kind: Int, Range: count, Default: "0",
		Doc: "keep only the first count samples (after digits), e.g. 1000 for a few labels; 0 keeps all"}
	seed = Setting{Name: "seed", Kind: Int, Range: count, Default: "1", Doc: "the generator's seed"}
)

// DataSources are the sources, in the order the reference lists them.
var DataSources = []*Call{
	{Name: "mnist", Doc: "samples: the MNIST digits, 60000 / 10000 images (5923 / 980 with digits: \"0\"), X [N, 784] in [low, high], labels one-hot [N, 10] over all ten digits", Args: []Setting{
		{Name: "split", Kind: String, Required: true, Values: []string{"train", "test"},
			Doc: "\"train\" (60000 images) or \"test\" (10000)"},
		{Name: "low", Kind: Int, Default: "0", Doc: "the value of a black pixel (low: -1 for a tanh generator)"},
		{Name: "high", Kind: Int, Default: "1", Doc: "the value of a white pixel"},
		{Name: "digits", Kind: String, Default: "", Check: validDigits,
			Want: "digits 0-9 separated by commas, e.g. \"0\" or \"1,7\"",
			Doc:  "keep only these digits, in their order in the split, e.g. \"0\" (one-class training, examples/autoencoder/oneclass.dl) or \"1,7\"; \"\" keeps all"},
		mnistCount,
	}},
	{Name: "mnist_pairs", Doc: "samples: pairs of images made from the MNIST digits, for image-to-image models: X the input image, the targets Y [N, 784] the target image, one pair per digit (labels kept for the commands that read them)", Args: []Setting{
		{Name: "split", Kind: String, Required: true, Values: []string{"train", "test"},
			Doc: "\"train\" (60000 pairs) or \"test\" (10000)"},
		{Name: "input", Kind: String, Required: true, Values: []string{"digit", "top_half", "edges", "low_res"},
			Doc: "the input: \"digit\" (the digit itself, [N, 784]), \"top_half\" (rows 14-27 set to low, [N, 784]), \"edges\" (the outline: pixels ≥ ½ with a 4-neighbour < ½, at high, the rest at low, [N, 784]) or \"low_res\" (the mean of each 2×2 block, [N, 196]: 14×14)"},
		{Name: "target", Kind: String, Default: "digit", Values: []string{"digit", "mask"},
			Doc: "the target: \"digit\" (the digit in [low, high]) or \"mask\" (1 where the pixel is ≥ ½, else 0, whatever low and high are: a segmentation mask)"},
		{Name: "low", Kind: Int, Default: "0", Doc: "the value of a black pixel, in the input and a digit target"},
		{Name: "high", Kind: Int, Default: "1", Doc: "the value of a white pixel"},
		mnistCount,
	}},
	{Name: "csv", Doc: "samples: a numeric CSV file (its first row is a header when none of its fields is a number: §17 CSV files); X holds the non-label columns", Args: []Setting{
		{Name: "path", Kind: Path, Required: true, Doc: "the CSV file"},
		{Name: "label", Kind: StringOrInt, Default: "-1",
			Doc: "the target column, a header name or a 0-based index; -1 or \"\" for none"},
		{Name: "target", Kind: String, Default: "class", Values: []string{"class", "value"},
			Doc: "\"class\" (class indices below K, one-hot encoded to [N, K]) or \"value\" (a real number, [N, 1])"},
		classes,
	}},
	{Name: "npy", Doc: "samples: NumPy .npy arrays (v1-3, dtypes <f4 <f8 <i4 <i8 |u1, C order; a 1-d X is [N, 1])", Args: []Setting{
		{Name: "x", Kind: Path, Required: true, Doc: "the samples, [N, ...]"},
		{Name: "y", Kind: Path,
			Doc: "the targets, [N, ...]; a 1-d integer array holds class indices below K (one-hot encoded), other arrays keep their shape"},
		classes,
	}},
	{Name: "karate", Doc: "a graph: Zachary's karate club, 34 nodes with identity features [34, 34], 78 undirected edges (156 both ways), the two clubs as labels (0: Mr. Hi's, node 0; 1: the Officer's, node 33)"},
	{Name: "sbm", Doc: "a graph from a stochastic block model: N nodes in K equal blocks at random, E/2 distinct pairs of distinct nodes (round(p·E/2) inside a block), each stored both ways, so E edges; features a block centroid (standard normal, one per block) plus Gaussian noise of std noise; labels the blocks", Args: []Setting{
		{Name: "nodes", Kind: Int, Range: count, Required: true, Doc: "N, the node count"},
		{Name: "blocks", Kind: Int, Range: count, Required: true, Doc: "K, the blocks (classes)"},
		{Name: "edges", Kind: Int, Range: count, Required: true, Doc: "E, edges as stored: E/2 node pairs, each both ways; even"},
		{Name: "p", Kind: Float, Range: Closed(0, 1), Default: "0.7", Doc: "the share of pairs inside a block"},
		{Name: "features", Kind: Int, Range: count, Default: "32", Doc: "F, features per node"},
		{Name: "noise", Kind: Float, Range: count, Default: strconv.FormatFloat(SBMNoise, 'g', -1, 64),
			Doc: "the standard deviation of the Gaussian noise added to each block's centroid"},
		seed,
		{Name: "edge_target", Kind: String, Default: "none", Values: []string{"none", "inside", "distance"},
			Doc: "targets on the edges, for an edge-level model: \"inside\" (class 1 when both ends are in one block, else 0), \"distance\" (a value: the distance between the ends' block centroids over √(2F), 0 inside a block) or \"none\"; the graph is the same"},
	}},
	{Name: "graph_csv", Doc: "a graph from a CSV node table (row i is node i: its features, optionally its class) and a CSV edge list (source, target, then edge features)", Args: []Setting{
		{Name: "nodes", Kind: Path, Required: true, Doc: "the node table"},
		{Name: "edges", Kind: Path, Required: true, Doc: "the edge list"},
		{Name: "label", Kind: StringOrInt, Default: "-1",
			Doc: "the node table's class column, a header name or 0-based index (-1 unknown); -1 or \"\" for none"},
		{Name: "labels", Kind: Path, Doc: "a label table instead: a one-column CSV, one class per node"},
		classes,
		{Name: "edge_label", Kind: StringOrInt, Default: "-1",
			Doc: "the edge list's target column, a header name or 0-based index (2 or more; not an edge feature), for an edge-level model; -1 or \"\" for none"},
		{Name: "edge_target", Kind: String, Default: "class", Values: []string{"class", "value"},
			Doc: "what edge_label's column holds: \"class\" (class indices, -1 unknown) or \"value\" (a real number)"},
	}},
	{Name: "graph_npy", Doc: "a graph from .npy arrays: node features [N, F], integer edges [E, 2], optional labels [N] and edge features [E, Fe]", Args: []Setting{
		{Name: "x", Kind: Path, Required: true, Doc: "node features [N, F]"},
		{Name: "edges", Kind: Path, Required: true, Doc: "integer edges [E, 2], a source and a target node per row"},
		{Name: "labels", Kind: Path, Doc: "integer node classes [N], -1 for unknown"},
		{Name: "edge_x", Kind: Path, Doc: "edge features [E, Fe]"},
		classes,
		{Name: "edge_y", Kind: Path, Doc: "edge targets [E], for an edge-level model: integer classes (-1 unknown) or float values"},
	}},
	{Name: "graphs", Doc: "a set of graphs, a class each, from a directory of .npy files in the many-graphs format (graph_id, graph_labels, edges, optional x and edge_x)", Args: []Setting{
		{Name: "dir", Kind: Path, Required: true, Doc: "the directory"},
		classes,
	}},
	{Name: "cycles", Doc: "a set of generated graphs whose structure alone gives the class: random trees (0) and trees plus one edge closing a cycle (1), half each, undirected", Args: []Setting{
		{Name: "graphs", Kind: Int, Range: count, Required: true, Doc: "how many graphs, half of each class"},
		{Name: "min_nodes", Kind: Int, Range: count, Default: "8", Doc: "the fewest nodes of a graph, at least 4"},
		{Name: "max_nodes", Kind: Int, Range: count, Default: "24", Doc: "the most nodes of a graph; node counts are uniform in [min_nodes, max_nodes]"},
		{Name: "features", Kind: String, Default: "constant", Values: []string{"constant", "degree"},
			Doc: "\"constant\" (one feature, 1) or \"degree\" (the node's degree, one-hot, capped at 7)"},
		seed,
	}},
}

// concat joins two sources of samples; its a and b are the other sources, so it is added
// once they exist (a source cannot name its own table in its initialiser).
func init() {
	weight := func(part string) Setting {
		return Setting{Name: "weight_" + part, Kind: Int, Range: AtLeast(1), Default: "1",
			Doc: "how many times each sample of " + part + " appears in an epoch: an integer weight"}
	}
	sources := DataSources
	DataSources = append(DataSources, &Call{Name: "concat", Positional: true,
		Doc: "samples: two sources of samples joined, a's then b's (real and generated data), each repeated weight_a and weight_b times; samples of one size, and targets of one size or none",
		Args: []Setting{
			{Name: "a", Kind: CallOf, Calls: sources, Required: true, Noun: "data source", Want: "a data source of samples", Doc: "the first source"},
			{Name: "b", Kind: CallOf, Calls: sources, Required: true, Noun: "data source", Want: "a data source of samples", Doc: "the second source"},
			weight("a"), weight("b"),
		}})
	ValidationCalls = append(ValidationCalls[:1:1], DataSources...)
	for i := range TrainSettings { // data, test and validation were made with the table before concat
		switch TrainSettings[i].Noun {
		case "data source":
			TrainSettings[i].Calls = DataSources
		case "validation source":
			TrainSettings[i].Calls = ValidationCalls
		}
	}
}

// validDigits reports whether s lists digits 0-9, separated by commas, each once, or is
// empty (every digit).
func validDigits(s string) bool {
	if s == "" {
		return true
	}
	seen := map[int]bool{}
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 || n > 9 || seen[n] {
			return false
		}
		seen[n] = true
	}
	return true
}

// MaxParamElements bounds one parameter's size, so that a typo such as dense(x, 1000000)
// twice over is a compile error, not an attempt to allocate terabytes: 2³⁰ float32
// elements, 4 GiB, the runtime's limit per tensor.
const MaxParamElements = 1 << 30
