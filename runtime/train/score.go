package train

import (
	"fmt"
	"github.com/dlc-lang/dlc/ir"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/dlc-lang/dlc/runtime"
)

// Scoring a generator with a classifier: sample images, rescale them from the generator's
// data range to the classifier's, classify them, and report how confident the classifier is
// and how the classes are shared. A generator whose samples look like digits gets confident
// predictions; one that collapses to a few modes gets a lopsided share.

// DataRange returns the range [low, high] the train spec's data maps pixels to (see the
// mnist source's low and high arguments); [0, 1] by default.
func (t *Trainer) DataRange() (lo, hi float64) {
	lo, hi = 0, 1
	if v, err := strconv.Atoi(t.Spec.Data.Args["low"]); err == nil {
		lo = float64(v)
	}
	if v, err := strconv.Atoi(t.Spec.Data.Args["high"]); err == nil {
		hi = float64(v)
	}
	return lo, hi
}

// ScoreResult is what Score measured.
type ScoreResult struct {
	N          int
	Confidence float64   // the mean over samples of the largest softmax probability
	Shares     []float64 // the fraction of samples assigned to each class
	Agree      float64   // with labels: the fraction classified as the requested label
}

// Score draws n samples from gen (in batches) and classifies them with cls's model. labels,
// when not nil, are the classes requested of a conditional generator (sample i asks for
// labels[i mod len]); Agree then says how often the classifier saw what was asked.
func Score(gen, cls *Trainer, n int, rng *rand.Rand, labels []int) (ScoreResult, error) {
	fn, ok := cls.Spec.Role(ir.RolePredict)
	if !ok {
		return ScoreResult{}, fmt.Errorf("the classifier has no predict function: want a model trained with a loss")
	}
	f := cls.Module.Func(fn)
	if f == nil || len(f.Inputs) != 1 {
		return ScoreResult{}, fmt.Errorf("classifier function %s: want one input", fn)
	}
	prog, err := cls.Program(fn)
	if err != nil {
		return ScoreResult{}, err
	}
	glo, ghi := gen.DataRange()
	clo, chi := cls.DataRange()
	scale := float32((chi - clo) / (ghi - glo))
	res := ScoreResult{N: n}
	const batch = 500
	for done := 0; done < n; done += batch {
		m := min(batch, n-done)
		var want []int
		if labels != nil {
			want = make([]int, m)
			for i := range want {
				want[i] = labels[(done+i)%len(labels)]
			}
		}
		imgs, err := gen.Sample(m, rng, want)
		if err != nil {
			return ScoreResult{}, err
		}
		shape, err := sampleShape(f.Inputs[0].Type.Shape, m)
		if err != nil {
			return ScoreResult{}, err
		}
		x := runtime.NewTensor(shape...)
		if len(x.Data) != len(imgs.T.Data) {
			return ScoreResult{}, fmt.Errorf("the generator's samples have %d values each, the classifier's input %v wants %d",
				len(imgs.T.Data)/m, f.Inputs[0].Type.Shape, len(x.Data)/m)
		}
		for i, v := range imgs.T.Data {
			x.Data[i] = (v-float32(glo))*scale + float32(clo)
		}
		outs, err := prog.Run(map[string]*runtime.Tensor{f.Inputs[0].Name: x}, cls.Vars)
		if err != nil {
			return ScoreResult{}, err
		}
		logits := outs["out"]
		k := len(logits.Data) / m
		if res.Shares == nil {
			res.Shares = make([]float64, k)
		}
		for i := 0; i < m; i++ {
			row := logits.Data[i*k : (i+1)*k]
			best, top := 0, row[0]
			for j, v := range row {
				if v > top {
					best, top = j, v
				}
			}
			var z float64
			for _, v := range row {
				z += math.Exp(float64(v - top))
			}
			res.Confidence += 1 / z
			res.Shares[best]++
			if want != nil && want[i] == best {
				res.Agree++
			}
		}
	}
	res.Confidence /= float64(n)
	res.Agree /= float64(n)
	for j := range res.Shares {
		res.Shares[j] /= float64(n)
	}
	return res, nil
}
