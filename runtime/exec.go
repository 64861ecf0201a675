package runtime

import (
	"fmt"
	"math"

	"github.com/dlc-lang/dlc/ir"
)

// Program is a Func prepared for repeated execution: its live ops in order, each with its
// kernel and the value slots of its operands, the slots each step is the last user of, and
// the buffer slot its result is written to (see plan.go). A Program reuses its buffers
// between runs, so it is not safe for concurrent use: compile one per goroutine.
type Program struct {
	// Seed is the seed of the program's draw ops (see Ctx); Runs counts the runs so far.
	// A trainer sets Seed once and, to resume a run, Runs.
	Seed uint64
	Runs uint64

	// CheckFinite makes Run fail at the first op whose result holds a NaN or an infinity,
	// naming the op and its source line. It is off by default: it reads every value again.
	CheckFinite bool

	f       *ir.Func
	steps   []step
	inputs  []inputSlot
	outputs []ir.Output
	outIdx  []int

	ctx     Ctx
	vals    []*Tensor   // one slot per op of f, nil outside a run
	bufs    []*Tensor   // the planned result buffers, kept from run to run
	classes []sizeClass // by buffer: the size of its largest result
	res     map[string]*Tensor
	args    []*Tensor
	want    []ir.Shape // declared input shapes, for binding
	got     [][]int
	pair    pairState
}

type step struct {
	op     *ir.Op
	slot   int
	kernel Kernel  // nil for param and const
	konst  *Tensor // the value of a const op
	param  string  // the name of a param op
	args   []int
	free   []int // slots whose last use is this step
	buf    int   // the buffer slot of the result, -1 when the kernel allocates none
	zero   bool  // the kernel needs its buffer zeroed
	view   bool  // the kernel returns a view of args[0]
	// inPlace: buf is args[0]'s buffer, whose value dies here, so the result may share
	// its storage (see inPlaceKinds).
	inPlace bool
	// pair: this step and the next are independent and run together (see pairs.go).
	pair bool
	hdr  *Tensor // a view step's result header, kept from run to run
}

type inputSlot struct {
	name string
	slot int
}

// Compile prepares f for execution. It fails when an op has no kernel or an operand is not
// defined before its use. Ops that no output depends on are left out.
func Compile(f *ir.Func) (*Program, error) {
	slot := make(map[*ir.Op]int, len(f.Ops))
	for i, o := range f.Ops {
		for j, a := range o.Args {
			if _, ok := slot[a]; !ok {
				return nil, opErrorf(o, "operand %d is not defined before its use", j)
			}
		}
		slot[o] = i
	}
	p := &Program{f: f, outputs: f.Outputs, ctx: Ctx{Env: map[string]int{}}, vals: make([]*Tensor, len(f.Ops))}
	live := make([]bool, len(f.Ops))
	isOutput := make([]bool, len(f.Ops))
	for _, out := range f.Outputs {
		i, ok := slot[out.Value]
		if !ok {
			return nil, fmt.Errorf("runtime: output %s is not an op of func %s", out.Name, f.Name)
		}
		p.outIdx = append(p.outIdx, i)
		live[i], isOutput[i] = true, true
	}
	for i := len(f.Ops) - 1; i >= 0; i-- {
		if live[i] {
			for _, a := range f.Ops[i].Args {
				live[slot[a]] = true
			}
		}
	}
	for _, in := range f.Inputs {
		i, ok := slot[in]
		if !ok || in.Kind != "input" {
			return nil, fmt.Errorf("runtime: input %s is not an input op of func %s", in.Ref(), f.Name)
		}
		p.inputs = append(p.inputs, inputSlot{name: sourceName(in), slot: i})
		p.want = append(p.want, in.Type.Shape)
	}
	p.got = make([][]int, len(p.inputs))

	if err := p.addSteps(live, slot); err != nil {
		return nil, err
	}
	p.schedulePairs(len(f.Ops))
	lastUse := make([]int, len(f.Ops))
	for si, s := range p.steps {
		for _, a := range s.args {
			lastUse[a] = si
		}
	}
	for i := range f.Ops {
		if live[i] && !isOutput[i] && len(p.steps) > 0 {
			p.steps[lastUse[i]].free = append(p.steps[lastUse[i]].free, i)
		}
	}
	p.planBuffers(lastUse, isOutput)
	p.pair.tasks = []func(){func() { p.runPairStep(0) }, func() { p.runPairStep(1) }}
	return p, nil
}

// addSteps makes a step of every live op but the inputs, in f's order.
func (p *Program) addSteps(live []bool, slot map[*ir.Op]int) error {
	for i, o := range p.f.Ops {
		if !live[i] || o.Kind == "input" {
			continue
		}
		s := step{op: o, slot: i}
		switch o.Kind {
		case "param", "state":
			s.param = sourceName(o)
		case "const":
			s.konst = Scalar(float32(o.Attrs.Float("value", 0)))
		default:
			k, ok := kernels[o.Kind]
			if !ok {
				return opErrorf(o, "no kernel for op %s", o.Kind)
			}
			s.kernel = k
		}
		for _, a := range o.Args {
			s.args = append(s.args, slot[a])
		}
		p.steps = append(p.steps, s)
		if len(o.Args) > cap(p.args) {
			p.args = make([]*Tensor, 0, len(o.Args))
			p.pair.args = make([]*Tensor, 0, len(o.Args))
		}
	}
	return nil
}

// sourceName is the key an input or param is supplied under.
func sourceName(o *ir.Op) string {
	if n := o.Attrs.String("name"); n != "" {
		return n
	}
	return o.Name
}

