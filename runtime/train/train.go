package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/data"
)

// Trainer runs a module's train spec: it owns the parameters, the training state and one
// optimiser per phase, feeds batches to the phases' step functions and applies their
// gradients and state updates.
//
// The phases run in a cycle over the batches of an epoch: the first phase takes a fresh
// batch at each of its runs, the phases after it run on the last batch the first one took
// (a GAN's generator step reuses the discriminator's last real batch, which only binds the
// batch size, or feeds a content loss or a condition). Each step's gradients go to its own
// phase's optimiser and are dropped afterwards, so no phase ever re-applies another's, and
// the parameters a phase does not list are never written while it runs.
type Trainer struct {
	Module *ir.Module
	Spec   *ir.TrainSpec
	// Vars holds every named tensor the functions read: the parameters and the state.
	Vars map[string]*runtime.Tensor
	Opts []Optimizer // one per phase, in the spec's order
	// Steps counts the optimiser steps taken, over all phases.
	Steps int
	// CheckFinite makes every program check each op's result for NaN and infinity.
	CheckFinite bool
	// DrawSeed keys the draw ops of every program (see Ctx).
	DrawSeed uint64

	progs  map[string]*runtime.Program
	vars   []*ir.Op // the param and state ops, one per name, in order of first appearance
	bufX   []float32
	bufY   []float32
	inputs map[string]*runtime.Tensor
	feeds  map[string]*feedPlan // per step function: its input tensors at the last batch size
	phases []phaseBufs          // per phase: what a step reuses
	means  map[string]float64   // the running mean losses a pass hands its progress callback
	cursor int                  // the phase whose turn it is, and how many runs it has had in this turn
	turns  int
	// runs holds the draw counters of programs not compiled yet, restored from a checkpoint.
	runs map[string]uint64
}

// NewTrainer prepares m for training; m must have a train spec.
func NewTrainer(m *ir.Module) (*Trainer, error) {
	if m.Train == nil {
		return nil, fmt.Errorf("runtime: the module has no train block")
	}
	t := &Trainer{Module: m, Spec: m.Train, progs: map[string]*runtime.Program{}, inputs: map[string]*runtime.Tensor{}}
	t.vars = append(m.Params(), m.States()...)
	for _, ph := range m.Train.Phases {
		opt, err := NewOptimizer(ph.Optimizer)
		if err != nil {
			return nil, err
		}
		t.Opts = append(t.Opts, opt)
	}
	return t, nil
}

// InitParams draws every parameter from its initialiser, and sets every state to its
// initial value, with a generator seeded by seed. Tensors are drawn in order of first
// appearance, so the same seed gives the same weights whatever the map order.
func (t *Trainer) InitParams(seed int64) error {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x646c63))
	t.Vars = map[string]*runtime.Tensor{}
	for _, o := range t.vars {
		n := o.Attrs.String("name")
		shape, err := o.Type.Shape.Eval(nil)
		if err != nil {
			return fmt.Errorf("runtime: %s %s: %v", o.Kind, n, err)
		}
		p, err := InitTensor(o.Attrs.String("init"), shape, rng)
		if err != nil {
			return fmt.Errorf("%s: %s %s: %v", o.Pos, o.Kind, n, err)
		}
		t.Vars[n] = p
	}
	return nil
}

// SetVars replaces the parameters and state with loaded ones. Every one must be present
// with its declared shape and finite values, and there must be no others; the error lists
// every missing, unexpected or misshapen name, which tells a checkpoint of another model.
func (t *Trainer) SetVars(ts map[string]*runtime.Tensor) error {
	var missing, wrong, bad []string
	known := map[string]bool{}
	for _, o := range t.vars {
		n := o.Attrs.String("name")
		known[n] = true
		p, ok := ts[n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		want, _ := o.Type.Shape.Eval(nil)
		if !slices.Equal(p.Shape, want) {
			wrong = append(wrong, fmt.Sprintf("%s (got %s, want %s)", n, runtime.ShapeString(p.Shape), runtime.ShapeString(want)))
			continue
		}
		if i := firstNonFinite(p.Data); i >= 0 {
			bad = append(bad, fmt.Sprintf("%s (element %d is %v)", n, i, p.Data[i]))
		}
	}
	var extra []string
	for n := range ts {
		if !known[n] {
			extra = append(extra, n)
		}
	}
	sort.Strings(extra)
	var msgs []string
	for _, l := range []struct {
		what  string
		names []string
	}{{"missing", missing}, {"not in this model", extra}, {"of the wrong shape", wrong}, {"not finite", bad}} {
		if len(l.names) > 0 {
			msgs = append(msgs, l.what+": "+strings.Join(l.names, ", "))
		}
	}
	if len(msgs) > 0 {
		return fmt.Errorf("tensors do not match the model: %s", strings.Join(msgs, "; "))
	}
	t.Vars = ts
	return nil
}

// IsState reports whether name is a state tensor rather than a trained parameter.
func (t *Trainer) IsState(name string) bool {
	for _, o := range t.vars {
		if o.Attrs.String("name") == name {
			return o.Kind == "state"
		}
	}
	return false
}

func firstNonFinite(xs []float32) int {
	for i, v := range xs {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return i
		}
	}
	return -1
}

