package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/atomicfile"
	"github.com/dlc-lang/dlc/runtime/data"
	"github.com/dlc-lang/dlc/runtime/embed"
	"github.com/dlc-lang/dlc/runtime/report"
)

// dlc embed: an autoencoder's codes of a data set (its "encode" function: a VAE's μ), as
// .npy and CSV, and a 2-D map of them coloured by label.

func cmdEmbed(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	init := fs.String("init", "", "the autoencoder's checkpoint (from dlc run --save)")
	which := fs.String("data", "test", "the train block's data set to encode: train or test")
	out := fs.String("o", "", "the codes' .npy file; the CSV and the map are named after it (NAME.csv, NAME-map.png); default FILE's name + -codes.npy")
	usePCA := fs.Bool("pca", false, "map the codes with PCA (all of them, fast) instead of t-SNE")
	n := fs.Int("n", 5000, "t-SNE maps a random sample of at most this many codes")
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
	codes, err := tr.ApplyRole("encode", runtime.SetTensor(set), *batch)
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
	x := make([]float64, len(codes.Data))
	for i, v := range codes.Data {
		x[i] = float64(v)
	}
	labels := set.Labels
	var xy []float64
	var title, xLabel, yLabel string
	start := time.Now()
	switch {
	case dim == 2:
		xy, xLabel, yLabel = x, "z0", "z1"
		title = fmt.Sprintf("%s: the 2-D codes of %d %s samples", filepath.Base(file), rows, *which)
	case *usePCA:
		proj, vars, err := embed.PCA(x, rows, dim, 2)
		if err != nil {
			return err
		}
		total := 0.0
		for _, v := range vars {
			total += v
		}
		xy, xLabel, yLabel = proj, "PC 1", "PC 2"
		title = fmt.Sprintf("%s: PCA of %d %s codes (%.0f%% of the variance)", filepath.Base(file), rows, *which, 100*(vars[0]+vars[1])/total)
	default:
		idx := sampleRows(rows, *n, *seed)
		sub := make([]float64, 0, len(idx)*dim)
		var subLabels []int
		for _, i := range idx {
			sub = append(sub, x[i*dim:(i+1)*dim]...)
			if labels != nil {
				subLabels = append(subLabels, labels[i])
			}
		}
		xy, err = embed.TSNE(sub, len(idx), dim, embed.TSNEOptions{Perplexity: *perplexity, Seed: *seed})
		if err != nil {
			return err
		}
		labels = subLabels
		xLabel, yLabel = "t-SNE 1", "t-SNE 2"
		title = fmt.Sprintf("%s: t-SNE of %d of %d %s codes (perplexity %g)", filepath.Base(file), len(idx), rows, *which, *perplexity)
	}
	if err := report.Scatter(mapPath, title, xy, labels, xLabel, yLabel); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote the map (%s) to %s in %.1fs\n", strings.TrimPrefix(title, filepath.Base(file)+": "), mapPath, time.Since(start).Seconds())
	return nil
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
func loadSplit(tr *runtime.Trainer, file, which, cmd string, stderr io.Writer) (*data.Set, error) {
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
			if in != "" && runtime.SameFile(o, in) {
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
