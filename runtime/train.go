package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/data"
)

// Trainer runs a module's train spec: it owns the parameters and the optimiser, feeds
// batches to the Step function and applies its gradients.
type Trainer struct {
	Module *ir.Module
	Spec   *ir.TrainSpec
	Params map[string]*Tensor
	Opt    Optimizer
	Steps  int // optimiser steps taken

	progs  map[string]*Program
	inits  map[string]*ir.Op // one param op per name, for shapes and initialisers
	order  []string          // parameter names in order of first appearance
	bufX   []float32
	bufY   []float32
	grads  map[string]*Tensor
	inputs map[string]*Tensor
}

// NewTrainer prepares m for training; m must have a train spec.
func NewTrainer(m *ir.Module) (*Trainer, error) {
	if m.Train == nil {
		return nil, fmt.Errorf("runtime: the module has no train block")
	}
	t := &Trainer{Module: m, Spec: m.Train, progs: map[string]*Program{}, inits: map[string]*ir.Op{},
		grads: map[string]*Tensor{}, inputs: map[string]*Tensor{}}
	for _, o := range m.Params() {
		n := o.Attrs.String("name")
		t.inits[n] = o
		t.order = append(t.order, n)
	}
	opt, err := NewOptimizer(m.Train.Optimizer)
	if err != nil {
		return nil, err
	}
	t.Opt = opt
	return t, nil
}

// InitParams draws every parameter from its initialiser with a generator seeded by seed.
// Parameters are drawn in order of first appearance, so the same seed gives the same
// weights whatever the map order.
func (t *Trainer) InitParams(seed int64) error {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x646c63))
	t.Params = map[string]*Tensor{}
	for _, n := range t.order {
		o := t.inits[n]
		shape, err := o.Type.Shape.Eval(nil)
		if err != nil {
			return fmt.Errorf("runtime: param %s: %v", n, err)
		}
		p, err := InitTensor(o.Attrs.String("init"), shape, rng)
		if err != nil {
			return fmt.Errorf("%s: param %s: %v", o.Pos, n, err)
		}
		t.Params[n] = p
	}
	return nil
}

