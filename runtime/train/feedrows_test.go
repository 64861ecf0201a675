package train

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/data"
)

// feedGAN is a conditional GAN, G(z, y) and D(x, y), on 4 values and 2 classes; with
// input set instead of noise, its generator also takes an image, so that its sample
// function (the reconstruct role) takes x and y.
func feedGAN(input string) string {
	gen, setting := "z: [B, 3]", "noise = normal(3)"
	if input != "" {
		gen, setting = "z: [B, 4]", "input = "+input
	}
	return fmt.Sprintf(`generator G(%s, y: [B, 2]) -> [B, 4] {
    return tanh(dense(concat(z, y), 4))
}
discriminator D(x: [B, 4], y: [B, 2]) -> [B, 1] {
    return dense(relu(dense(concat(x, y), 8)), 1)
}
gan C(gen: G, disc: D) {
    %s
}
train C {
    data      = csv(path: "d.csv", label: "y")
    optimizer = adam(lr: 0.001)
    batch     = 4
}
`, gen, setting)
}

// writeFeedData writes d.csv, 10 rows of 4 values and a class 0 or 1, to dir.
func writeFeedData(t *testing.T, dir string) {
	t.Helper()
	var sb strings.Builder
	sb.WriteString("a,b,c,d,y\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&sb, "%g,%g,%g,%g,%d\n", 0.1*float64(i), -0.2*float64(i), 0.5, float64(i%3), i%2)
	}
	if err := os.WriteFile(filepath.Join(dir, "d.csv"), []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeRows(t *testing.T, path string, shape []int, vals []float32) {
	t.Helper()
	if err := WriteNPY(path, &runtime.Tensor{Shape: shape, Data: vals}); err != nil {
		t.Fatal(err)
	}
}

// A two-input block gets its rows from files or the data set, by input name; batching
// does not change the outputs, and the block is what the family's sample function runs.
func TestFuncRowsTwoInputs(t *testing.T) {
	dir := t.TempDir()
	writeFeedData(t, dir)
	tr := compiledTrainer(t, filepath.Join(dir, "c"), feedGAN(""))
	z := make([]float32, 30)
	for i := range z {
		z[i] = float32(i%7)/7 - 0.5
	}
	zf, yf := filepath.Join(dir, "z.npy"), filepath.Join(dir, "y.npy")
	writeRows(t, zf, []int{10, 3}, z)
	set, err := data.Load(tr.Spec.Data, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	writeRows(t, yf, []int{10, 2}, set.Y)
	fromData, err := tr.FuncRows("G", RowFeed{Files: []InputFile{ParseInputFile("z=" + zf)}, Which: "train"})
	if err != nil {
		t.Fatal(err)
	}
	if fromData[1].From != "the train set's targets" || !slices.Equal(fromData[1].T.Data, set.Y) {
		t.Fatalf("y fed %s %v, want the targets %v", fromData[1].From, fromData[1].T.Data, set.Y)
	}
	fromFiles, err := tr.FuncRows("C.sample", RowFeed{Files: []InputFile{{"y", yf}, {"z", zf}}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := tr.ApplyRows("G", fromData, 3)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tr.ApplyRows("C.sample", fromFiles, 64)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Shape, []int{10, 4}) || !slices.Equal(a.Data, b.Data) {
		t.Errorf("G in batches of 3 %v %v, C.sample in one %v %v", a.Shape, a.Data, b.Shape, b.Data)
	}
	// dlc sample --in y=y.npy is dlc sample --label with those classes.
	labels := make([]int, 10)
	for i := range labels {
		labels[i] = i % 2
	}
	s1, err := tr.SampleFrom(0, rand.New(rand.NewPCG(1, 2)), nil, []InputFile{{"y", yf}})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := tr.Sample(10, rand.New(rand.NewPCG(1, 2)), labels)
	if err != nil || !slices.Equal(s1.T.Data, s2.T.Data) {
		t.Errorf("sampled from a label file %v, from --label %v (%v)", s1.T.Data, s2.T.Data, err)
	}
}

// The end-of-run picture of a generator of an image and a condition feeds both from the
// data, as training fed them; it used to fail: C.sample takes 2 tensors; apply feeds one.
func TestReconstructionsTwoInputs(t *testing.T) {
	dir := t.TempDir()
	writeFeedData(t, dir)
	tr := compiledTrainer(t, filepath.Join(dir, "c"), feedGAN("x * 0.5"))
	set, err := data.Load(tr.Spec.Data, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := reconstructions(tr, dir, "c", nil, set, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "c-recon.png")); err != nil {
		t.Error(err)
	}
}
