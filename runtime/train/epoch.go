package train

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/data"
)

// An epoch in batches: a pass over the data in an order, the phases cycling over its
// batches (a first phase taking a fresh batch at each of its runs, the phases after it
// reusing its last one), the means summed as it goes. The samples task and the graph-level
// task (a set of small graphs, each batch their disjoint union) both run their epochs
// through it; they differ in how a batch is fed and how the order is drawn.
// EpochStats summarises one pass over the training data. Its means are over samples: each
// step counts as many times as its batch has samples, so an epoch that ends in a partial
// batch has the mean the test evaluation would give.
type EpochStats struct {
	Loss    float64            // mean loss of the first phase over the samples it saw
	Losses  map[string]float64 // mean loss of each phase over the samples of its runs, by phase name
	Metrics map[string]float64 // mean of each step's "metric:NAME" outputs over the samples, by NAME
	Samples int
	Steps   int
	// Complete is false when the epoch stopped early (maxSteps or stop): its progress then
	// says where to continue it.
	Complete bool
}

// EpochProgress is how far an epoch has got: the samples its first phase has taken, the
// steps run and the sums behind its means. It is all an interrupted epoch needs, with the
// shuffle generator's state at the epoch's start (which rebuilds its order), to continue
// with exactly the numbers an uninterrupted epoch would have had.
//
// The sums are of each step's value times its batch size, and the weights the sums of the
// batch sizes, so that a mean is over samples. A checkpoint of an older dlc holds the runs
// of unweighted means instead of the weights (loss_runs); see upgrade.
type EpochProgress struct {
	Samples       int                `json:"samples"`
	Steps         int                `json:"steps"`
	LossSums      map[string]float64 `json:"loss_sums"`
	LossWeights   map[string]int     `json:"loss_weights"`
	MetricSums    map[string]float64 `json:"metric_sums"`
	MetricWeights map[string]int     `json:"metric_weights"`
}

// add counts a step of phase on a batch of w samples, with its loss and metrics.
func (p *EpochProgress) add(phase string, w int, loss float64, metrics map[string]float64) {
	p.Steps++
	p.LossSums[phase] += loss * float64(w)
	p.LossWeights[phase] += w
	for k, v := range metrics {
		p.MetricSums[k] += v * float64(w)
		p.MetricWeights[k] += w
	}
}

// means writes the mean loss of each phase so far into dst.
func (p *EpochProgress) means(dst map[string]float64) {
	for k, s := range p.LossSums {
		dst[k] = s / float64(p.LossWeights[k])
	}
}

// Epoch trains on one pass over set (or until maxSteps optimiser steps in total, when
// maxSteps > 0). progress, if not nil, is called after every step of the first phase with
// the samples done and the running mean loss of each phase, in a map the next call reuses.
func (t *Trainer) Epoch(set *data.Set, rng *rand.Rand, shuffle bool, maxSteps int, progress func(done, total int, losses map[string]float64)) (EpochStats, error) {
	return t.EpochFrom(set, rng, shuffle, &EpochProgress{}, maxSteps, nil, progress)
}

