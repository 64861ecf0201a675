package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"github.com/dlc-lang/dlc/ir"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dlc-lang/dlc/runtime/atomicfile"
	"github.com/dlc-lang/dlc/runtime/data"
	"github.com/dlc-lang/dlc/runtime/embed"
	"github.com/dlc-lang/dlc/runtime/report"
	dlctrain "github.com/dlc-lang/dlc/runtime/train"
)

// dlc embed: an autoencoder's codes of a data set (its "encode" function: a VAE's μ), as
// .npy and CSV, and a 2-D map of them coloured by label.

func cmdEmbed(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	init := fs.String("init", "", "the autoencoder's checkpoint (from dlc run --save)")
	which := fs.String("data", "test", "the train block's data set to encode: train or test")
	out := fs.String("o", "", "the codes' .npy file; the CSV and the map are named after it (NAME.csv, NAME-map.png); default FILE's name + -codes.npy")
	usePCA := fs.Bool("pca", false, "map the codes with PCA (all of them, fast) instead of t-SNE")
	n := fs.Int("n", 5000, "the map shows a random sample of at most this many codes (default: 5000 with t-SNE, all with --pca or a 2-D code)")
	perplexity := fs.Float64("perplexity", 30, "t-SNE's perplexity: the effective number of neighbours")
	seed := fs.Uint64("seed", 1, "seed of the sample and of t-SNE's start")
	batch := fs.Int("batch", 500, "rows per run of the encoder")
	file, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	if err := checkSplit("embed", *which, stderr); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if *usePCA && given["perplexity"] {
		fmt.Fprintf(stderr, "dlc embed: --perplexity is t-SNE's; --pca maps without it\n")
		return errUsage
	}
	if !(*perplexity > 0) || *perplexity > 1e6 {
		fmt.Fprintf(stderr, "dlc embed: --perplexity %v, want a positive number (5 to 50 is usual)\n", *perplexity)
		return errUsage
	}
	npyPath := *out
	if npyPath == "" {
		npyPath = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)) + "-codes.npy"
	}
	if !strings.HasSuffix(npyPath, ".npy") {
		fmt.Fprintf(stderr, "dlc embed: -o %s, want a name ending in .npy (the CSV and the map are named after it)\n", npyPath)
		return errUsage
	}
	stem := strings.TrimSuffix(npyPath, ".npy")
	csvPath, mapPath := stem+".csv", stem+"-map.png"
	if err := refuseInputs("embed", stderr, []string{npyPath, csvPath, mapPath}, file, *init); err != nil {
		return err
	}
	tr, err := loadTrained(file, *init, "embed", stderr)
	if err != nil {
		return err
	}
	set, err := loadSplit(tr, file, *which, "embed", stderr)
	if err != nil {
		return err
	}
	codes, err := tr.ApplyRole(ir.RoleEncode, dlctrain.SetTensor(set), *batch)
	if err != nil {
		return err
	}
	rows := set.Len()
	dim := len(codes.Data) / rows
	if err := writeNPYFile(npyPath, codes); err != nil {
		return err
	}
	if err := writeFileAtomic(csvPath, codesCSV(codes.Data, rows, dim, set.Labels)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d codes %v of the %s set to %s and %s\n", rows, codes.Shape[1:], *which, npyPath, csvPath)
	if dim < 2 {
		fmt.Fprintf(stdout, "a code of %d value has no 2-D map; none drawn\n", dim)
		return nil
	}
	if dim == 2 && (*usePCA || given["perplexity"]) {
		fmt.Fprintf(stdout, "a 2-D code is plotted as it is: no PCA or t-SNE\n")
	}
	m := codeMap{file: filepath.Base(file), which: *which, pca: *usePCA, perplexity: *perplexity, seed: *seed, n: rows}
	if given["n"] || (dim > 2 && !*usePCA) {
		m.n = *n // t-SNE's default sample, or the one asked for
	}
	start := time.Now()
	xy, labels, title, axes, err := m.draw(codes.Data, rows, dim, set.Labels)
	if err != nil {
		return err
	}
	if err := report.Scatter(mapPath, title, xy, labels, axes[0], axes[1]); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote the map (%s) to %s in %.1fs\n", strings.TrimPrefix(title, m.file+": "), mapPath, time.Since(start).Seconds())
	return nil
}

// codeMap is how dlc embed maps codes to the plane.
type codeMap struct {
	file, which string
	pca         bool
	perplexity  float64
	seed        uint64
	n           int // the most codes the map shows
}

