package train

// Optimisers follow torch.optim step for step (SGD, Adam, AdamW without amsgrad), in float32
// with the per-step scalars (bias corrections, step size) computed once in float64, so a
// model trained here and in PyTorch from the same weights and gradients stays close.
//
// An optimiser owns its state (momentum buffers, Adam moments, step counts) keyed by the
// parameter name, and exposes it under stable names, "<opt>.<slot>/<param>", so a checkpoint
// can save and restore it:
//
//	sgd.momentum/Enc.dense0.weight
//	adam.m/Enc.dense0.weight   adam.v/Enc.dense0.weight   adam.step/Enc.dense0.weight
//
// AdamW uses the "adamw." prefix. The step count is kept per parameter, as torch does, so a
// parameter that gets no gradient in some step (frozen, or trained by another optimiser) still
// receives the right bias correction; it is a one-element tensor, exact up to 2^24 steps.

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/vecmath"
)

// Optimizer updates parameters in place from their gradients.
type Optimizer interface {
	// Step applies one update to every parameter named in grads, in sorted name order.
	// A gradient without a parameter, or of another shape, is an error, and then no
	// parameter is changed. A parameter without a gradient is left untouched.
	Step(params, grads map[string]*runtime.Tensor) error
	// Name is the optimiser's name as written in the source: "sgd", "adam", "adamw".
	Name() string
	// State returns the optimiser's state tensors under stable names. The tensors are the
	// optimiser's own, not copies.
	State() map[string]*runtime.Tensor
	// SetState replaces the optimiser's state with copies of the tensors in st, which must
	// use the names State returns. Shapes are checked against the parameters at the next Step.
	SetState(st map[string]*runtime.Tensor) error
	// LearningRate is the rate the next Step uses; SetLearningRate changes it (a
	// schedule does, at the start of each epoch).
	LearningRate() float64
	SetLearningRate(lr float64)
}

// optimizers are the update rules, under schema.Optimizers' names. NewOptimizer hands
// build every argument of the schema's entry, the written ones and the defaults, so the
// names, defaults and ranges live in the schema alone; TestOptimizersMatchSchema keeps
// the two lists equal and checks that each rule reads every argument.
var optimizers = map[string]func(a map[string]float64) Optimizer{
	"sgd": func(a map[string]float64) Optimizer {
		return &SGD{LR: a["lr"], Momentum: a["momentum"], Dampening: a["dampening"],
			Nesterov: a["nesterov"] == 1, WeightDecay: a["weight_decay"]}
	},
	"adam":  func(a map[string]float64) Optimizer { return newAdam(a, false) },
	"adamw": func(a map[string]float64) Optimizer { return newAdam(a, true) },
}

// newAdam is adam's rule (decoupled false) or adamw's (true).
func newAdam(a map[string]float64, decoupled bool) *Adam {
	return &Adam{LR: a["lr"], Beta1: a["beta1"], Beta2: a["beta2"], Eps: a["eps"],
		WeightDecay: a["weight_decay"], Decoupled: decoupled}
}

// NewOptimizer builds the optimiser spec names, one of schema.Optimizers (sgd, adam with
// L2 decay added to the gradient, adamw with decoupled decay: the table of spec.md §18.2),
// filling in the arguments spec leaves out with the schema's defaults, torch.optim's.
//
// The compiler has checked a compiled module's optimisers against the schema already; a
// module read from its text form has not, so an unknown optimiser or argument, or one the
// schema's range refuses, is an error here, naming the optimiser and the argument,
// prefixed with spec.Pos when it is valid.
func NewOptimizer(spec ir.OptSpec) (Optimizer, error) {
	fail := func(format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		if spec.Pos.IsValid() {
			msg = spec.Pos.String() + ": " + msg
		}
		return errors.New(msg)
	}
	call, ok := schema.Find(schema.Optimizers, spec.Name)
	if !ok {
		return nil, fail("unknown optimizer %q (want %s)", spec.Name, strings.Join(schema.CallNames(schema.Optimizers), ", "))
	}
	build, ok := optimizers[call.Name]
	if !ok {
		return nil, fail("optimizer %s has no update rule in runtime/train", call.Name)
	}
	vals, err := callArgs(call, spec.Args)
	if err != nil {
		return nil, fail("%s", err)
	}
	if call.Check != nil {
		if _, msg := call.Check(vals); msg != "" {
			return nil, fail("%s: %s", call.Name, msg)
		}
	}
	return build(vals), nil
}