// Program returns the compiled program of function name, compiling it at first use.
func (t *Trainer) Program(name string) (*runtime.Program, error) {
	if p, ok := t.progs[name]; ok {
		return p, nil
	}
	f := t.Module.Func(name)
	if f == nil {
		return nil, fmt.Errorf("runtime: no function %s in the module", name)
	}
	p, err := runtime.Compile(f)
	if err != nil {
		return nil, err
	}
	p.CheckFinite = t.CheckFinite
	p.Seed = t.DrawSeed
	p.Runs = t.runs[name]
	t.progs[name] = p
	return p, nil
}

// feed gathers the samples idx of set into the inputs of fn: the input the spec says is
// fed "x" gets the samples, the one fed "y" their targets. The tensors alias the trainer's
// batch buffers, which the next call overwrites.
func (t *Trainer) feed(fn string, set *data.Set, idx []int) (map[string]*runtime.Tensor, error) {
	f := t.Module.Func(fn)
	if f == nil {
		return nil, fmt.Errorf("runtime: no function %s in the module", fn)
	}
	for _, in := range f.Inputs {
		if k, ok := t.Spec.Feed(in.Name); !ok || k != ir.FeedSamples && k != ir.FeedTargets {
			return nil, fmt.Errorf("runtime: function %s: the train spec feeds input %s no samples or targets", fn, in.Name)
		}
	}
	t.bufX, t.bufY = set.Batch(t.bufX, t.bufY, idx)
	clear(t.inputs)
	fp := t.feeds[fn]
	if fp == nil || fp.batch != len(idx) {
		// The shapes are worked out again only when the batch size changes (the last,
		// partial batch of an epoch), so a step allocates nothing.
		fp = &feedPlan{batch: len(idx), tensors: make([]runtime.Tensor, len(f.Inputs))}
		if t.feeds == nil {
			t.feeds = map[string]*feedPlan{}
		}
		t.feeds[fn] = fp
	}
	for i, in := range f.Inputs {
		src, buf, shape := "samples", t.bufX, set.XShape
		if k, _ := t.Spec.Feed(in.Name); k == ir.FeedTargets {
			if set.Y == nil {
				return nil, fmt.Errorf("%s: the data has no targets, and input %s of %s needs them", t.Spec.Data.Pos, in.Name, fn)
			}
			src, buf, shape = "targets", t.bufY, set.YShape
		}
		tensor := &fp.tensors[i]
		want := tensor.Shape
		if want == nil {
			var err error
			if want, err = sampleShape(in.Type.Shape, len(idx)); err != nil {
				return nil, fmt.Errorf("runtime: input %s of %s: %v", in.Name, fn, err)
			}
		}
		row := 1
		for _, d := range want[1:] {
			row *= d
		}
		if row*len(idx) != len(buf) {
			return nil, fmt.Errorf("%s: the data's %s have shape %s (%d values), input %s of %s wants %v (%d values)",
				t.Spec.Data.Pos, src, runtime.ShapeString(shape[1:]), len(buf)/max(len(idx), 1), in.Name, fn, in.Type.Shape, row)
		}
		tensor.Shape, tensor.Data = want, buf
		t.inputs[in.Name] = tensor
	}
	return t.inputs, nil
}

// feedPlan is a step function's input tensors for one batch size, reused step after step.
type feedPlan struct {
	batch   int
	tensors []runtime.Tensor
}

