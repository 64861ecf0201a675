// Package anomaly turns per-sample anomaly scores (an autoencoder's reconstruction errors)
// into decisions and measures them: a threshold from the scores of normal data (a
// percentile), the samples above it flagged, and, where the true answer is known,
// precision, recall and the area under the ROC curve. The AUROC needs no threshold: it is
// the probability that a random anomaly scores higher than a random normal sample.
package anomaly

import (
	"fmt"
	"math"
	"slices"
)

// Percentile returns the p-th percentile (0 ≤ p ≤ 100) of xs with linear interpolation
// between the two nearest ranks: the value at rank p/100·(n−1) of the sorted scores
// (NumPy's default, "linear"). So p = 0 is the minimum, 100 the maximum, 50 the median.
func Percentile(xs []float64, p float64) (float64, error) {
	if len(xs) == 0 {
		return 0, fmt.Errorf("anomaly: percentile of no scores")
	}
	if !(p >= 0 && p <= 100) {
		return 0, fmt.Errorf("anomaly: percentile %v, want 0 to 100", p)
	}
	if err := checkFinite(xs); err != nil {
		return 0, err
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	r := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(r))
	if lo >= len(s)-1 {
		return s[len(s)-1], nil
	}
	return s[lo] + (r-float64(lo))*(s[lo+1]-s[lo]), nil
}

// AUROC returns the area under the ROC curve of scores against anomalous (true for the
// positives): the Mann-Whitney U statistic over the number of pairs, counting a tie
// between a positive and a negative as half. 1 ranks every anomaly above every normal
// sample, 0.5 is chance.
func AUROC(scores []float64, anomalous []bool) (float64, error) {
	if len(scores) != len(anomalous) {
		return 0, fmt.Errorf("anomaly: %d scores but %d labels", len(scores), len(anomalous))
	}
	if err := checkFinite(scores); err != nil {
		return 0, err
	}
	order := make([]int, len(scores))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		switch {
		case scores[a] < scores[b]:
			return -1
		case scores[a] > scores[b]:
			return 1
		}
		return 0
	})
	// Rank sum of the positives, with tied scores given their average rank.
	var pos, neg, rankSum float64
	for lo := 0; lo < len(order); {
		hi := lo
		for hi+1 < len(order) && scores[order[hi+1]] == scores[order[lo]] {
			hi++
		}
		rank := float64(lo+hi)/2 + 1
		for _, i := range order[lo : hi+1] {
			if anomalous[i] {
				pos++
				rankSum += rank
			} else {
				neg++
			}
		}
		lo = hi + 1
	}
	if pos == 0 || neg == 0 {
		return 0, fmt.Errorf("anomaly: AUROC needs anomalous and normal samples, got %v and %v", pos, neg)
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg), nil
}

// Counts are the outcomes of flagging the samples whose score exceeds a threshold.
type Counts struct {
	TruePos, FalsePos, TrueNeg, FalseNeg int
}

// Confusion flags each sample whose score is above threshold and counts the outcomes.
func Confusion(scores []float64, anomalous []bool, threshold float64) Counts {
	var c Counts
	for i, s := range scores {
		switch flagged := s > threshold; {
		case flagged && anomalous[i]:
			c.TruePos++
		case flagged:
			c.FalsePos++
		case anomalous[i]:
			c.FalseNeg++
		default:
			c.TrueNeg++
		}
	}
	return c
}

// Precision is the share of flagged samples that are anomalies; NaN when none is flagged.
func (c Counts) Precision() float64 {
	return float64(c.TruePos) / float64(c.TruePos+c.FalsePos)
}

// Recall is the share of anomalies that are flagged; NaN when there are none.
func (c Counts) Recall() float64 {
	return float64(c.TruePos) / float64(c.TruePos+c.FalseNeg)
}

func checkFinite(xs []float64) error {
	for i, v := range xs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("anomaly: score %d is %v, want finite scores", i, v)
		}
	}
	return nil
}
