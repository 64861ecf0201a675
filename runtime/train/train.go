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
	// Steps counts the optimiser steps taken, over all phases; PhaseSteps counts them
	// per phase, in the spec's order (what a schedule by steps counts).
	Steps      int
	PhaseSteps []int
	// stepScheds are the phases' schedules by steps (interval: "step"), nil where a phase
	// has none: each sets its rate before every step of its phase (runPhase).
	stepScheds []*schedule
	// CheckFinite makes every program check each op's result for NaN and infinity.
	CheckFinite bool
	// DrawSeed keys the draw ops of every program (see Ctx).
	DrawSeed uint64
	// Result is the output that Apply, ApplyRows and PredictGraph return: "" for out, or
	// an inner value the module was compiled to expose (ir.ValueOutput).
	Result string

	progs map[string]*runtime.Program
	vars  []*ir.Op // the param and state ops, one per name, in order of first appearance
	bufX  []float32
	bufY  []float32
	bufZ  []float32 // the drawn batch's samples (and, unused, its targets)
	bufZY []float32
	// draw orders the batches that inputs fed ir.FeedDraw take, a permutation of the
	// training set each epoch (draw.go); made at first use.
	draw   *drawOrder
	inputs map[string]*runtime.Tensor
	feeds  map[string]*feedPlan // per step function: its input tensors at the last batch size
	phases []phaseBufs          // per phase: what a step reuses
	means  map[string]float64   // the running mean losses a pass hands its progress callback
	cursor int                  // the phase whose turn it is, and how many runs it has had in this turn
	turns  int
	// runs holds the draw counters of programs not compiled yet, restored from a checkpoint.
	runs map[string]uint64
	// onStep, when set, hears of every optimiser step (the run's log, runlog.go).
	onStep func(steps int, phase string, loss float64, metrics map[string]float64)
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
	t.PhaseSteps = make([]int, len(t.Opts))
	t.stepScheds = make([]*schedule, len(t.Opts))
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

// feed gathers the samples idx of set into the inputs of fn: an input the spec feeds
// samples gets them, one fed targets their targets, and one fed a draw the samples draw, a
// second batch of the same size in an order of its own (nil when the caller draws none:
// inference, StepPhase). The tensors alias the trainer's batch buffers, which the next
// call overwrites.
func (t *Trainer) feed(fn string, set *data.Set, idx, draw []int) (map[string]*runtime.Tensor, error) {
	f := t.Module.Func(fn)
	if f == nil {
		return nil, fmt.Errorf("runtime: no function %s in the module", fn)
	}
	drawn := false
	for _, in := range f.Inputs {
		k, ok := t.Spec.Feed(in.Name)
		switch {
		case !ok || k != ir.FeedSamples && k != ir.FeedTargets && k != ir.FeedDraw:
			return nil, fmt.Errorf("runtime: function %s: the train spec feeds input %s no samples, targets or drawn samples", fn, in.Name)
		case k == ir.FeedDraw && len(draw) != len(idx):
			return nil, fmt.Errorf("runtime: function %s: input %s takes a batch drawn in an order of its own, and this run of %s draws none", fn, in.Name, fn)
		}
		drawn = drawn || k == ir.FeedDraw
	}
	t.bufX, t.bufY = set.Batch(t.bufX, t.bufY, idx)
	if drawn {
		t.bufZ, t.bufZY = set.Batch(t.bufZ, t.bufZY, draw)
	}
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
		src, buf, shape, err := t.feedBuffer(fn, in.Name, set)
		if err != nil {
			return nil, err
		}
		tensor := &fp.tensors[i]
		want := tensor.Shape
		if want == nil {
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

// feedBuffer returns what feeds input of fn from the batch feed has gathered: what it is
// (for messages), its buffer, and the data's shape of it.
func (t *Trainer) feedBuffer(fn, input string, set *data.Set) (string, []float32, []int, error) {
	switch k, _ := t.Spec.Feed(input); k {
	case ir.FeedTargets:
		if set.Y == nil {
			return "", nil, nil, fmt.Errorf("%s: the data has no targets, and input %s of %s needs them", t.Spec.Data.Pos, input, fn)
		}
		return "targets", t.bufY, set.YShape, nil
	case ir.FeedDraw:
		return "drawn samples", t.bufZ, set.XShape, nil
	}
	return "samples", t.bufX, set.XShape, nil
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

// StepPhase runs phase i once on the samples idx: the step function, then the phase's
// optimiser on the gradients it returned, then the state updates. It returns the loss and
// the step's metrics.
func (t *Trainer) StepPhase(i int, set *data.Set, idx []int) (float64, map[string]float64, error) {
	inputs, err := t.feed(t.Spec.Phases[i].Step, set, idx, nil)
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
	if ph.Clip != nil {
		clipGrads(ph.Clip, ph.Params, b.grads)
	}
	if s := t.stepScheds[i]; s != nil {
		t.Opts[i].SetLearningRate(s.rate(t.PhaseSteps[i] + 1))
	}
	if err := t.Opts[i].Step(t.Vars, b.grads); err != nil {
		return 0, nil, err
	}
	t.PhaseSteps[i]++
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
	if t.CheckFinite {
		if err := t.checkStepFinite(i); err != nil {
			return 0, nil, err
		}
	}
	if t.onStep != nil {
		t.onStep(t.Steps, ph.Name, loss, metrics)
	}
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
	perm := t.evalPerm(n)
	var sum float64
	metrics := map[string]float64{}
	for lo := 0; lo < n; lo += batch {
		idx = idx[:0]
		for i := lo; i < min(lo+batch, n); i++ {
			idx = append(idx, i)
		}
		var draw []int
		if perm != nil {
			draw = perm[lo : lo+len(idx)]
		}
		inputs, err := t.feed(t.Spec.Eval, set, idx, draw)
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
	inputs, err := t.feed(fn, set, idx, nil)
	if err != nil {
		return nil, err
	}
	outs, err := p.Run(inputs, t.Vars)
	if err != nil {
		return nil, err
	}
	return outs[t.result()], nil
}

// result is the output name the apply functions return (Result).
func (t *Trainer) result() string {
	if t.Result == "" {
		return "out"
	}
	return t.Result
}