// EpochFrom is Epoch continuing from p, which it updates as it goes; stop, if not nil, is
// asked before every step and ends the epoch early when it says true. rng must be in the
// state it had when the epoch began, so the shuffle gives the same order again.
func (t *Trainer) EpochFrom(set *data.Set, rng *rand.Rand, shuffle bool, p *EpochProgress, maxSteps int, stop func() bool, progress func(done, total int, losses map[string]float64)) (EpochStats, error) {
	n := set.Len()
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if shuffle {
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	e, err := t.newPass(set, order, p, progress)
	if err != nil {
		return EpochStats{}, err
	}
	return t.runPass(e, maxSteps, stop)
}

// runPass runs pass e to its end, or until maxSteps optimiser steps in all (maxSteps > 0)
// or stop, asked before every step, says true; it returns the pass's means so far.
func (t *Trainer) runPass(e *pass, maxSteps int, stop func() bool) (EpochStats, error) {
	complete := false
	for !complete {
		if e.finishFirst && e.over(t) {
			complete = true
			break
		}
		if (maxSteps > 0 && t.Steps >= maxSteps) || (stop != nil && stop()) {
			break
		}
		var err error
		if complete, err = t.passStep(e); err != nil {
			return EpochStats{}, err
		}
	}
	p := e.p
	st := EpochStats{Losses: map[string]float64{}, Metrics: map[string]float64{}, Samples: p.Samples, Steps: p.Steps, Complete: complete}
	p.means(st.Losses)
	for k, s := range p.MetricSums {
		st.Metrics[k] = s / float64(p.MetricWeights[k])
	}
	st.Loss = st.Losses[t.Spec.Phases[0].Name]
	return st, nil
}

// pass is an epoch under way: the order of its samples, the draw's permutation (nil when
// nothing draws, draw.go), the positions [lo, hi) of the batch the first phase took last,
// and its progress.
type pass struct {
	feed     batchFeed
	order    []int
	draw     []int
	lo, hi   int
	p        *EpochProgress
	progress func(done, total int, losses map[string]float64)
	// finishFirst ends the pass once its last batch is stepped, before stop is asked
	// again, as a graph-level epoch always has; a pass of samples asks first.
	finishFirst bool
}

// batchFeed makes the inputs of function fn for the batch idx of a pass's data, and the
// drawn batch draw (nil when nothing draws). The tensors may alias buffers that the next
// call overwrites.
type batchFeed func(fn string, idx, draw []int) (map[string]*runtime.Tensor, error)

// newPass starts (or, after p, continues) a pass over set in order, drawing the epoch's
// permutation when the spec feeds a draw.
func (t *Trainer) newPass(set *data.Set, order []int, p *EpochProgress, progress func(done, total int, losses map[string]float64)) (*pass, error) {
	feed := func(fn string, idx, draw []int) (map[string]*runtime.Tensor, error) {
		return t.feed(fn, set, idx, draw)
	}
	return t.startPass(feed, order, t.drawPerm(len(order)), p, progress)
}

// batch returns the samples and the drawn samples of the pass's batch.
func (e *pass) batch() (idx, draw []int) {
	if e.draw != nil {
		draw = e.draw[e.lo:e.hi]
	}
	return e.order[e.lo:e.hi], draw
}

// over reports whether pass e is over: the first phase's turn, and no samples left.
func (e *pass) over(t *Trainer) bool { return t.cursor == 0 && e.p.Samples >= len(e.order) }

// begin makes p's maps of sums and weights, where it has none.
func (p *EpochProgress) begin() {
	for _, m := range []*map[string]float64{&p.LossSums, &p.MetricSums} {
		if *m == nil {
			*m = map[string]float64{}
		}
	}
	for _, m := range []*map[string]int{&p.LossWeights, &p.MetricWeights} {
		if *m == nil {
			*m = map[string]int{}
		}
	}
}

// startPass starts (or, after p, continues) a pass in order over the data that feed
// gives batches of.
func (t *Trainer) startPass(feed batchFeed, order, draw []int, p *EpochProgress, progress func(done, total int, losses map[string]float64)) (*pass, error) {
	p.begin()
	if n := len(order); p.Samples < 0 || p.Samples > n {
		return nil, fmt.Errorf("runtime: epoch progress of %d samples, the data has %d", p.Samples, n)
	}
	e := &pass{feed: feed, order: order, draw: draw, p: p, progress: progress}
	if p.Samples > 0 {
		// The phases after the first run on the batch the first one took last.
		e.lo, e.hi = (p.Samples-1)/t.Spec.Batch*t.Spec.Batch, p.Samples
	}
	if progress != nil && t.means == nil {
		t.means = map[string]float64{}
	}
	return e, nil
}

// passStep runs the step whose turn it is in pass e and adds it to the pass's progress; it
// reports whether the pass was over already (the first phase's turn, no samples left), in
// which case it runs nothing. It allocates nothing: the running means it hands to the
// pass's progress callback are in a map the trainer reuses.
func (t *Trainer) passStep(e *pass) (bool, error) {
	p, n := e.p, len(e.order)
	first := t.cursor == 0
	ph := &t.Spec.Phases[t.cursor]
	if first {
		if p.Samples >= n {
			return true, nil
		}
		e.lo, e.hi = p.Samples, min(p.Samples+t.Spec.Batch, n)
		p.Samples = e.hi
	}
	idx, draw := e.batch()
	inputs, err := e.feed(ph.Step, idx, draw)
	if err != nil {
		return false, err
	}
	loss, metrics, err := t.runPhase(t.cursor, inputs)
	if err != nil {
		return false, err
	}
	p.add(ph.Name, len(idx), loss, metrics)
	if t.turns++; t.turns >= ph.Repeat {
		t.cursor, t.turns = (t.cursor+1)%len(t.Spec.Phases), 0
	}
	if e.progress != nil && first {
		clear(t.means)
		p.means(t.means)
		e.progress(p.Samples, n, t.means)
	}
	return false, nil
}