// callArgs returns every argument of call: the given ones, each checked against the
// schema, and the defaults of the others. It goes through args in sorted order, so the
// first error reported does not depend on map order.
func callArgs(call *schema.Call, args map[string]float64) (map[string]float64, error) {
	vals := make(map[string]float64, len(call.Args))
	for i := range call.Args {
		a := &call.Args[i]
		if a.Default == "" {
			continue
		}
		v, err := argDefault(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", call.Name, err)
		}
		vals[a.Name] = v
	}
	for _, n := range slices.Sorted(maps.Keys(args)) {
		v := args[n]
		a, ok := call.Arg(n)
		if !ok {
			return nil, fmt.Errorf("%s: unknown argument %q (want %s)", call.Name, n, strings.Join(call.ArgNames(), ", "))
		}
		if !argFits(a, v) {
			return nil, errors.New(a.Problem(call.Name, strconv.FormatFloat(v, 'g', -1, 64)))
		}
		vals[n] = v
	}
	return vals, nil
}

// argDefault is a numeric argument's default as a number: true and false are 1 and 0.
func argDefault(a *schema.Setting) (float64, error) {
	switch {
	case a.Kind == schema.Bool && a.Default == "true":
		return 1, nil
	case a.Kind == schema.Bool && a.Default == "false":
		return 0, nil
	}
	v, err := strconv.ParseFloat(a.Default, 64)
	if err != nil {
		return 0, fmt.Errorf("default %s = %q is not a number", a.Name, a.Default)
	}
	return v, nil
}

// argFits reports whether v, a numeric argument as the IR stores it (true and false as 1
// and 0), is within the schema's range for a.
func argFits(a *schema.Setting, v float64) bool {
	if a.Kind == schema.Bool {
		return v == 0 || v == 1
	}
	return a.Range.Contains(v)
}

// checkOptimGrads reports a gradient with no parameter or of another shape, and returns the
// gradient names in sorted order.
// The names are sorted into *names, which is reused when it already holds exactly the
// gradients' names, so that a step with the same parameters as the last allocates nothing.
func checkOptimGrads(opt string, params, grads map[string]*runtime.Tensor, names *[]string) ([]string, error) {
	if !sameKeys(*names, grads) {
		*names = optimSortedNames(grads)
	}
	for _, n := range *names {
		p, g := params[n], grads[n]
		switch {
		case p == nil:
			return nil, fmt.Errorf("runtime: %s: gradient for unknown parameter %q", opt, n)
		case !p.Valid():
			return nil, fmt.Errorf("runtime: %s: parameter %q holds %d elements for shape %s", opt, n, len(p.Data), runtime.ShapeString(p.Shape))
		case g == nil || !slices.Equal(p.Shape, g.Shape) || len(g.Data) != len(p.Data):
			got := "nil"
			if g != nil {
				got = fmt.Sprintf("%s (%d elements)", runtime.ShapeString(g.Shape), len(g.Data))
			}
			return nil, fmt.Errorf("runtime: %s: gradient of %s: got %s, want %s", opt, n, got, runtime.ShapeString(p.Shape))
		}
	}
	return *names, nil
}

// sameKeys reports whether names, which has no duplicates, lists exactly m's keys.
func sameKeys(names []string, m map[string]*runtime.Tensor) bool {
	if len(names) != len(m) {
		return false
	}
	for _, n := range names {
		if _, ok := m[n]; !ok {
			return false
		}
	}
	return true
}

// optimSlot returns the state tensor of param p in slot, or a new zero one (fresh) that the
// caller stores once every slot has been checked. It fails when restored state has the wrong
// shape.
func optimSlot(opt string, slot map[string]*runtime.Tensor, slotName, name string, p *runtime.Tensor) (t *runtime.Tensor, fresh bool, err error) {
	t, ok := slot[name]
	if !ok {
		return runtime.NewTensor(p.Shape...), true, nil
	}
	if !slices.Equal(t.Shape, p.Shape) || len(t.Data) != len(p.Data) {
		return nil, false, fmt.Errorf("runtime: %s: state %s.%s/%s: got %s, want %s",
			opt, opt, slotName, name, runtime.ShapeString(t.Shape), runtime.ShapeString(p.Shape))
	}
	return t, false, nil
}

func optimSortedNames(m map[string]*runtime.Tensor) []string { return slices.Sorted(maps.Keys(m)) }