// SetParams replaces the parameters with loaded ones; every parameter must be present with
// its declared shape. Extra tensors are an error too: they mean a checkpoint of another model.
func (t *Trainer) SetParams(ts map[string]*Tensor) error {
	for _, n := range t.order {
		p, ok := ts[n]
		if !ok {
			return fmt.Errorf("missing parameter %s", n)
		}
		want, _ := t.inits[n].Type.Shape.Eval(nil)
		if !sameShape(p.Shape, want) {
			return fmt.Errorf("parameter %s: got shape %s, want %s", n, shapeString(p.Shape), shapeString(want))
		}
	}
	var extra []string
	for n := range ts {
		if _, ok := t.inits[n]; !ok {
			extra = append(extra, n)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("unexpected tensor %s (not a parameter of this model)", extra[0])
	}
	t.Params = ts
	return nil
}

func (t *Trainer) program(name string) (*Program, error) {
	if p, ok := t.progs[name]; ok {
		return p, nil
	}
	f := t.Module.Func(name)
	if f == nil {
		return nil, fmt.Errorf("runtime: no function %s in the module", name)
	}
	p, err := Compile(f)
	if err != nil {
		return nil, err
	}
	t.progs[name] = p
	return p, nil
}

// feed gathers the samples idx of set into the inputs of fn: the input the spec says is
// fed "x" gets the samples, the one fed "y" their targets. The tensors alias the trainer's
// batch buffers, which the next call overwrites.
func (t *Trainer) feed(fn string, set *data.Set, idx []int) (map[string]*Tensor, error) {
	f := t.Module.Func(fn)
	if f == nil || len(f.Inputs) == 0 {
		return nil, fmt.Errorf("runtime: function %s has no input", fn)
	}
	if len(f.Inputs) > len(t.Spec.Inputs) {
		return nil, fmt.Errorf("runtime: function %s has %d inputs, the train spec feeds %d", fn, len(f.Inputs), len(t.Spec.Inputs))
	}
	t.bufX, t.bufY = set.Batch(t.bufX, t.bufY, idx)
	for i, in := range f.Inputs {
		src, buf, shape := "samples", t.bufX, set.XShape
		if t.Spec.Inputs[i] == "y" {
			if set.Y == nil {
				return nil, fmt.Errorf("%s: the data has no targets, and input %s of %s needs them", t.Spec.Data.Pos, in.Name, fn)
			}
			src, buf, shape = "targets", t.bufY, set.YShape
		}
		want, err := sampleShape(in.Type.Shape, len(idx))
		if err != nil {
			return nil, fmt.Errorf("runtime: input %s of %s: %v", in.Name, fn, err)
		}
		row := 1
		for _, d := range want[1:] {
			row *= d
		}
		if row*len(idx) != len(buf) {
			return nil, fmt.Errorf("%s: the data's %s have shape %s (%d values), input %s of %s wants %v (%d values)",
				t.Spec.Data.Pos, src, shapeString(shape[1:]), len(buf)/max(len(idx), 1), in.Name, fn, in.Type.Shape, row)
		}
		t.inputs[in.Name] = &Tensor{Shape: want, Data: buf}
	}
	return t.inputs, nil
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
	Loss    float64 // mean training loss over the samples seen
	Samples int
	Steps   int
}

// Epoch trains on one pass over set (or until maxSteps optimiser steps in total, when
// maxSteps > 0). progress, if not nil, is called after every step.
func (t *Trainer) Epoch(set *data.Set, rng *rand.Rand, shuffle bool, maxSteps int, progress func(done, total int, loss float64)) (EpochStats, error) {
	step, err := t.program(t.Spec.Step)
	if err != nil {
		return EpochStats{}, err
	}
	n := set.Len()
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if shuffle {
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	var st EpochStats
	var sum float64
	for lo := 0; lo < n; lo += t.Spec.Batch {
		if maxSteps > 0 && t.Steps >= maxSteps {
			break
		}
		idx := order[lo:min(lo+t.Spec.Batch, n)]
		inputs, err := t.feed(t.Spec.Step, set, idx)
		if err != nil {
			return st, err
		}
		outs, err := step.Run(inputs, t.Params)
		if err != nil {
			return st, err
		}
		loss := float64(outs["loss"].Data[0])
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return st, fmt.Errorf("%s: loss is %v at step %d", t.Module.Func(t.Spec.Step).Output("loss").Pos, loss, t.Steps+1)
		}
		for _, name := range t.order {
			if g, ok := outs["grad:"+name]; ok {
				t.grads[name] = g
			}
		}
		if err := t.Opt.Step(t.Params, t.grads); err != nil {
			return st, err
		}
		t.Steps++
		st.Steps++
		st.Samples += len(idx)
		sum += loss * float64(len(idx))
		if progress != nil {
			progress(st.Samples, n, sum/float64(st.Samples))
		}
	}
	if st.Samples > 0 {
		st.Loss = sum / float64(st.Samples)
	}
	return st, nil
}

// Evaluate returns the mean loss of the Eval function over every sample of set, and the
// mean of each of its "metric:NAME" outputs under NAME. Batch means are weighted by batch
// size, so the results are means over the whole set.
func (t *Trainer) Evaluate(set *data.Set, batch int) (float64, map[string]float64, error) {
	eval, err := t.program(t.Spec.Eval)
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
		outs, err := eval.Run(inputs, t.Params)
		if err != nil {
			return 0, nil, err
		}
		w := float64(len(idx))
		sum += float64(outs["loss"].Data[0]) * w
		for name, v := range outs {
			if m, ok := strings.CutPrefix(name, "metric:"); ok {
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
func (t *Trainer) Apply(fn string, set *data.Set, idx []int) (*Tensor, error) {
	p, err := t.program(fn)
	if err != nil {
		return nil, err
	}
	inputs, err := t.feed(fn, set, idx)
	if err != nil {
		return nil, err
	}
	outs, err := p.Run(inputs, t.Params)
	if err != nil {
		return nil, err
	}
	return outs["out"], nil
}

// LoadData opens the data source a train spec names.
func LoadData(d ir.DataSpec) (*data.Set, error) {
	var s *data.Set
	var err error
	switch d.Source {
	case "mnist":
		s, err = data.MNIST(d.Args["split"])
	case "csv":
		opts := data.CSVOptions{}
		if l, ok := d.Args["label"]; ok {
			opts.LabelColumn = l
		}
		opts.Regression = d.Args["target"] == "value"
		s, err = data.CSV(d.Args["path"], opts)
	case "npy":
		s, err = data.NPYSet(d.Args["x"], d.Args["y"])
	default:
		err = fmt.Errorf("unknown data source %s", d.Source)
	}
	if err != nil {
		if d.Pos.IsValid() {
			return nil, fmt.Errorf("%s: %w", d.Pos, err)
		}
		return nil, err
	}
	return s, nil
}
