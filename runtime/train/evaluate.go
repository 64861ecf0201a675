package train

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/anomaly"
	"github.com/dlc-lang/dlc/runtime/data"
)

// What the commands that use a trained model (dlc apply, embed, anomaly) compute from its
// outputs: the data set they run it on, an autoencoder's anomaly scores and their
// evaluation, the error of outputs against targets, a link model's probabilities. The
// messages name the command's flags, as these are the commands' own computations.

// LoadSplit loads the train block's training ("train") or test ("test") data as o says;
// source, the .dl file, names the train block that has no test set.
func LoadSplit(spec *ir.TrainSpec, source, which string, o data.Options) (*data.Set, error) {
	switch which {
	case "train":
		return data.Load(spec.Data, o)
	case "test":
		if spec.Test == nil {
			return nil, fmt.Errorf("%s: the train block has no test set; give --data train", source)
		}
		return data.Load(*spec.Test, o)
	}
	return nil, fmt.Errorf("--data %q, want train or test (the train block's data sets)", which)
}

// SampleScores runs the model's score function on every sample of set: one finite score
// (a reconstruction error) each.
func (t *Trainer) SampleScores(set *data.Set, batch int) ([]float64, error) {
	s, err := t.ApplyRoleSet(ir.RoleScore, set, "scored", batch)
	if err != nil {
		return nil, err
	}
	if len(s.Data) != set.Len() {
		return nil, fmt.Errorf("the score function gives %v for %d samples, want one score each", s.Shape, set.Len())
	}
	out := make([]float64, len(s.Data))
	for i, v := range s.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("the score of sample %d is %v, want a finite reconstruction error", i, v)
		}
		out[i] = float64(v)
	}
	return out, nil
}

// AnomalyOptions say how EvaluateAnomalies scores and flags a data set.
type AnomalyOptions struct {
	Source     string  // the .dl file, for messages
	Which      string  // the set scored: "train" or "test"
	Percentile float64 // the threshold is this percentile of the training set's scores,
	Threshold  float64 // or this value when it is not NaN
	Normal     []int   // the normal classes; nil: the training set's
	Batch      int     // rows per run of the score function
	Data       data.Options
}

// EvaluateAnomalies scores every sample of the set o.Which with the model's score
// function, flags those above the threshold and, when the set has labels, evaluates the
// flags against them (anomaly.Report). how says where the threshold came from.
func EvaluateAnomalies(t *Trainer, o AnomalyOptions) (r anomaly.Report, how string, err error) {
	scored, err := LoadSplit(t.Spec, o.Source, o.Which, o.Data)
	if err != nil {
		return r, "", err
	}
	if o.Normal != nil && scored.Labels == nil {
		return r, "", fmt.Errorf("--normal %s: the %s set has no class labels to tell normal samples by", joinInts(o.Normal), o.Which)
	}
	scores, err := t.SampleScores(scored, o.Batch)
	if err != nil {
		return r, "", err
	}
	byPercentile := math.IsNaN(o.Threshold)
	// The training data sets the threshold and, unless o.Normal says, the normal classes.
	train := scored
	if o.Which != "train" && (byPercentile || (o.Normal == nil && scored.Labels != nil)) {
		if train, err = data.Load(t.Spec.Data, o.Data); err != nil {
			return r, "", err
		}
	}
	threshold, how := o.Threshold, "given"
	if byPercentile {
		trainScores := scores
		if train != scored {
			if trainScores, err = t.SampleScores(train, o.Batch); err != nil {
				return r, "", err
			}
		}
		if threshold, err = anomaly.Percentile(trainScores, o.Percentile); err != nil {
			return r, "", err
		}
		how = fmt.Sprintf("the %gth percentile of %d training scores", o.Percentile, len(trainScores))
	}
	normal := o.Normal
	if normal == nil && scored.Labels != nil {
		normal = anomaly.Classes(train.Labels)
	}
	return anomaly.NewReport(scores, threshold, scored.Labels, normal), how, nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// TargetFit is how close a function's outputs are to their targets (dlc apply --target).
type TargetFit struct {
	From string  // where the targets came from: "the test set's targets", a file
	MSE  float64 // the mean squared difference per value
	// PSNR is 10·log10(Peak² / MSE) in dB, Peak the data's pixel range (high − low); +Inf
	// when the outputs are the targets.
	PSNR, Peak float64
	// Binary says every target is 0 or 1 (a mask); IoU is then the intersection over
	// union of the outputs at or above ½ and the targets at 1, over every value (1 when
	// both are empty).
	Binary bool
	IoU    float64
}

// TargetFit compares y's rows with the first rows of target: a .npy file, or the train
// block's train or test set (source names the .dl file), whose targets are taken when
// their rows are the outputs' size (paired data, mnist_pairs) and else its samples (a
// denoising model's clean images). peak is the pixel range PSNR is measured against.
func (t *Trainer) TargetFit(source, target string, y *runtime.Tensor, o data.Options, peak float64) (TargetFit, error) {
	fit := TargetFit{From: target, Peak: peak}
	var want []float32
	row := len(y.Data) / max(y.Shape[0], 1)
	if target == "train" || target == "test" {
		set, err := LoadSplit(t.Spec, source, target, o)
		if err != nil {
			return fit, err
		}
		want, fit.From = set.X, fmt.Sprintf("the %s set's samples", target)
		if set.Y != nil && set.YRow() == row {
			want, fit.From = set.Y, fmt.Sprintf("the %s set's targets", target)
		}
	} else {
		d, _, err := data.NPY(target)
		if err != nil {
			return fit, err
		}
		want = d
	}
	if len(want) < len(y.Data) {
		return fit, fmt.Errorf("--target %s holds %d values, fewer than the %d outputs", target, len(want), len(y.Data))
	}
	if len(want)%row != 0 {
		return fit, fmt.Errorf("--target %s: %d values are not rows of the outputs' %d", target, len(want), row)
	}
	sum, inter, union := 0.0, 0, 0
	fit.Binary = true
	for k, v := range y.Data {
		w := want[k]
		d := float64(v) - float64(w)
		sum += d * d
		if w != 0 && w != 1 {
			fit.Binary = false
		}
		p, q := v >= 0.5, w == 1
		if p && q {
			inter++
		}
		if p || q {
			union++
		}
	}
	fit.MSE = sum / float64(len(y.Data))
	fit.PSNR = 10 * math.Log10(peak*peak/fit.MSE)
	fit.IoU = 1
	if union > 0 {
		fit.IoU = float64(inter) / float64(union)
	}
	return fit, nil
}

// Probabilities returns the model's edge probability for each pair, the sigmoid of its
// logit (Logits), and the logits.
func (s *LinkScorer) Probabilities(p data.Pairs) (probs, logits []float32, err error) {
	if logits, err = s.Logits(p); err != nil {
		return nil, nil, err
	}
	probs = make([]float32, len(logits))
	for i, v := range logits {
		probs[i] = float32(1 / (1 + math.Exp(-float64(v))))
	}
	return probs, logits, nil
}