// splitOptimState splits "adam.m/Enc.w" into slot "m" and param "Enc.w", checking the prefix.
func splitOptimState(opt, key string, slots ...string) (slot, param string, err error) {
	head, param, ok := strings.Cut(key, "/")
	if ok && param != "" && strings.HasPrefix(head, opt+".") {
		slot = head[len(opt)+1:]
		for _, s := range slots {
			if s == slot {
				return slot, param, nil
			}
		}
	}
	want := make([]string, len(slots))
	for i, s := range slots {
		want[i] = opt + "." + s + "/PARAM"
	}
	return "", "", fmt.Errorf("runtime: %s: unknown state %q (want %s)", opt, key, strings.Join(want, ", "))
}

// SGD is stochastic gradient descent with optional momentum, dampening, Nesterov momentum
// and L2 weight decay, as torch.optim.SGD:
//
//	g = grad + weight_decay·p
//	b = g on the first step, else momentum·b + (1-dampening)·g
//	g = g + momentum·b if nesterov, else b          (only when momentum != 0)
//	p = p - lr·g
type SGD struct {
	LR, Momentum, Dampening, WeightDecay float64
	Nesterov                             bool

	buf map[string]*runtime.Tensor // momentum buffers

	names []string          // the last step's parameter names, sorted
	bufs  []*runtime.Tensor // the last step's momentum buffers, by name
	fresh []bool
}

func (o *SGD) Name() string { return "sgd" }

func (o *SGD) LearningRate() float64      { return o.LR }
func (o *SGD) SetLearningRate(lr float64) { o.LR = lr }

func (o *SGD) Step(params, grads map[string]*runtime.Tensor) error {
	names, err := checkOptimGrads("sgd", params, grads, &o.names)
	if err != nil {
		return err
	}
	// Fetch every buffer before touching a parameter, so a bad restored state changes nothing.
	o.bufs, o.fresh = runtime.Resize(o.bufs, len(names)), runtime.Resize(o.fresh, len(names))
	bufs, fresh := o.bufs, o.fresh
	clear(bufs)
	clear(fresh)
	if o.Momentum != 0 {
		for i, n := range names {
			if bufs[i], fresh[i], err = optimSlot("sgd", o.buf, "momentum", n, params[n]); err != nil {
				return err
			}
		}
		if o.buf == nil {
			o.buf = map[string]*runtime.Tensor{}
		}
		for i, n := range names {
			o.buf[n] = bufs[i]
		}
	}
	lr, mom, damp, wd := float32(o.LR), float32(o.Momentum), float32(1-o.Dampening), float32(o.WeightDecay)
	for i, n := range names {
		p, g := params[n].Data, grads[n].Data
		if o.Momentum == 0 {
			vecmath.SGD(p, g, lr, wd)
			continue
		}
		// torch starts the buffer at the first (decayed) gradient, undamped.
		vecmath.SGDMomentum(p, g, bufs[i].Data, lr, mom, damp, wd, o.Nesterov, fresh[i])
	}
	return nil
}

func (o *SGD) State() map[string]*runtime.Tensor {
	st := make(map[string]*runtime.Tensor, len(o.buf))
	for n, t := range o.buf {
		st["sgd.momentum/"+n] = t
	}
	return st
}

func (o *SGD) SetState(st map[string]*runtime.Tensor) error {
	buf := make(map[string]*runtime.Tensor, len(st))
	for _, k := range optimSortedNames(st) {
		t := st[k]
		if t == nil {
			return fmt.Errorf("runtime: sgd: state %q is nil", k)
		}
		_, n, err := splitOptimState("sgd", k, "momentum")
		if err != nil {
			return err
		}
		buf[n] = t.Clone()
	}
	o.buf = buf
	return nil
}

// Adam is torch.optim.Adam (Decoupled false: weight decay is L2 added to the gradient) or
// torch.optim.AdamW (Decoupled true: p is scaled by 1-lr·weight_decay before the update):
//
//	m = β1·m + (1-β1)·g
//	v = β2·v + (1-β2)·g²
//	p = p - lr/(1-β1^t) · m / (√v/√(1-β2^t) + eps)
type Adam struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
	Decoupled                          bool

	m, v, step map[string]*runtime.Tensor

	names []string    // the last step's parameter names, sorted
	slots []adamSlots // the last step's state tensors, by name
	sc    vecmath.AdamScalars
}

// adamSlots are one parameter's Adam state: the moments and the step count.
type adamSlots struct{ m, v, t *runtime.Tensor }

func (o *Adam) LearningRate() float64      { return o.LR }
func (o *Adam) SetLearningRate(lr float64) { o.LR = lr }

