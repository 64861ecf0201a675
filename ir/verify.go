package ir

import (
	"fmt"
	"math"
	"strconv"
)

// The verifier checks the invariants every pass must keep, so that a pass that breaks the
// graph is caught where it runs rather than in a kernel later. It is run by the reader on
// everything it parses, and by the tests after every pass, so it makes one linear sweep per
// function with a map from op to index, and reports the first problem only.

// Error is an error located in a source file: a position in IR text for the reader, or the
// source position of the offending op for the verifier (which may be the zero Pos).
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string {
	if e.Pos == (Pos{}) {
		return e.Msg
	}
	return formatPos(e.Pos) + ": " + e.Msg
}

// verifyError is the verifier's finding before it is given a position: the reader locates
// it at the line that defined op (or fn, or the train section), Verify at op's source Pos.
type verifyError struct {
	fn    *Func
	op    *Op
	train bool
	msg   string
}

// Verify checks every function of m and its train spec; see Func.Verify. It also checks
// that function names are unique, that no op is shared between functions, that a parameter
// has one type in every function that uses it, and that the train spec's step and eval
// functions exist. The error is an *Error at the source position of the offending op.
func Verify(m *Module) error {
	if e := verifyModule(m); e != nil {
		return e.located()
	}
	return nil
}

// Verify checks f's invariants: ops are non-nil with unique IDs and refs, every kind is in
// the op table, every operand is an op of f defined before its use, arity and required
// attributes match the op's definition and attributes have allowed types, every recorded
// type equals what the op's shape rule gives (sources: input ops are f's inputs, param
// types are given), and inputs and outputs are ops of f.
func (f *Func) Verify() error {
	if e := verifyFunc(f, nil); e != nil {
		return e.located()
	}
	return nil
}

func (e *verifyError) located() *Error {
	msg := e.msg
	var pos Pos
	if e.op != nil {
		msg = opLabel(e.op) + ": " + msg
		pos = e.op.Pos
	}
	switch {
	case e.train:
		msg = "train: " + msg
	case e.fn != nil:
		msg = "func " + quoteName(e.fn.Name) + ": " + msg
	}
	return &Error{Pos: pos, Msg: msg}
}

// opLabel names an op in messages: op %7 (matmul).
func opLabel(o *Op) string { return "op " + opRef(o) + " (" + o.Kind + ")" }

func verifyModule(m *Module) *verifyError {
	if m == nil {
		return &verifyError{msg: "nil module"}
	}
	names := make(map[string]bool, len(m.Funcs))
	params := map[string]*Op{}
	paramFunc := map[string]*Func{}
	for i, f := range m.Funcs {
		if f == nil {
			return &verifyError{msg: fmt.Sprintf("func %d is nil", i)}
		}
		if names[f.Name] {
			return &verifyError{fn: f, msg: "duplicate func name"}
		}
		names[f.Name] = true
		if e := verifyFunc(f, m); e != nil {
			return e
		}
		for _, o := range f.Ops {
			if !o.IsVar() {
				continue
			}
			name := o.Attrs.String("name")
			if p, ok := params[name]; ok && !typeEqual(p.Type, o.Type) {
				return &verifyError{fn: f, op: o, msg: fmt.Sprintf("param %q has type %s, but %s in func %s",
					name, formatType(o.Type), formatType(p.Type), quoteName(paramFunc[name].Name))}
			} else if !ok {
				params[name], paramFunc[name] = o, f
			}
		}
	}
	if t := m.Train; t != nil {
		if len(t.Phases) == 0 {
			return &verifyError{train: true, msg: "no phase"}
		}
		for _, ph := range t.Phases {
			if e := verifyPhase(m, ph); e != "" {
				return &verifyError{train: true, msg: fmt.Sprintf("phase %q: %s", ph.Name, e)}
			}
		}
		if t.Eval != "" && m.Func(t.Eval) == nil {
			return &verifyError{train: true, msg: fmt.Sprintf("eval func %s is not in the module", quoteName(t.Eval))}
		}
		if e := verifyContract(m, t); e != "" {
			return &verifyError{train: true, msg: e}
		}
	}
	return nil
}