// draw maps a random sample of at most m.n of the codes (rows × dim) to the plane and
// returns the points, their labels, the map's title and its axes' names.
func (m codeMap) draw(codes []float32, rows, dim int, allLabels []int) (xy []float64, labels []int, title string, axes [2]string, err error) {
	idx := sampleRows(rows, m.n, m.seed)
	x := make([]float64, 0, len(idx)*dim)
	for _, i := range idx {
		for _, v := range codes[i*dim : (i+1)*dim] {
			x = append(x, float64(v))
		}
		if allLabels != nil {
			labels = append(labels, allLabels[i])
		}
	}
	what := fmt.Sprintf("%d %s codes", rows, m.which)
	if len(idx) < rows {
		what = fmt.Sprintf("%d of %d %s codes", len(idx), rows, m.which)
	}
	switch {
	case dim == 2:
		return x, labels, fmt.Sprintf("%s: %s, as they are", m.file, what), [2]string{"z0", "z1"}, nil
	case m.pca:
		proj, vars, err := embed.PCA(x, len(idx), dim, 2)
		if err != nil {
			return nil, nil, "", axes, err
		}
		total := 0.0
		for _, v := range vars {
			total += v
		}
		title = fmt.Sprintf("%s: PCA of %s (%.0f%% of the variance)", m.file, what, 100*(vars[0]+vars[1])/total)
		return proj, labels, title, [2]string{"PC 1", "PC 2"}, nil
	}
	if xy, err = embed.TSNE(x, len(idx), dim, embed.TSNEOptions{Perplexity: m.perplexity, Seed: m.seed}); err != nil {
		return nil, nil, "", axes, err
	}
	title = fmt.Sprintf("%s: t-SNE of %s (perplexity %g)", m.file, what, m.perplexity)
	return xy, labels, title, [2]string{"t-SNE 1", "t-SNE 2"}, nil
}

// sampleRows picks min(n, rows) row indices at random without repetition, in order.
func sampleRows(rows, n int, seed uint64) []int {
	idx := rand.New(rand.NewPCG(seed, 0x656d6264)).Perm(rows)[:min(n, rows)]
	slices.Sort(idx)
	return idx
}

// codesCSV writes codes (rows × dim) with a header z0, z1, …, and a label column when
// labels are known.
func codesCSV(codes []float32, rows, dim int, labels []int) []byte {
	var b bytes.Buffer
	for j := 0; j < dim; j++ {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "z%d", j)
	}
	if labels != nil {
		b.WriteString(",label")
	}
	b.WriteByte('\n')
	for i := 0; i < rows; i++ {
		for j, v := range codes[i*dim : (i+1)*dim] {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
		}
		if labels != nil {
			fmt.Fprintf(&b, ",%d", labels[i])
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// checkSplit refuses a --data value other than train or test before any work.
func checkSplit(cmd, which string, stderr io.Writer) error {
	if which != "train" && which != "test" {
		fmt.Fprintf(stderr, "dlc %s: --data %q, want train or test (the train block's data sets)\n", cmd, which)
		return errUsage
	}
	return nil
}

// loadSplit loads the train block's training ("train") or test ("test") data.
func loadSplit(tr *dlctrain.Trainer, file, which, cmd string, stderr io.Writer) (*data.Set, error) {
	switch which {
	case "train":
		return data.Load(tr.Spec.Data)
	case "test":
		if tr.Spec.Test == nil {
			return nil, fmt.Errorf("%s: the train block has no test set; give --data train", file)
		}
		return data.Load(*tr.Spec.Test)
	}
	fmt.Fprintf(stderr, "dlc %s: --data %q, want train or test (the train block's data sets)\n", cmd, which)
	return nil, errUsage
}

// refuseInputs refuses an output path that names one of the command's inputs, or that
// cannot be written, before any work.
func refuseInputs(cmd string, stderr io.Writer, outs []string, inputs ...string) error {
	for _, o := range outs {
		for _, in := range inputs {
			if in != "" && dlctrain.SameFile(o, in) {
				fmt.Fprintf(stderr, "dlc %s: output %s is one of the inputs; refusing to overwrite it\n", cmd, o)
				return errUsage
			}
		}
		if err := atomicfile.CheckWritable(o); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("cannot write %s: directory %s does not exist", o, filepath.Dir(o))
			}
			return err // CheckWritable names the path
		}
	}
	return nil
}
