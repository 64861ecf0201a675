package main

import (
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/runtime/anomaly"
	"github.com/dlc-lang/dlc/runtime/data"
	"github.com/dlc-lang/dlc/runtime/train"
)

// The autoencoder's uses on the command line: dlc embed, dlc anomaly, dlc apply with a
// family role, and the pictures of dlc run, on tiny autoencoders over labelled points.

// tinyAE is an autoencoder of 8-value points with a code of the given width; extra holds
// more family settings (corrupt, latent).
func tinyAE(code int, encReturn, extra string) string {
	if encReturn == "" {
		encReturn = fmt.Sprintf("-> [B, %d] {\n    return dense(relu(dense(x, 16)), %d)", code, code)
	}
	return fmt.Sprintf(`
encoder Enc(x: [B, 8]) %s
}
decoder Dec(z: [B, %d]) -> [B, 8] {
    return sigmoid(dense(relu(dense(z, 16)), 8))
}
autoencoder AE(enc: Enc, dec: Dec) {
    loss = mse
%s}
train AE {
    data      = csv(path: "points.csv", label: "y")
    optimizer = adam(lr: 0.01)
    batch     = 16
    epochs    = 3
    seed      = 2
}
`, encReturn, code, extra)
}

// writeLabelled writes n points of 8 values in (0, 1) around three centres, labelled 0-2.
func writeLabelled(t *testing.T, dir string, n int) {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	var sb strings.Builder
	sb.WriteString("a,b,c,d,e,f,g,h,y\n")
	for i := 0; i < n; i++ {
		k := i % 3
		for j := 0; j < 8; j++ {
			c := 0.2
			if j%3 == k {
				c = 0.8
			}
			fmt.Fprintf(&sb, "%.4f,", c+0.05*r.NormFloat64())
		}
		fmt.Fprintf(&sb, "%d\n", k)
	}
	writeFile(t, dir, "points.csv", sb.String())
}

func readNPY(t *testing.T, path string) ([]float32, []int) {
	t.Helper()
	x, shape, err := data.NPY(path)
	if err != nil {
		t.Fatal(err)
	}
	return x, shape
}

func pngSize(t *testing.T, path string) (int, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img.Bounds().Dx(), img.Bounds().Dy()
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestEmbed(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeLabelled(t, dir, 90)
	for _, tc := range []struct {
		name  string
		code  int
		flags []string
		map_  string // what the map line says
	}{
		{"2-D", 2, nil, "90 train codes, as they are"},
		{"PCA of a sample", 3, []string{"--pca", "-n", "50"}, "PCA of 50 of 90 train codes"},
		{"t-SNE", 3, []string{"-n", "60"}, "t-SNE of 60 of 90 train codes (perplexity 30)"},
		{"PCA", 3, []string{"--pca"}, "PCA of 90 train codes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeFile(t, dir, "ae.dl", tinyAE(tc.code, "", ""))
			mustRun(t, "run", "ae.dl", "--save", "w.safetensors", "--out", "")
			out := mustRun(t, append([]string{"embed", "ae.dl", "--init", "w.safetensors", "--data", "train", "-o", "c.npy"}, tc.flags...)...)
			if !strings.Contains(out, tc.map_) {
				t.Errorf("output %q does not mention %q", out, tc.map_)
			}
			codes, shape := readNPY(t, "c.npy")
			if len(shape) != 2 || shape[0] != 90 || shape[1] != tc.code {
				t.Fatalf("codes of shape %v, want [90 %d]", shape, tc.code)
			}
			csv := lines(t, "c.csv")
			header := "z0,z1,label"
			if tc.code == 3 {
				header = "z0,z1,z2,label"
			}
			if len(csv) != 91 || csv[0] != header {
				t.Fatalf("CSV of %d lines headed %q, want 91 headed %q", len(csv), csv[0], header)
			}
			// Row 4 of the CSV is the codes of sample 4 and its label, 4 mod 3.
			fields := strings.Split(csv[5], ",")
			for j := 0; j < tc.code; j++ {
				v, err := strconv.ParseFloat(fields[j], 32)
				if err != nil || float32(v) != codes[4*tc.code+j] {
					t.Errorf("CSV value %q, want the .npy's %v", fields[j], codes[4*tc.code+j])
				}
			}
			if fields[tc.code] != "1" {
				t.Errorf("label %q, want 1", fields[tc.code])
			}
			if w, h := pngSize(t, "c-map.png"); w < 100 || h < 100 {
				t.Errorf("map of %dx%d pixels", w, h)
			}
		})
	}
}

// trainTinyAE trains tinyAE with a 3-D code on 90 labelled points in a new working
// directory, saving w.safetensors.
func trainTinyAE(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	writeLabelled(t, dir, 90)
	writeFile(t, dir, "ae.dl", tinyAE(3, "", ""))
	mustRun(t, "run", "ae.dl", "--save", "w.safetensors", "--out", "")
}