// verifyContract checks the typed fields of the train spec against the module: every input
// of a step or the evaluation is fed, every role's function exists, a sample role has a
// prior to draw from, and only a graph task has graph settings.
func verifyContract(m *Module, t *TrainSpec) string {
	if int(t.Task) < 0 || int(t.Task) >= len(taskNames) {
		return fmt.Sprintf("unknown task %d", t.Task)
	}
	fns := []string{t.Eval}
	for _, ph := range t.Phases {
		fns = append(fns, ph.Step)
	}
	for _, fn := range fns {
		f := m.Func(fn)
		if f == nil {
			continue
		}
		for _, in := range f.Inputs {
			if _, ok := t.Feed(in.Attrs.String("name")); !ok {
				return fmt.Sprintf("input %s of func %s has no feed", in.Attrs.String("name"), quoteName(fn))
			}
		}
	}
	for _, r := range t.Roles {
		if m.Func(r.Func) == nil {
			return fmt.Sprintf("role %s: func %s is not in the module", r.Role, quoteName(r.Func))
		}
	}
	if _, ok := t.Role(RoleSample); ok != (t.Noise != NoiseNone) {
		return fmt.Sprintf("noise %s with%s a sample role: a sample is drawn from a prior, and only a sample role has one", t.Noise, map[bool]string{true: "", false: "out"}[ok])
	}
	g := t.Graph
	switch {
	case !t.Task.IsGraph() && (g.Undirected || g.TestEdges != 0 || g.Labelled != nil):
		return "graph settings on a samples task"
	case t.Task == TaskNode && g.Labelled == nil:
		return "a node task without labelled nodes"
	case t.Task != TaskNode && g.Labelled != nil:
		return fmt.Sprintf("labelled nodes on a %s task", t.Task)
	case t.Task.HoldsOutEdges() && (g.TestEdges <= 0 || g.TestEdges >= 1):
		return fmt.Sprintf("test_edges %s, want a fraction in (0, 1)", formatFloat(g.TestEdges))
	case !t.Task.HoldsOutEdges() && g.TestEdges != 0:
		return fmt.Sprintf("test_edges on a %s task", t.Task)
	case g.Neighbors != nil && t.Task != TaskNode:
		return fmt.Sprintf("neighbors on a %s task", t.Task)
	case g.Neighbors != nil && len(g.Neighbors) == 0:
		return "neighbors [], want a fan-out per layer"
	}
	for _, n := range g.Neighbors {
		if n < 1 {
			return fmt.Sprintf("neighbors %v, want fan-outs of at least 1", g.Neighbors)
		}
	}
	return verifyTraining(t)
}

// verifyTraining checks the settings of the loop itself: the validation, the early stop,
// and each phase's schedule and clipping. The schedules' names and arguments are
// runtime/train's to check against ir/schema, as the optimisers' are.
func verifyTraining(t *TrainSpec) string {
	if v := t.Validation; v != nil && (v.Data == nil) == (v.Fraction <= 0 || v.Fraction >= 1) {
		return fmt.Sprintf("validation fraction %s, want one in (0, 1) or a data source", formatFloat(v.Fraction))
	}
	if e := verifyMonitor(t.EarlyStop, 1); e != "" {
		return "early_stopping: " + e
	}
	for _, ph := range t.Phases {
		if sc := ph.Schedule; sc != nil {
			if sc.PerStep && sc.Name == "plateau" {
				return fmt.Sprintf("phase %q: schedule plateau per_step: a plateau watches an epoch's metric, so it steps per epoch", ph.Name)
			}
			if sc.PerStep && sc.Name == "cosine" && !(sc.Args["epochs"] > 0) {
				return fmt.Sprintf("phase %q: schedule cosine per_step: epochs %s, want the cosine's length in steps (> 0)", ph.Name, formatFloat(sc.Args["epochs"]))
			}
			if (sc.Name == "plateau") != (sc.Monitor != nil) {
				return fmt.Sprintf("phase %q: schedule %s: only a plateau schedule has a monitor", ph.Name, sc.Name)
			}
			if e := verifyMonitor(sc.Monitor, 0); e != "" {
				return fmt.Sprintf("phase %q: schedule %s: %s", ph.Name, sc.Name, e)
			}
		}
		if c := ph.Clip; c != nil && (c.Kind != "norm" && c.Kind != "value" || !(c.Max > 0) || math.IsInf(c.Max, 0)) {
			return fmt.Sprintf("phase %q: clip %s %s, want norm or value and a finite max > 0", ph.Name, c.Kind, formatFloat(c.Max))
		}
	}
	return ""
}

