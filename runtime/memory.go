package runtime

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/dlc-lang/dlc/ir"
)

// MemoryEstimate is what a training run holds in memory, in bytes, before its data: the
// parameters, the training state (batch norm statistics), the optimisers' state and the
// result buffers of the programs a run keeps (Program.PlanBytes) at its batch size.
type MemoryEstimate struct {
	Batch                       int
	Params, State, Optim, Activ int64
	// Graph marks a graph model's estimate made before its data: its activations grow with
	// the graph's node and edge counts, which only the data says, so Activ is 0 here and
	// dlc run reports the whole estimate once the graph is loaded (GraphMemory).
	Graph bool
	// Dims are the graph sizes an estimate was made at (N, E, …), when it was.
	Dims map[string]int
	// Index is what the graph kernels' segment-index caches hold at those sizes (one per
	// program, see indexBytesAt); 0 for other models.
	Index int64
}

// DefaultEvalBatch is the batch size of evaluation on the test set, at which
// EstimateMemory counts the eval function when given 0 (train.RunOptions.EvalBatch 0).
const DefaultEvalBatch = 500

// Total is the sum of the parts.
func (e MemoryEstimate) Total() int64 { return e.Params + e.State + e.Optim + e.Activ + e.Index }

// EstimateMemory estimates the memory of training m (which must have a train spec). Each
// program a run uses (the phases' steps, the eval function and the family's extras) keeps
// its planned result buffers between runs, so the activations are the sum of their plans
// at the train block's batch size (the eval function's at evalBatch, 0 meaning
// DefaultEvalBatch, when there is a test set); kernels' scratch and the data set are not
// counted.
func EstimateMemory(m *ir.Module, evalBatch int) (MemoryEstimate, error) {
	if evalBatch <= 0 {
		evalBatch = DefaultEvalBatch
	}
	if m.Train == nil {
		return MemoryEstimate{}, fmt.Errorf("runtime: the module has no train block")
	}
	e := MemoryEstimate{Batch: m.Train.Batch}
	sizes := map[string]int64{}
	for _, o := range m.Params() {
		n, err := opBytes(o, nil)
		if err != nil {
			return e, err
		}
		e.Params += n
		sizes[o.Attrs.String("name")] = n
	}
	for _, o := range m.States() {
		n, err := opBytes(o, nil)
		if err != nil {
			return e, err
		}
		e.State += n
	}
	// Each phase's optimiser keeps its slots for the parameters that phase trains.
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
	if m.Train.Task.IsGraph() {
		e.Graph = true
		return e, nil
	}
	// Each program keeps the buffers of its largest run: the steps and extras run at the
	// train batch, the eval function on the test set at the evaluation batch.
	batchOf := map[string]int{}
	for _, ph := range m.Train.Phases {
		batchOf[ph.Step] = m.Train.Batch
	}
	// An autoencoder's encode, decode and score functions serve other commands (embed,
	// anomaly scoring), not a run; decode still counts when it is also the sample function.
	for _, r := range m.Train.Roles {
		if r.Role != ir.RoleEncode && r.Role != ir.RoleDecode && r.Role != ir.RoleScore {
			batchOf[r.Func] = max(batchOf[r.Func], m.Train.Batch)
		}
	}
	if m.Train.Test != nil {
		batchOf[m.Train.Eval] = max(batchOf[m.Train.Eval], evalBatch)
	}
	for _, name := range sortedIntKeys(batchOf) {
		f := m.Func(name)
		if f == nil {
			continue
		}
		n, err := planBytes(f, batchOf[name])
		if err != nil {
			return e, err
		}
		e.Activ += n
	}
	return e, nil
}

// FuncMemory is what one run of f at batch batch holds in its planned result buffers:
// a command that runs f over all its rows at once (dlc sample) checks it before it
// allocates them.
func FuncMemory(f *ir.Func, batch int) (int64, error) { return planBytes(f, batch) }

// planBytes is f's planned result buffers with its batch dimension bound to batch, after
// checking that no result's count overflows (which the plan's sum does not).
func planBytes(f *ir.Func, batch int) (int64, error) {
	env := map[string]int{}
	for _, in := range f.Inputs {
		if s := in.Type.Shape; len(s) > 0 && len(s[0].Syms) == 1 && s[0].Coef == 1 {
			env[s[0].Syms[0]] = batch
		}
	}
	return planBytesAt(f, env)
}

// GraphMemory completes a graph model's estimate (EstimateMemory leaves its activations
// out) with the plans of its programs and their segment-index caches at the sizes the data
// gives them: dims[fn] binds the symbols of function fn (N, E, L, G, P).
func GraphMemory(m *ir.Module, dims map[string]map[string]int) (MemoryEstimate, error) {
	e, err := EstimateMemory(m, 0)
	if err != nil {
		return e, err
	}
	e.Graph = false
	for _, fn := range slices.Sorted(maps.Keys(dims)) {
		f := m.Func(fn)
		if f == nil {
			continue
		}
		n, err := planBytesAt(f, dims[fn])
		if err != nil {
			return e, err
		}
		e.Activ += n
		if n, err = indexBytesAt(f, dims[fn]); err != nil {
			return e, err
		}
		e.Index += n
		if e.Dims == nil {
			e.Dims = dims[fn]
		}
	}
	return e, nil
}

// planBytesAt is f's planned result buffers with its symbols bound by env.
func planBytesAt(f *ir.Func, env map[string]int) (int64, error) {
	for _, o := range f.Ops {
		if _, err := opBytes(o, env); err != nil {
			return 0, err
		}
	}
	p, err := Compile(f)
	if err != nil {
		return 0, err
	}
	n, err := p.PlanBytes(env)
	return int64(n), err
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