// Run evaluates the program. inputs are keyed by input name and bind the symbolic
// dimensions; params are keyed by the param ops' "name" attribute. Neither is written. The
// result maps each output's name to its value, which may be one of the given tensors when
// an output is an input or a param, or share storage with one (reshape).
//
// The result map and the tensors in it are valid until the program runs again: the next
// Run writes its results into the same buffers and the same map. A caller that keeps an
// output longer, or feeds it back as an input or param of the next Run, clones it first.
func (p *Program) Run(inputs, params map[string]*Tensor) (map[string]*Tensor, error) {
	defer clear(p.vals)
	p.Runs++
	p.ctx.Seed, p.ctx.Run = p.Seed, p.Runs
	env := p.ctx.Env
	clear(env)
	for i, in := range p.inputs {
		t, ok := inputs[in.name]
		if !ok {
			return nil, fmt.Errorf("runtime: missing input %s", in.name)
		}
		if err := checkInput(in.name, p.f.Ops[in.slot].Type.DType, t); err != nil {
			return nil, err
		}
		p.got[i] = t.Shape
	}
	BindSymbols(env, p.want, p.got)
	for i, in := range p.inputs {
		if !matchShape(env, p.want[i], p.got[i]) {
			return nil, shapeMismatch("input "+in.name, env, p.want[i], p.got[i])
		}
		p.vals[in.slot] = inputs[in.name]
	}
	clear(p.got)
	// The IR bounds every shape's constant factor; the batch size multiplies it here, and a
	// count that overflows must be an error, not a wrapped length (or a makeslice panic).
	for si := range p.steps {
		if err := checkElements(p.steps[si].op, env); err != nil {
			return nil, err
		}
	}

	for si := 0; si < len(p.steps); si++ {
		s := &p.steps[si]
		if s.pair {
			if err := p.evalPair(s, &p.steps[si+1]); err != nil {
				return nil, err
			}
			si++
			continue
		}
		out, err := p.eval(s, params)
		if err != nil {
			return nil, err
		}
		p.vals[s.slot] = out
		for _, j := range s.free {
			p.vals[j] = nil
		}
	}
	if p.res == nil {
		p.res = make(map[string]*Tensor, len(p.outputs))
	}
	res := p.res
	clear(res)
	for i, out := range p.outputs {
		v := p.vals[p.outIdx[i]]
		if out.Value.Kind == "const" { // the program's own constant: the caller may write it
			v = v.Clone()
		}
		res[out.Name] = v
	}
	return res, nil
}

// eval computes the value of one step.
func (p *Program) eval(s *step, params map[string]*Tensor) (*Tensor, error) {
	op := s.op
	switch {
	case s.konst != nil:
		return s.konst, nil
	case s.kernel == nil:
		t, ok := params[s.param]
		if !ok {
			return nil, fmt.Errorf("runtime: missing param %s", s.param)
		}
		if !t.Valid() {
			return nil, fmt.Errorf("runtime: param %s: %s", s.param, invalidTensor(t))
		}
		if !matchShape(p.ctx.Env, op.Type.Shape, t.Shape) {
			return nil, shapeMismatch("param "+s.param, p.ctx.Env, op.Type.Shape, t.Shape)
		}
		return t, nil
	}
	args := p.args[:0]
	for _, a := range s.args {
		args = append(args, p.vals[a])
	}
	if p.CheckFinite && op.Kind == "fused_elementwise" {
		// Before the kernel, which may write over its first operand: the culprit's line.
		if err := checkElemFinite(op, args); err != nil {
			clear(args)
			return nil, err
		}
	}
	if s.buf >= 0 {
		p.ctx.next, p.ctx.zero = p.bufs[s.buf], s.zero
	}
	if s.view {
		if s.hdr == nil {
			s.hdr = &Tensor{}
		}
		p.ctx.hdr = s.hdr
	}
	out, err := s.kernel(&p.ctx, op, args)
	p.ctx.next, p.ctx.hdr = nil, nil
	return p.finish(s, out, args, err)
}

// finish checks a kernel's result (its storage, its shape and, under CheckFinite, its
// values) and clears the operand scratch args.
func (p *Program) finish(s *step, out *Tensor, args []*Tensor, err error) (*Tensor, error) {
	op := s.op
	if err == nil {
		err = checkStorage(s, out, args)
	}
	clear(args)
	if err != nil {
		return nil, err
	}
	if !matchShape(p.ctx.Env, op.Type.Shape, out.Shape) {
		return nil, opErrorf(op, "got result %s, want %v", ShapeString(out.Shape), op.Type.Shape)
	}
	if p.CheckFinite {
		for _, v := range out.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, opErrorf(op, "result %s holds %v", ShapeString(out.Shape), v)
			}
		}
	}
	return out, nil
}

func invalidTensor(t *Tensor) string {
	if t == nil {
		return "nil tensor"
	}
	if t.IsI32() {
		return "got an i32 tensor, want f32"
	}
	return fmt.Sprintf("shape %s does not hold %d elements", ShapeString(t.Shape), len(t.Data))
}

// checkStorage fails when a kernel's result shares storage with an operand and the kernel
// is not declared a view, or is declared one and does not: the buffer plan relies on both.
func checkStorage(s *step, out *Tensor, args []*Tensor) error {
	if s.view {
		if len(out.Data) > 0 && !sameStorage(out.Data, args[0].Data) {
			return opErrorf(s.op, "kernel is declared a view but returned new storage")
		}
		return nil
	}
	for j, a := range args {
		if s.inPlace && s.args[j] == s.args[0] {
			continue
		}
		if sameStorage(out.Data, a.Data) {
			return opErrorf(s.op, "kernel returned the storage of operand %d but is not declared a view", j)
		}
	}
	return nil
}
