package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/report"
	"github.com/dlc-lang/dlc/runtime/train"
	"github.com/spf13/pflag"
)

// dlc embed: an autoencoder's codes of a data set (its "encode" function: a VAE's μ), as
// .npy and CSV, a 2-D map of them coloured by label and, with --kmeans, their k-means
// clusters scored against the labels.

type embedFlags struct {
	trainedFlags
	out        string
	pca        bool
	n          int
	perplexity float64
	seed       int64
	kmeans     int
}

func (f *embedFlags) declare(fs *pflag.FlagSet) {
	f.declareTrained(fs, "the autoencoder's", "test", "to encode")
	addOutput(fs, &f.out, "", "the codes' file `NAME.npy`; the CSV and the map are named after it (NAME.csv, NAME-map.png); default FILE's name + -codes.npy")
	fs.BoolVar(&f.pca, "pca", false, "map the codes with PCA (all of them, fast) instead of t-SNE")
	addCount(fs, &f.n, 5000, "the map shows a random sample of at most this many codes (default: 5000 with t-SNE, all with --pca or a 2-D code)")
	fs.Lookup("n").DefValue = "" // the usage says it
	fs.Float64Var(&f.perplexity, "perplexity", 30, "t-SNE's perplexity: the effective number of neighbours")
	addSeed(fs, &f.seed, 1, "seed of the sample, of t-SNE's start and of k-means' starts")
	fs.IntVar(&f.kmeans, "kmeans", 0, "cluster the codes by k-means into `K` clusters (a cluster column in the CSV; purity and NMI against the labels)")
}

func (s *session) embed(fs *pflag.FlagSet, file string, f embedFlags) error {
	s.data = f.dataOptions()
	if err := checkSplit(f.which); err != nil {
		return err
	}
	if f.pca && given(fs, "perplexity") {
		return usagef("--perplexity is t-SNE's; --pca maps without it")
	}
	if !(f.perplexity >= 1) || f.perplexity > 1e6 {
		return usagef("--perplexity %v, want a number of neighbours of at least 1 (5 to 50 is usual)", f.perplexity)
	}
	if f.kmeans < 0 || given(fs, "kmeans") && f.kmeans == 0 {
		return usagef("--kmeans %d, want a number of clusters ≥ 1", f.kmeans)
	}
	npyPath := f.out
	if npyPath == "" {
		npyPath = train.PictureBase(file) + "-codes.npy" // autoencoder-vae-codes.npy, as the pictures are named
	}
	if !strings.HasSuffix(npyPath, ".npy") {
		return usagef("-o %s, want a name ending in .npy (the CSV and the map are named after it)", npyPath)
	}
	stem := strings.TrimSuffix(npyPath, ".npy")
	csvPath, mapPath := stem+".csv", stem+"-map.png"
	if err := declareOutputs(output{"-o", npyPath}, output{"the CSV", csvPath}, output{"the map", mapPath}); err != nil {
		return err
	}
	tr, err := s.loadTrained(file, f.init, "embed")
	if err != nil {
		return err
	}
	set, err := train.LoadSplit(tr.Spec, file, f.which, f.dataOptions())
	if err != nil {
		return err
	}
	codes, err := tr.ApplyRoleSet(ir.RoleEncode, set, f.which, f.batch)
	if err != nil {
		return err
	}
	rows := set.Len()
	dim := len(codes.Data) / rows
	if err := writeNPYFile(npyPath, codes); err != nil {
		return err
	}
	clusters, err := s.clusterCodes(f, codes.Data, rows, dim, set.Labels)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(csvPath, train.CodesCSV(codes.Data, rows, dim, set.Labels, clusters)); err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "wrote %d codes %v of the %s set to %s and %s\n", rows, codes.Shape[1:], f.which, npyPath, csvPath)
	if dim < 2 {
		fmt.Fprintf(s.stdout, "a code of %d value has no 2-D map; none drawn\n", dim)
		return nil
	}
	if dim == 2 && (f.pca || given(fs, "perplexity")) {
		fmt.Fprintf(s.stdout, "a 2-D code is plotted as it is: no PCA or t-SNE\n")
	}
	o := train.CodeMapOptions{PCA: f.pca, Perplexity: f.perplexity, Seed: uint64(f.seed), N: rows}
	if given(fs, "n") || (dim > 2 && !f.pca) {
		o.N = f.n // t-SNE's default sample, or the one asked for
	}
	start := time.Now()
	m, err := train.MapCodes(codes.Data, rows, dim, set.Labels, o)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%d %s codes", rows, f.which)
	if m.Shown < rows {
		what = fmt.Sprintf("%d of %d %s codes", m.Shown, rows, f.which)
	}
	how := m.Describe(what)
	if err := report.Scatter(mapPath, filepath.Base(file)+": "+how, m.XY, m.Labels, m.Axes[0], m.Axes[1]); err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "wrote the map (%s) to %s in %.1fs\n", how, mapPath, time.Since(start).Seconds())
	return nil
}

// clusterCodes clusters the codes by k-means when --kmeans asks, prints the clustering
// and, when the set has labels, its purity and NMI against them; nil without --kmeans.
func (s *session) clusterCodes(f embedFlags, codes []float32, rows, dim int, labels []int) ([]int, error) {
	if f.kmeans == 0 {
		return nil, nil
	}
	if f.kmeans > rows {
		return nil, usagef("--kmeans %d, want at most the %d codes of the %s set", f.kmeans, rows, f.which)
	}
	start := time.Now()
	c, err := train.ClusterCodes(codes, rows, dim, train.CodeClusterOptions{K: f.kmeans, Seed: uint64(f.seed)})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(s.stdout, "k-means: %d clusters of the %d codes, the best of %d starts (k-means++): inertia %.6g after %d iterations, in %.1fs\n",
		f.kmeans, rows, c.Restarts, c.Inertia, c.Iterations, time.Since(start).Seconds())
	if labels == nil {
		fmt.Fprintf(s.stdout, "the %s set has no class labels: no purity or NMI\n", f.which)
		return c.Assign, nil
	}
	fmt.Fprintf(s.stdout, "against the labels: purity %.4f, NMI %.4f\n", train.ClusterPurity(c.Assign, labels), train.ClusterNMI(c.Assign, labels))
	return c.Assign, nil
}