func (o *Adam) Name() string {
	if o.Decoupled {
		return "adamw"
	}
	return "adam"
}

func (o *Adam) Step(params, grads map[string]*runtime.Tensor) error {
	opt := o.Name()
	names, err := checkOptimGrads(opt, params, grads, &o.names)
	if err != nil {
		return err
	}
	// Fetch every slot before touching a parameter, so a bad restored state changes nothing.
	o.slots = runtime.Resize(o.slots, len(names))
	ss := o.slots
	clear(ss)
	for i, n := range names {
		s := &ss[i]
		if s.m, _, err = optimSlot(opt, o.m, "m", n, params[n]); err != nil {
			return err
		}
		if s.v, _, err = optimSlot(opt, o.v, "v", n, params[n]); err != nil {
			return err
		}
		if s.t = o.step[n]; s.t == nil {
			s.t = runtime.NewTensor(1)
		} else if len(s.t.Data) != 1 {
			return fmt.Errorf("runtime: %s: state %s.step/%s: got %s, want [1]", opt, opt, n, runtime.ShapeString(s.t.Shape))
		}
	}
	if o.m == nil {
		o.m, o.v, o.step = map[string]*runtime.Tensor{}, map[string]*runtime.Tensor{}, map[string]*runtime.Tensor{}
	}
	for i, n := range names {
		o.m[n], o.v[n], o.step[n] = ss[i].m, ss[i].v, ss[i].t
	}
	// The scalars live in o: the split update keeps a pointer to them, so a local would be
	// moved to the heap on every step.
	sc := &o.sc
	*sc = vecmath.AdamScalars{Decay: 1, WeightDecay: float32(o.WeightDecay),
		OneMinusB1: float32(1 - o.Beta1), B2: float32(o.Beta2), OneMinusB2: float32(1 - o.Beta2), Eps: float32(o.Eps)}
	if o.Decoupled {
		sc.Decay, sc.WeightDecay = float32(1-o.LR*o.WeightDecay), 0
	}
	for i, n := range names {
		s := ss[i]
		s.t.Data[0]++
		step := float64(s.t.Data[0])
		// The bias corrections and step size are per-step scalars: no Pow in the loop.
		sc.StepSize = float32(o.LR / (1 - math.Pow(o.Beta1, step)))
		sc.BC2Sqrt = float32(math.Sqrt(1 - math.Pow(o.Beta2, step)))
		vecmath.AdamUpdate(params[n].Data, grads[n].Data, s.m.Data, s.v.Data, sc)
	}
	return nil
}

func (o *Adam) State() map[string]*runtime.Tensor {
	opt := o.Name()
	st := make(map[string]*runtime.Tensor, 3*len(o.m))
	for n, t := range o.m {
		st[opt+".m/"+n] = t
	}
	for n, t := range o.v {
		st[opt+".v/"+n] = t
	}
	for n, t := range o.step {
		st[opt+".step/"+n] = t
	}
	return st
}

func (o *Adam) SetState(st map[string]*runtime.Tensor) error {
	opt := o.Name()
	m, v, step := map[string]*runtime.Tensor{}, map[string]*runtime.Tensor{}, map[string]*runtime.Tensor{}
	for _, k := range optimSortedNames(st) {
		t := st[k]
		if t == nil {
			return fmt.Errorf("runtime: %s: state %q is nil", opt, k)
		}
		slot, n, err := splitOptimState(opt, k, "m", "v", "step")
		if err != nil {
			return err
		}
		switch slot {
		case "m":
			m[n] = t.Clone()
		case "v":
			v[n] = t.Clone()
		case "step":
			if len(t.Data) != 1 || !(t.Data[0] >= 1) || t.Data[0] != float32(math.Trunc(float64(t.Data[0]))) {
				return fmt.Errorf("runtime: %s: state %q: got %v, want one whole step count >= 1", opt, k, t.Data)
			}
			step[n] = t.Clone()
		}
	}
	// A moment without its step count (or the reverse) would get the wrong bias correction.
	all := map[string]*runtime.Tensor{}
	for _, slot := range []map[string]*runtime.Tensor{m, v, step} {
		for n, t := range slot {
			all[n] = t
		}
	}
	for _, n := range optimSortedNames(all) {
		if m[n] == nil || v[n] == nil || step[n] == nil {
			return fmt.Errorf("runtime: %s: state for %q: want %s.m, %s.v and %s.step together", opt, n, opt, opt, opt)
		}
	}
	o.m, o.v, o.step = m, v, step
	return nil
}