// --kmeans adds each code's cluster to the CSV and scores the clusters against the
// labels; the purity and NMI printed are those of the CSV's columns.
func TestEmbedKMeans(t *testing.T) {
	trainTinyAE(t)
	out := mustRun(t, "embed", "ae.dl", "--init", "w.safetensors", "--data", "train", "-o", "c.npy", "--pca", "--kmeans", "3")
	csv := lines(t, "c.csv")
	if len(csv) != 91 || csv[0] != "z0,z1,z2,label,cluster" {
		t.Fatalf("CSV of %d lines headed %q, want 91 headed z0,z1,z2,label,cluster", len(csv), csv[0])
	}
	var labels, clusters []int
	for _, row := range csv[1:] {
		f := strings.Split(row, ",")
		l, err1 := strconv.Atoi(f[3])
		c, err2 := strconv.Atoi(f[4])
		if err1 != nil || err2 != nil || c < 0 || c >= 3 {
			t.Fatalf("row %q: want an int label and a cluster in [0, 3)", row)
		}
		labels, clusters = append(labels, l), append(clusters, c)
	}
	want := fmt.Sprintf("against the labels: purity %.4f, NMI %.4f", train.ClusterPurity(clusters, labels), train.ClusterNMI(clusters, labels))
	if !strings.Contains(out, "k-means: 3 clusters of the 90 codes, the best of 10 starts") || !strings.Contains(out, want) {
		t.Errorf("output %q, want the k-means line and %q", out, want)
	}
	if again := mustRun(t, "embed", "ae.dl", "--init", "w.safetensors", "--data", "train", "-o", "d.npy", "--pca", "--kmeans", "3"); !slices.Equal(lines(t, "d.csv"), csv) {
		t.Errorf("the same seed gave other clusters:\n%s", again)
	}
	if code, _, stderr := run(t, "embed", "ae.dl", "--init", "w.safetensors", "--data", "train", "-o", "e.npy", "--kmeans", "91"); code != 2 || !strings.Contains(stderr, "--kmeans 91, want at most the 90 codes of the train set") {
		t.Errorf("--kmeans 91 of 90 codes: exit %d, %q", code, stderr)
	}
}

func TestApplyRoles(t *testing.T) {
	trainTinyAE(t)
	// decode(encode(x)) is reconstruct(x), and --target measures it against the data.
	mustRun(t, "apply", "ae.dl", "--init", "w.safetensors", "--block", "encode", "--data", "train", "-n", "20", "--out", "z.npy")
	mustRun(t, "apply", "ae.dl", "--init", "w.safetensors", "--block", "decode", "--in", "z.npy", "--out", "d.npy")
	out := mustRun(t, "apply", "ae.dl", "--init", "w.safetensors", "--block", "reconstruct", "--data", "train", "-n", "20",
		"--out", "r.npy", "--target", "train", "--grid", "g.png")
	d, dshape := readNPY(t, "d.npy")
	r, rshape := readNPY(t, "r.npy")
	if fmt.Sprint(dshape) != "[20 8]" || fmt.Sprint(rshape) != "[20 8]" {
		t.Fatalf("shapes %v and %v, want [20 8]", dshape, rshape)
	}
	for i := range r {
		if math.Abs(float64(d[i]-r[i])) > 1e-6 {
			t.Fatalf("value %d: decode(encode(x)) %v, reconstruct(x) %v", i, d[i], r[i])
		}
	}
	set, err := data.CSV("points.csv", data.CSVOptions{LabelColumn: "y"})
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for i, v := range r {
		sum += math.Pow(float64(v-set.X[i]), 2)
	}
	m := regexp.MustCompile(`mean squared error against the train set's samples: (\S+) per value`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no MSE line in %q", out)
	}
	if got, _ := strconv.ParseFloat(m[1], 64); math.Abs(got-sum/float64(len(r))) > 1e-5*got {
		t.Errorf("printed MSE %v, computed %v", got, sum/float64(len(r)))
	}
	if _, err := os.Stat("g.png"); err != nil {
		t.Error(err)
	}
}