// phaseBufs is what a phase's step reuses: the names of its gradient outputs, the map that
// hands them to the optimiser, and the metrics map it returns.
type phaseBufs struct {
	gradKeys []string
	grads    map[string]*runtime.Tensor
	metrics  map[string]float64
}

// bufs returns phase i's reusable buffers, made at its first step.
func (t *Trainer) bufs(i int) *phaseBufs {
	if len(t.phases) != len(t.Spec.Phases) {
		t.phases = make([]phaseBufs, len(t.Spec.Phases))
	}
	b := &t.phases[i]
	if b.grads == nil {
		ph := &t.Spec.Phases[i]
		b.grads = make(map[string]*runtime.Tensor, len(ph.Params))
		b.metrics = map[string]float64{}
		for _, name := range ph.Params {
			b.gradKeys = append(b.gradKeys, ir.OutputName(ir.OutGrad, name))
		}
	}
	return b
}

// sampleShape evaluates an input shape whose first dimension is the batch.
func sampleShape(s ir.Shape, batch int) ([]int, error) {
	if len(s) == 0 || len(s[0].Syms) != 1 || s[0].Coef != 1 {
		return nil, fmt.Errorf("shape %v: want a batch dimension first", s)
	}
	return s.Eval(map[string]int{s[0].Syms[0]: batch})
}

// EpochStats summarises one pass over the training data.
type EpochStats struct {
	Loss    float64            // mean loss of the first phase over the samples it saw
	Losses  map[string]float64 // mean loss of each phase over its runs, by phase name
	Metrics map[string]float64 // mean of each step's "metric:NAME" outputs, by NAME
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
type EpochProgress struct {
	Samples    int                `json:"samples"`
	Steps      int                `json:"steps"`
	LossSums   map[string]float64 `json:"loss_sums"`
	LossRuns   map[string]int     `json:"loss_runs"`
	MetricSums map[string]float64 `json:"metric_sums"`
	MetricRuns map[string]int     `json:"metric_runs"`
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
	complete := false
	for !complete {
		if (maxSteps > 0 && t.Steps >= maxSteps) || (stop != nil && stop()) {
			break
		}
		if complete, err = t.passStep(e); err != nil {
			return EpochStats{}, err
		}
	}
	st := EpochStats{Losses: map[string]float64{}, Metrics: map[string]float64{}, Samples: p.Samples, Steps: p.Steps, Complete: complete}
	for k, s := range p.LossSums {
		st.Losses[k] = s / float64(p.LossRuns[k])
	}
	for k, s := range p.MetricSums {
		st.Metrics[k] = s / float64(p.MetricRuns[k])
	}
	st.Loss = st.Losses[t.Spec.Phases[0].Name]
	return st, nil
}

// pass is an epoch under way: the order of its samples, the batch the first phase took
// last, and its progress.
type pass struct {
	set      *data.Set
	order    []int
	idx      []int
	p        *EpochProgress
	progress func(done, total int, losses map[string]float64)
}

// newPass starts (or, after p, continues) a pass over set in order.
func (t *Trainer) newPass(set *data.Set, order []int, p *EpochProgress, progress func(done, total int, losses map[string]float64)) (*pass, error) {
	for _, m := range []*map[string]float64{&p.LossSums, &p.MetricSums} {
		if *m == nil {
			*m = map[string]float64{}
		}
	}
	for _, m := range []*map[string]int{&p.LossRuns, &p.MetricRuns} {
		if *m == nil {
			*m = map[string]int{}
		}
	}
	if n := len(order); p.Samples < 0 || p.Samples > n {
		return nil, fmt.Errorf("runtime: epoch progress of %d samples, the data has %d", p.Samples, n)
	}
	e := &pass{set: set, order: order, p: p, progress: progress}
	if p.Samples > 0 {
		// The phases after the first run on the batch the first one took last.
		e.idx = order[(p.Samples-1)/t.Spec.Batch*t.Spec.Batch : p.Samples]
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
		e.idx = e.order[p.Samples:min(p.Samples+t.Spec.Batch, n)]
		p.Samples += len(e.idx)
	}
	loss, metrics, err := t.StepPhase(t.cursor, e.set, e.idx)
	if err != nil {
		return false, err
	}
	p.Steps++
	p.LossSums[ph.Name] += loss
	p.LossRuns[ph.Name]++
	for k, v := range metrics {
		p.MetricSums[k] += v
		p.MetricRuns[k]++
	}
	if t.turns++; t.turns >= ph.Repeat {
		t.cursor, t.turns = (t.cursor+1)%len(t.Spec.Phases), 0
	}
	if e.progress != nil && first {
		clear(t.means)
		for k, s := range p.LossSums {
			t.means[k] = s / float64(p.LossRuns[k])
		}
		e.progress(p.Samples, n, t.means)
	}
	return false, nil
}

// StepPhase runs phase i once on the samples idx: the step function, then the phase's
// optimiser on the gradients it returned, then the state updates. It returns the loss and
// the step's metrics.
func (t *Trainer) StepPhase(i int, set *data.Set, idx []int) (float64, map[string]float64, error) {
	inputs, err := t.feed(t.Spec.Phases[i].Step, set, idx)
	if err != nil {
		return 0, nil, err
	}
	return t.runPhase(i, inputs)
}

// runPhase runs phase i's step function on inputs, then the phase's optimiser on the
// gradients it returned, then the state updates; it returns the loss and the step's
// metrics (nil if none), in a map the phase's next step reuses. Batches of samples
// (StepPhase) and graphs (graphepoch.go) both step through it.
func (t *Trainer) runPhase(i int, inputs map[string]*runtime.Tensor) (float64, map[string]float64, error) {
	ph := &t.Spec.Phases[i]
	prog, err := t.Program(ph.Step)
	if err != nil {
		return 0, nil, err
	}
	outs, err := prog.Run(inputs, t.Vars)
	if err != nil {
		return 0, nil, fmt.Errorf("step %d (phase %s): %w", t.Steps+1, ph.Name, err)
	}
	loss := float64(outs["loss"].Data[0])
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return 0, nil, fmt.Errorf("%s: loss of phase %s is %v at step %d (run with --check-finite to find the first op that made it)",
			t.Module.Func(ph.Step).Output("loss").Pos, ph.Name, loss, t.Steps+1)
	}
	b := t.bufs(i)
	for k, name := range ph.Params {
		b.grads[name] = outs[b.gradKeys[k]]
	}
	if err := t.Opts[i].Step(t.Vars, b.grads); err != nil {
		return 0, nil, err
	}
	var metrics map[string]float64
	clear(b.metrics)
	for name, v := range outs {
		switch kind, s := ir.ParseOutputName(name); kind {
		case ir.OutState:
			copy(t.Vars[s].Data, v.Data)
		case ir.OutMetric:
			metrics = b.metrics
			metrics[s] = float64(v.Data[0])
		}
	}
	t.Steps++
	return loss, metrics, nil
}