// verifyMonitor checks a monitor's fields; nil is valid.
func verifyMonitor(m *Monitor, least int) string {
	switch {
	case m == nil:
		return ""
	case m.Metric == "":
		return "no metric to monitor"
	case m.Patience < least:
		return fmt.Sprintf("patience %d, want at least %d", m.Patience, least)
	case m.Mode != "min" && m.Mode != "max":
		return fmt.Sprintf("mode %s, want min or max", m.Mode)
	case !(m.MinDelta >= 0) || math.IsInf(m.MinDelta, 0):
		return fmt.Sprintf("min_delta %s, want a finite number >= 0", formatFloat(m.MinDelta))
	}
	return ""
}

// verifyPhase checks that a phase's step function exists, that its repeat count is
// positive and that it computes a loss and exactly one gradient per parameter it updates.
func verifyPhase(m *Module, ph Phase) string {
	f := m.Func(ph.Step)
	if f == nil {
		return fmt.Sprintf("step func %s is not in the module", quoteName(ph.Step))
	}
	if ph.Repeat < 1 {
		return fmt.Sprintf("repeat %d, want at least 1", ph.Repeat)
	}
	if f.Output("loss") == nil {
		return fmt.Sprintf("step func %s has no loss output", quoteName(ph.Step))
	}
	want := map[string]bool{}
	for _, n := range ph.Params {
		if want[n] {
			return fmt.Sprintf("parameter %q listed twice", n)
		}
		want[n] = true
		if f.Output(OutputName(OutGrad, n)) == nil {
			return fmt.Sprintf("step func %s has no output grad:%s", quoteName(ph.Step), n)
		}
	}
	for _, o := range f.Outputs {
		if k, n := o.Kind(); k == OutGrad && !want[n] {
			return fmt.Sprintf("step func %s outputs grad:%s, which the phase does not list", quoteName(ph.Step), n)
		}
	}
	return ""
}

// verifyFunc checks f; m, when known, lets it say which function a stray operand is from.
func verifyFunc(f *Func, m *Module) *verifyError {
	if f == nil {
		return &verifyError{msg: "nil func"}
	}
	fail := func(o *Op, format string, args ...any) *verifyError {
		return &verifyError{fn: f, op: o, msg: fmt.Sprintf(format, args...)}
	}
	if f.Name == "" {
		return fail(nil, "func has no name")
	}
	// First sweep: identity. index also lets the second sweep tell a later op from a stray one.
	index := make(map[*Op]int, len(f.Ops))
	ids := make(map[int]bool, len(f.Ops))
	refs := make(map[string]bool, len(f.Ops))
	for i, o := range f.Ops {
		if o == nil {
			return fail(nil, "op at index %d is nil", i)
		}
		if _, dup := index[o]; dup {
			return fail(o, "appears twice in the op list")
		}
		index[o] = i
		if o.ID < 0 {
			return fail(o, "negative ID %d", o.ID)
		}
		if ids[o.ID] {
			return fail(o, "duplicate ID %d", o.ID)
		}
		ids[o.ID] = true
		if refs[o.Ref()] {
			return fail(o, "duplicate ref %%%s", o.Ref())
		}
		refs[o.Ref()] = true
	}
	isInput := make(map[*Op]bool, len(f.Inputs))
	for _, in := range f.Inputs {
		switch _, ok := index[in]; {
		case in == nil:
			return fail(nil, "nil input")
		case !ok:
			return fail(nil, "input %s is not an op of the func", opRef(in))
		case in.Kind != "input":
			return fail(in, "listed as an input, but is not an input op")
		case isInput[in]:
			return fail(in, "listed twice as an input")
		}
		isInput[in] = true
	}
	for i, o := range f.Ops {
		def, ok := Lookup(o.Kind)
		if !ok {
			return fail(o, "unknown op kind %q", o.Kind)
		}
		if def.Arity >= 0 && len(o.Args) != def.Arity || def.Arity < 0 && len(o.Args) == 0 {
			return fail(o, "got %d operands, want %s", len(o.Args), arityString(def.Arity))
		}
		for j, a := range o.Args {
			if a == nil {
				return fail(o, "operand %d is nil", j)
			}
			k, ok := index[a]
			if !ok {
				return fail(o, "operand %s is not an op of this func%s", opRef(a), owner(m, f, a))
			}
			if k >= i {
				return fail(o, "operand %s is used before its definition", opRef(a))
			}
		}
		if e := verifyAttrs(o, def); e != "" {
			return fail(o, "%s", e)
		}
		if e := checkType(o.Type); e != "" {
			return fail(o, "type %s: %s", formatType(o.Type), e)
		}
		switch o.Kind {
		case "input":
			if !isInput[o] {
				return fail(o, "is not one of the func's inputs")
			}
		case "param", "state":
			if o.Type.DType != DTypeF32 {
				return fail(o, "type %s, want f32: only inputs may be i32", formatType(o.Type))
			}
		default:
			t, err := typeOf(def, o.Args, o.Attrs)
			if err != nil {
				return fail(o, "%v", err)
			}
			if !typeEqual(t, o.Type) {
				return fail(o, "recorded type %s, shape rule gives %s", formatType(o.Type), formatType(t))
			}
		}
	}
	outs := make(map[string]bool, len(f.Outputs))
	for _, out := range f.Outputs {
		if out.Name == "" {
			return fail(nil, "output has no name")
		}
		if outs[out.Name] {
			return fail(nil, "duplicate output %s", quoteName(out.Name))
		}
		outs[out.Name] = true
		if out.Value == nil {
			return fail(nil, "output %s is nil", quoteName(out.Name))
		}
		if _, ok := index[out.Value]; !ok {
			return fail(nil, "output %s: %s is not an op of this func%s", quoteName(out.Name), opRef(out.Value), owner(m, f, out.Value))
		}
	}
	return nil
}

