package train

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/data"
	"github.com/dlc-lang/dlc/runtime/report"
)

// The pictures of a run: after each epoch a generative family's samples from fixed noise
// and the images a train block shows; at the end the loss curve and, for a family that
// reconstructs, its reconstructions.

// epochPictures writes what a family shows after each epoch: a generative model's (a GAN's,
// a VAE's) samples from one fixed noise batch, in the data's range.
func epochPictures(tr *Trainer, dir, base string, epoch int, out io.Writer) error {
	if !tr.HasRole(ir.RoleSample) {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	imgs, err := tr.Sample(64, rand.New(rand.NewPCG(0x66697865, 0x64)), nil)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, base+"-samples.png")
	lo, hi := tr.DataRange() // samples look like the data: a VAE's in [0, 1], a GAN's in [−1, 1]
	sheet := tr.SampleSheet(imgs, nil, false, []float64{lo, hi})
	sheet.Title = fmt.Sprintf("%s: 64 samples from fixed noise, epoch %d", base, epoch)
	if err := report.WriteSheet(path, sheet); err != nil {
		return err
	}
	if epoch == 1 {
		fmt.Fprintf(out, "writing 64 samples from fixed noise to %s after every epoch\n", path)
	}
	return nil
}

// showPicture writes, for a model whose train block lists images to show (the show role),
// those images for the first samples of set (and, for a draw, the first of its fixed
// permutation), one row each.
func showPicture(tr *Trainer, dir, base string, set *data.Set, epoch int, out io.Writer) error {
	fn, ok := tr.Spec.Role(ir.RoleShow)
	if !ok {
		return nil
	}
	n := min(8, set.Len())
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	var draw []int
	if perm := tr.evalPerm(set.Len()); perm != nil {
		draw = perm[:n]
	}
	prog, err := tr.Program(fn)
	if err != nil {
		return err
	}
	in, err := tr.feed(fn, set, idx, draw)
	if err != nil {
		return err
	}
	res, err := prog.Run(in, tr.Vars)
	if err != nil {
		return err
	}
	lo, hi := tr.DataRange()
	var kinds [][]report.Cell
	var names []string
	for _, o := range tr.Module.Func(fn).Outputs {
		kinds = append(kinds, Images{T: res[o.Name]}.Cells(float32(lo), float32(hi)))
		names = append(names, o.Name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, base+"-show.png")
	if err := report.WriteSheet(path, report.Blocks(kinds, names, n)); err != nil {
		return err
	}
	if epoch == 1 {
		fmt.Fprintf(out, "writing the shown images of %d test samples to %s after every epoch\n", n, path)
	}
	return nil
}

// lossCurves are the loss curves of the epochs this process ran (a resumed run's start at
// the epoch it resumed from): one train curve per phase, "train" for a model of one phase,
// and the test losses beside them, each phase's from the evaluation (its first phase's
// loss, the others' PHASE_loss metrics).
type lossCurves struct {
	first  int
	series map[string][]float64
	// metrics are the steps' reported metrics (a GAN's d_real, D(x), and d_fake,
	// D(G(z))), "train NAME", beside the evaluation's of the same name, "test NAME".
	metrics map[string][]float64
}

// epoch adds the points of one epoch's line.
func (c *lossCurves) epoch(epoch int, phases []ir.Phase, st EpochStats, testLoss float64, test map[string]float64, tested bool) {
	if c.series == nil {
		c.first, c.series = epoch, map[string][]float64{}
	}
	add := func(name string, v float64) { c.series[name] = append(c.series[name], v) }
	if len(st.Metrics) > 0 && c.metrics == nil {
		c.metrics = map[string][]float64{}
	}
	for name, v := range st.Metrics {
		c.metrics["train "+name] = append(c.metrics["train "+name], v)
		if tv, ok := test[name]; ok && tested {
			c.metrics["test "+name] = append(c.metrics["test "+name], tv)
		}
	}
	if len(phases) == 1 {
		add("train", st.Loss)
		if tested {
			add("test", testLoss)
		}
		return
	}
	for i, ph := range phases {
		add("train "+ph.Name, st.Losses[ph.Name])
		v, ok := testLoss, tested
		if i > 0 {
			v, ok = test[ph.Name+"_loss"]
		}
		if ok {
			add("test "+ph.Name, v)
		}
	}
}

// validation adds an epoch's validation losses beside its train and test ones: "val" for
// a model of one phase, else "val PHASE", as the test curves are named.
func (c *lossCurves) validation(phases []ir.Phase, loss float64, m map[string]float64) {
	if len(phases) == 1 {
		c.series["val"] = append(c.series["val"], loss)
		return
	}
	for i, ph := range phases {
		v, ok := loss, true
		if i > 0 {
			v, ok = m[ph.Name+"_loss"]
		}
		if ok {
			c.series["val "+ph.Name] = append(c.series["val "+ph.Name], v)
		}
	}
}

// lossCurve writes the loss curves of the epochs run; a test curve only when every epoch
// was evaluated, and a curve only when it has a finite point (an infinite test loss is in
// the metrics, as null; it has no place on a plot).
func lossCurve(dir, base string, c lossCurves, out io.Writer) error {
	epochs := 0
	for _, s := range c.series {
		epochs = max(epochs, len(s))
	}
	if epochs == 0 {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	series := map[string][]float64{}
	for name, s := range c.series {
		if len(s) == epochs && slices.ContainsFunc(s, func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }) {
			series[name] = s
		}
	}
	path := filepath.Join(dir, base+"-loss.png")
	if err := report.LossCurve(path, base+": loss per epoch", series, c.first); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote loss curve to %s\n", path)
	return metricCurves(dir, base, c, epochs, out)
}

// metricCurves writes the steps' reported metrics per epoch, beside the test set's, when
// the run reports any: for a GAN its discriminator's mean output on real samples, D(x)
// (d_real), and on generated ones, D(G(z)) (d_fake before the generator's step, d_fake_g
// after it).
func metricCurves(dir, base string, c lossCurves, epochs int, out io.Writer) error {
	series := map[string][]float64{}
	for name, s := range c.metrics {
		if len(s) == epochs {
			series[name] = s
		}
	}
	if len(series) == 0 {
		return nil
	}
	path := filepath.Join(dir, base+"-metrics.png")
	if err := report.EpochCurves(path, base+": reported metrics per epoch (a GAN's d_real is D(x), d_fake D(G(z)))", "mean", series, c.first); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote the reported metrics per epoch to %s\n", path)
	return nil
}

// reconstructions writes, for a family that reconstructs, test images (training images
// without a test set) beside their reconstructions: with a corrupt function (a denoising
// autoencoder) the rows are the clean images, their corrupted versions and the
// reconstructions of those, so that the picture shows what the model was trained to undo.
// A reconstruct function of several inputs (an image-to-image generator with a condition)
// is fed each from the set as training fed it; the picture shows the samples.
func reconstructions(tr *Trainer, dir, base string, testSet, trainSet *data.Set, out io.Writer) error {
	fn, ok := tr.Spec.Role(ir.RoleReconstruct)
	if !ok {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	set, which := testSet, "test"
	if set == nil {
		set, which = trainSet, "train"
	}
	n, row := min(16, set.Len()), set.XRow()
	rs, err := tr.setFuncRows(fn, set, which, n)
	if err != nil {
		return err
	}
	xi := samplesInput(tr.Spec, tr.Module.Func(fn))
	x := rs[xi].T
	kinds, names := []Images{{T: x}}, []string{which}
	what := "test images and reconstructions"
	if tr.HasRole(ir.RoleCorrupt) {
		noisy, err := tr.ApplyRole(ir.RoleCorrupt, x, n)
		if err != nil {
			return err
		}
		kinds, names = append(kinds, Images{T: noisy}), append(names, "corrupted")
		x, what = noisy, "test images, corrupted, and the reconstructions of the corrupted"
		rs[xi].T = noisy
	}
	recon, err := tr.ApplyRows(fn, rs, n)
	if err != nil {
		return fmt.Errorf("%s: %v", fn, err)
	}
	if len(recon.Data) != n*row {
		return fmt.Errorf("reconstructions of %d values a sample, want the input's %d", len(recon.Data)/n, row)
	}
	kinds, names = append(kinds, Images{T: recon}), append(names, "output")
	path := filepath.Join(dir, base+"-recon.png")
	lo, hi := tr.DataRange()
	cells := make([][]report.Cell, len(kinds))
	for i, k := range kinds {
		cells[i] = k.Cells(float32(lo), float32(hi))
	}
	if err := report.WriteSheet(path, report.Blocks(cells, names, 8)); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s to %s\n", what, path)
	return nil
}

// samplesInput is the index of f's input that the train spec feeds the samples: the one
// a picture shows above the outputs (the first when none is).
func samplesInput(spec *ir.TrainSpec, f *ir.Func) int {
	for i, in := range f.Inputs {
		if k, ok := spec.Feed(in.Name); ok && k == ir.FeedSamples {
			return i
		}
	}
	return 0
}

// rows returns each sample of a batch [n, …] as its values.
func rows(t *runtime.Tensor) [][]float32 { return Images{T: t}.Rows() }

// squareSize guesses the height and width of a flattened image: square when it can be.
func squareSize(n int) (int, int) {
	for s := 1; s*s <= n; s++ {
		if s*s == n {
			return s, s
		}
	}
	return 1, n
}
