package runtime

import (
	"fmt"
	"math"

	"github.com/dlc-lang/dlc/ir"
)

// MemoryEstimate is what a training run holds in memory, in bytes, before its data: the
// parameters, the training state (batch norm statistics), the optimisers' state and the
// peak of live intermediate values over the train spec's functions at its batch size.
type MemoryEstimate struct {
	Batch                       int
	Params, State, Optim, Activ int64
	ActivFunc                   string // the function whose peak Activ is
}

// Total is the sum of the parts.
func (e MemoryEstimate) Total() int64 { return e.Params + e.State + e.Optim + e.Activ }

// EstimateMemory estimates the memory of training m (which must have a train spec). The
// activation peak follows the runtime's own schedule: ops run in order, and a value is
// freed after its last use unless it is an output (Compile's liveness), so it is close to
// what Program.Run holds; views (reshape) are counted as copies, so it errs high.
func EstimateMemory(m *ir.Module) (MemoryEstimate, error) {
	if m.Train == nil {
		return MemoryEstimate{}, fmt.Errorf("runtime: the module has no train block")
	}
	e := MemoryEstimate{Batch: m.Train.Batch}
	for _, o := range m.Params() {
		n, err := opBytes(o, nil)
		if err != nil {
			return e, err
		}
		e.Params += n
	}
	for _, o := range m.States() {
		n, err := opBytes(o, nil)
		if err != nil {
			return e, err
		}
		e.State += n
	}
	// Each phase's optimiser keeps its slots for the parameters that phase trains.
	sizes := map[string]int64{}
	for _, o := range m.Params() {
		sizes[o.Attrs.String("name")], _ = opBytes(o, nil)
	}
	for _, ph := range m.Train.Phases {
		slots := int64(0)
		switch ph.Optimizer.Name {
		case "adam", "adamw":
			slots = 2 // m and v (the step count is one value)
		case "sgd":
			if ph.Optimizer.Args["momentum"] != 0 {
				slots = 1
			}
		}
		for _, p := range ph.Params {
			e.Optim += slots * sizes[p]
		}
	}
	fns := []string{m.Train.Eval}
	for _, ph := range m.Train.Phases {
		fns = append(fns, ph.Step)
	}
	for _, name := range fns {
		f := m.Func(name)
		if f == nil {
			continue
		}
		peak, err := peakBytes(f, m.Train.Batch)
		if err != nil {
			return e, err
		}
		if peak > e.Activ {
			e.Activ, e.ActivFunc = peak, name
		}
	}
	return e, nil
}

// peakBytes is the largest total of values live at once while f runs on a batch.
func peakBytes(f *ir.Func, batch int) (int64, error) {
	env := map[string]int{}
	for _, in := range f.Inputs {
		if s := in.Type.Shape; len(s) > 0 && len(s[0].Syms) == 1 && s[0].Coef == 1 {
			env[s[0].Syms[0]] = batch
		}
	}
	index := make(map[*ir.Op]int, len(f.Ops))
	for i, o := range f.Ops {
		index[o] = i
	}
	last := make([]int, len(f.Ops))
	for i, o := range f.Ops {
		last[i] = i
		for _, a := range o.Args {
			if j, ok := index[a]; ok {
				last[j] = i
			}
		}
	}
	for _, out := range f.Outputs {
		if j, ok := index[out.Value]; ok {
			last[j] = len(f.Ops)
		}
	}
	freeAt := make([][]int, len(f.Ops))
	for j, l := range last {
		if l < len(f.Ops) {
			freeAt[l] = append(freeAt[l], j)
		}
	}
	size := make([]int64, len(f.Ops))
	var live, peak int64
	for i, o := range f.Ops {
		if o.Kind != "param" && o.Kind != "state" { // counted once, as parameters
			n, err := opBytes(o, env)
			if err != nil {
				return 0, err
			}
			size[i] = n
			live += n
			peak = max(peak, live)
		}
		for _, j := range freeAt[i] {
			live -= size[j]
		}
	}
	return peak, nil
}

// opBytes is the size of o's float32 result with the symbols bound by env, refusing one
// that overflows (see checkElements).
func opBytes(o *ir.Op, env map[string]int) (int64, error) {
	n := int64(1)
	for _, d := range o.Type.Shape {
		v := int64(d.Coef)
		for _, s := range d.Syms {
			b, ok := env[s]
			if !ok {
				return 0, fmt.Errorf("%s: %s: dimension %s is not bound at the train block's batch size", o.Pos, o.Kind, s)
			}
			if b > 0 && v > ir.MaxElements/int64(b) {
				return 0, opErrorf(o, "result %v has more than 2^53 elements", o.Type.Shape)
			}
			v *= int64(b)
		}
		if v > 0 && n > ir.MaxElements/v {
			return 0, opErrorf(o, "result %v has more than 2^53 elements", o.Type.Shape)
		}
		n *= v
	}
	return 4 * n, nil
}

// FormatBytes writes n in binary units: 512 B, 3.1 KiB, 12.0 MiB, 1.50 GiB.
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	exp := int(math.Log(float64(n)) / math.Log(unit))
	exp = min(exp, 6)
	v := float64(n) / math.Pow(unit, float64(exp))
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[exp-1])
}