// Evaluate returns the mean loss of the Eval function over every sample of set, and the
// mean of each of its "metric:NAME" outputs under NAME. Batch means are weighted by batch
// size, so the results are means over the whole set.
func (t *Trainer) Evaluate(set *data.Set, batch int) (float64, map[string]float64, error) {
	eval, err := t.Program(t.Spec.Eval)
	if err != nil {
		return 0, nil, err
	}
	n := set.Len()
	idx := make([]int, 0, batch)
	var sum float64
	metrics := map[string]float64{}
	for lo := 0; lo < n; lo += batch {
		idx = idx[:0]
		for i := lo; i < min(lo+batch, n); i++ {
			idx = append(idx, i)
		}
		inputs, err := t.feed(t.Spec.Eval, set, idx)
		if err != nil {
			return 0, nil, err
		}
		outs, err := eval.Run(inputs, t.Vars)
		if err != nil {
			return 0, nil, err
		}
		w := float64(len(idx))
		sum += float64(outs[ir.OutputName(ir.OutLoss, "")].Data[0]) * w
		for name, v := range outs {
			if kind, m := ir.ParseOutputName(name); kind == ir.OutMetric {
				metrics[m] += float64(v.Data[0]) * w
			}
		}
	}
	for m := range metrics {
		metrics[m] /= float64(n)
	}
	return sum / float64(n), metrics, nil
}

// Apply runs function fn on the samples idx of set and returns its output "out".
func (t *Trainer) Apply(fn string, set *data.Set, idx []int) (*runtime.Tensor, error) {
	p, err := t.Program(fn)
	if err != nil {
		return nil, err
	}
	inputs, err := t.feed(fn, set, idx)
	if err != nil {
		return nil, err
	}
	outs, err := p.Run(inputs, t.Vars)
	if err != nil {
		return nil, err
	}
	return outs["out"], nil
}