func arityString(n int) string {
	if n < 0 {
		return "at least 1"
	}
	return strconv.Itoa(n)
}

// owner says which other function of m holds o, for the message about a stray operand.
func owner(m *Module, self *Func, o *Op) string {
	if m == nil {
		return ""
	}
	for _, g := range m.Funcs {
		if g == nil || g == self {
			continue
		}
		for _, p := range g.Ops {
			if p == o {
				return " (it is in func " + quoteName(g.Name) + ")"
			}
		}
	}
	return ""
}

// verifyAttrs checks o's attributes against its op's declaration (see OpDef.CheckAttrs)
// and that shape attributes are well formed; it returns the problem or "".
func verifyAttrs(o *Op, def *OpDef) string {
	for _, k := range o.Attrs.Keys() {
		if err := checkAttr(k, o.Attrs[k]); err != nil {
			return err.Error()
		}
	}
	if err := def.CheckAttrs(o.Attrs); err != nil {
		return err.Error()
	}
	for _, k := range o.Attrs.Keys() {
		if s, ok := o.Attrs[k].(Shape); ok {
			if e := checkShape(s); e != "" {
				return fmt.Sprintf("attribute %s: %s", k, e)
			}
		}
	}
	return ""
}

// checkType checks that t is f32 or i32 with well-formed dimensions. Which ops may have an
// i32 type (inputs only) is checked by the shape rules and by verifyFunc.
func checkType(t Type) string {
	if t.DType != DTypeF32 && t.DType != DTypeI32 {
		return fmt.Sprintf("dtype %s, want f32 or i32", quoteName(t.DType))
	}
	if e := checkShape(t.Shape); e != "" {
		return e
	}
	if _, err := t.Shape.Elements(); err != nil {
		return err.Error()
	}
	return ""
}

// checkShape checks that every dimension is a monomial in normal form: a positive
// coefficient and sorted symbols that are identifiers, so that Dim.Equal is equality.
func checkShape(s Shape) string {
	for _, d := range s {
		if d.Coef <= 0 {
			return fmt.Sprintf("dimension %s has coefficient %d, want positive", formatDim(d), d.Coef)
		}
		for i, sym := range d.Syms {
			if !isSymbol(sym) {
				return fmt.Sprintf("dimension %s: symbol %q is not an identifier", formatDim(d), sym)
			}
			if i > 0 && d.Syms[i-1] > sym {
				return fmt.Sprintf("dimension %s: symbols not sorted", formatDim(d))
			}
		}
	}
	return ""
}

// isSymbol reports whether s can name a dimension: a plain identifier.
func isSymbol(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func typeEqual(a, b Type) bool { return a.DType == b.DType && a.Shape.Equal(b.Shape) }

// typeOf runs def's shape rule. A shape rule that panics on a malformed graph is a bug in
// the rule, but the reader must never panic, so the panic becomes an error naming it.
func typeOf(def *OpDef, args []*Op, a Attrs) (t Type, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("shape rule of %s panicked: %v", def.Kind, r)
		}
	}()
	return def.TypeOf(args, a)
}