func TestAnomaly(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeLabelled(t, dir, 90)
	writeFile(t, dir, "ae.dl", tinyAE(2, "", ""))
	mustRun(t, "run", "ae.dl", "--save", "w.safetensors", "--out", "")
	out := mustRun(t, "anomaly", "ae.dl", "--init", "w.safetensors", "--data", "train", "--normal", "0", "-o", "s")
	scores32, shape := readNPY(t, "s.npy")
	if fmt.Sprint(shape) != "[90]" {
		t.Fatalf("scores of shape %v, want [90]", shape)
	}
	scores := make([]float64, len(scores32))
	for i, v := range scores32 {
		scores[i] = float64(v)
	}
	// The scored set is the training set here, so the threshold is their 99th percentile.
	want, _ := anomaly.Percentile(scores, 99)
	if !strings.Contains(out, fmt.Sprintf("threshold %.6g (the 99th percentile of 90 training scores)", want)) {
		t.Errorf("output %q, want threshold %.6g", out, want)
	}
	isAnomaly := make([]bool, 90)
	for i := range isAnomaly {
		isAnomaly[i] = i%3 != 0
	}
	auroc, _ := anomaly.AUROC(scores, isAnomaly)
	c := anomaly.Confusion(scores, isAnomaly, want)
	for _, s := range []string{
		"normal classes 0: 30 samples; anomalies (the other classes): 60",
		fmt.Sprintf("precision %.4f  recall %.4f  AUROC %.4f", c.Precision(), c.Recall(), auroc),
		"flagged by class: 0 ",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output %q lacks %q", out, s)
		}
	}
	csv := lines(t, "s.csv")
	if len(csv) != 91 || csv[0] != "index,score,flagged,label,anomaly" {
		t.Fatalf("CSV of %d lines headed %q", len(csv), csv[0])
	}
	for i, l := range csv[1:] {
		f := strings.Split(l, ",")
		flagged := scores[i] > want
		if f[2] != strconv.Itoa(b2i(flagged)) || f[3] != strconv.Itoa(i%3) || f[4] != strconv.Itoa(b2i(isAnomaly[i])) {
			t.Fatalf("CSV line %q, want flagged %v, label %d", l, flagged, i%3)
		}
	}
	if _, err := os.Stat("s-hist.png"); err != nil {
		t.Error(err)
	}
	// With every class normal (the training data's), there is nothing to measure; a given
	// threshold above every score flags none.
	out = mustRun(t, "anomaly", "ae.dl", "--init", "w.safetensors", "--data", "train", "--threshold", "1e9", "-o", "s2")
	for _, s := range []string{"threshold 1e+09 (given)", "flagged 0 of 90 train samples (0.00%)", "no precision, recall or AUROC: the set has no anomalous samples"} {
		if !strings.Contains(out, s) {
			t.Errorf("output %q lacks %q", out, s)
		}
	}
}

func TestDenoisingAndVAEPictures(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeLabelled(t, dir, 90)
	// A denoising autoencoder's grid has three rows per block of 8 samples: 16 samples of
	// 8 values, drawn 2×4, make 2 blocks of 3 rows (4 px each, 2 px gaps, 4 px between
	// blocks).
	writeFile(t, dir, "dae.dl", tinyAE(3, "", "    corrupt = mask(0.5)\n"))
	mustRun(t, "run", "dae.dl", "--save", "w.safetensors", "--out", "out")
	if _, h := pngSize(t, filepath.Join("out", "dae-recon.png")); h != 2+6*(4+2)+4 {
		t.Errorf("grid %d px high, want %d: three rows per sample", h, 2+6*(4+2)+4)
	}
	mustRun(t, "apply", "dae.dl", "--init", "w.safetensors", "--block", "corrupt", "--data", "train", "--out", "noisy.npy")
	noisy, _ := readNPY(t, "noisy.npy")
	zeros := 0
	for _, v := range noisy {
		if v == 0 {
			zeros++
		}
	}
	if share := float64(zeros) / float64(len(noisy)); share < 0.4 || share > 0.6 {
		t.Errorf("mask(0.5) zeroed %.2f of the values, want about half", share)
	}
	// A variational autoencoder samples from the prior after every epoch, and embeds by μ.
	vae := tinyAE(2, "-> ([B, 2], [B, 2]) {\n    h = relu(dense(x, 16))\n    return dense(h, 2), dense(h, 2)", "    latent = gaussian\n")
	writeFile(t, dir, "vae.dl", vae)
	mustRun(t, "run", "vae.dl", "--save", "v.safetensors", "--out", "out")
	if _, err := os.Stat(filepath.Join("out", "vae-samples.png")); err != nil {
		t.Error(err)
	}
	mustRun(t, "embed", "vae.dl", "--init", "v.safetensors", "--data", "train", "-o", "v.npy")
	if _, shape := readNPY(t, "v.npy"); fmt.Sprint(shape) != "[90 2]" {
		t.Errorf("VAE codes of shape %v, want [90 2] (μ)", shape)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Without -o, embed and anomaly name their files as the pictures are (PictureBase): from
// the .dl file's directory and stem, so models of one name in two directories do not
// write over each other's codes and scores.
func TestEmbedAnomalyDefaultNames(t *testing.T) {
	trainTinyAE(t)
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "ae.dl")
	base := filepath.Base(dir) + "-ae"
	mustRun(t, "embed", file, "--init", "w.safetensors", "--data", "train", "--pca")
	mustRun(t, "anomaly", file, "--init", "w.safetensors", "--data", "train")
	for _, name := range []string{"-codes.npy", "-codes.csv", "-codes-map.png", "-scores.csv", "-scores.npy", "-scores-hist.png"} {
		if _, err := os.Stat(base + name); err != nil {
			t.Error(err)
		}
	}
}
