// Package ir is dlc's intermediate representation: a module of functions, each an SSA graph
// of tensor operations in topological order.
//
// Every op produces exactly one value, so an op and the value it defines are the same object
// (*Op). An op names its kind (a key of the op table: OpDef in opdef.go, the entries in the
// ops*.go files and passes_fuse_elementwise.go), its operands, its attributes,
// its result type and the source position it was lowered from. Types carry shapes whose
// dimensions may be symbolic (B, N): a monomial Coef·Sym1·Sym2…, which is enough to express
// the reshapes and flattens that models use ([B, C, H, W] → [B, C·H·W]) and to check them.
//
// The op table is the one place an op is defined: its arity, its shape rule, its gradient
// rule (written in other IR ops) and its fusion class. The compiler builds graphs through a
// Builder, which runs the shape rule of every op it emits; the runtime executes a Func by
// looking up a kernel of the same name. Parameters are ops of kind "param" whose "name"
// attribute is the stable key (Enc.dense0.weight) under which the runtime stores the tensor;
// the same name in two functions is the same parameter.
package ir

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is the source position an op came from. The zero Pos is "no position".
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return ""
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// IsValid reports whether p names a source line.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Dim is one dimension of a shape: Coef times the product of the symbols in Syms (sorted,
// possibly repeated). A constant dimension has no symbols. Dim{Coef: 0} is never valid.
type Dim struct {
	Coef int
	Syms []string
}

// Const returns the constant dimension n.
func Const(n int) Dim { return Dim{Coef: n} }

// Sym returns the symbolic dimension named s.
func Sym(s string) Dim { return Dim{Coef: 1, Syms: []string{s}} }

// IsConst reports whether d has no symbols.
func (d Dim) IsConst() bool { return len(d.Syms) == 0 }

// Mul returns the product of two dimensions.
func (d Dim) Mul(e Dim) Dim {
	syms := append(append([]string{}, d.Syms...), e.Syms...)
	sort.Strings(syms)
	if len(syms) == 0 {
		syms = nil
	}
	return Dim{Coef: d.Coef * e.Coef, Syms: syms}
}

// Equal reports whether two dimensions are the same monomial.
func (d Dim) Equal(e Dim) bool {
	if d.Coef != e.Coef || len(d.Syms) != len(e.Syms) {
		return false
	}
	for i := range d.Syms {
		if d.Syms[i] != e.Syms[i] {
			return false
		}
	}
	return true
}

// Eval returns the value of d with the symbols bound by env.
func (d Dim) Eval(env map[string]int) (int, error) {
	v := d.Coef
	for _, s := range d.Syms {
		n, ok := env[s]
		if !ok {
			return 0, fmt.Errorf("unbound dimension %s", s)
		}
		v *= n
	}
	return v, nil
}

func (d Dim) String() string {
	if len(d.Syms) == 0 {
		return fmt.Sprint(d.Coef)
	}
	s := strings.Join(d.Syms, "*")
	if d.Coef != 1 {
		s = fmt.Sprintf("%d*%s", d.Coef, s)
	}
	return s
}

// Shape is a list of dimensions; the empty shape is a scalar.
type Shape []Dim

// Equal reports whether two shapes have the same rank and equal dimensions.
func (s Shape) Equal(t Shape) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range s {
		if !s[i].Equal(t[i]) {
			return false
		}
	}
	return true
}

// MaxElements bounds the constant factor of a tensor's element count: 2^53, past which
// counts could wrap in int arithmetic or round in float64. No tensor near it could be
// allocated; the bound is there so that a count is never silently wrong.
const MaxElements = 1 << 53

// NumElements returns the product of all dimensions. Its constant factor is only right when
// Elements returns no error, which every shape of a verified IR satisfies.
func (s Shape) NumElements() Dim {
	n := Const(1)
	for _, d := range s {
		n = n.Mul(d)
	}
	return n
}

// Elements returns the product of all dimensions, or an error when its constant factor
// exceeds MaxElements: [2^32, 2^32] is too large, not 0 elements.
func (s Shape) Elements() (Dim, error) {
	n := Const(1)
	for _, d := range s {
		if d.Coef <= 0 {
			return Dim{}, fmt.Errorf("shape %v: dimension %v is not positive", s, d)
		}
		if n.Coef > MaxElements/d.Coef {
			return Dim{}, fmt.Errorf("shape %v has more than 2^53 elements", s)
		}
		n = n.Mul(d)
	}
	return n, nil
}

// Eval returns the concrete shape with the symbols bound by env.
func (s Shape) Eval(env map[string]int) ([]int, error) {
	out := make([]int, len(s))
	for i, d := range s {
		v, err := d.Eval(env)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (s Shape) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = d.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Type is a tensor type: a dtype and a shape.
//
// There are two dtypes. f32 is what every op computes on and produces. i32 holds indices
// (edge endpoints, graph ids, node lists): it is the type of program inputs only, and the
// operands of the graph ops that take an index say so in their OpDef (IndexArgs), so no op
// produces one and the runtime's buffer plan stays f32.
type Type struct {
	DType string
	Shape Shape
}

// The dtypes.
const (
	DTypeF32 = "f32"
	DTypeI32 = "i32"
)

// F32 returns the f32 tensor type of the given shape.
func F32(s Shape) Type { return Type{DType: DTypeF32, Shape: s} }

// I32 returns the i32 tensor type of the given shape.
func I32(s Shape) Type { return Type{DType: DTypeI32, Shape: s} }

func (t Type) String() string {
	parts := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		parts[i] = d.String()
	}
	return t.DType + "[" + strings.Join(parts, ",") + "]"
}

// Op is one operation and the value it defines.
type Op struct {
	ID    int    // unique within its Func; the text form names it %ID unless Name is set
	Name  string // optional SSA name (inputs, parameters); unique within its Func
	Kind  string
	Args  []*Op
	Attrs Attrs
	Type  Type
	Pos   Pos
}

// IsVar reports whether o reads a named tensor that outlives a run: a param or a state.
func (o *Op) IsVar() bool { return o.Kind == "param" || o.Kind == "state" }

// Ref returns the op's SSA name without the % sigil.
func (o *Op) Ref() string {
	if o.Name != "" {
		return o.Name
	}
	return fmt.Sprint(o.ID)
}

// Output is a named result of a function.
type Output struct {
	Name  string
	Value *Op
}

// Func is a graph with named inputs and outputs. Ops are in topological order: every
// operand precedes its user. Inputs are the ops of kind "input", in signature order.
type Func struct {
	Name    string
	Inputs  []*Op
	Outputs []Output
	Ops     []*Op
	nextID  int
}

// Module is a compiled program: its functions and, when the source had a train block, how
// to train it.
type Module struct {
	Funcs []*Func
	Train *TrainSpec
}

// Func returns the function named name, or nil.
func (m *Module) Func(name string) *Func {
	for _, f := range m.Funcs {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Output returns the output named name, or nil.
func (f *Func) Output(name string) *Op {
	for _, o := range f.Outputs {
		if o.Name == name {
			return o.Value
		}
	}
	return nil
}

// Params returns the func's parameter ops, one per name (the first op of each), in order
// of appearance. Two param ops with one name are one parameter.
func (f *Func) Params() []*Op {
	return uniqueParams(nil, f.Ops)
}

// Params returns the module's parameters, one op per name, in order of first appearance
// across its functions: the list that initialisation, checkpoints and `dlc params` share.
func (m *Module) Params() []*Op {
	seen := map[string]bool{}
	var out []*Op
	for _, f := range m.Funcs {
		out = append(out, uniqueParams(seen, f.Ops)...)
	}
	return out
}

// States returns the module's training state (batch-norm running statistics), one op per
// name, in order of first appearance.
func (m *Module) States() []*Op {
	seen := map[string]bool{}
	var out []*Op
	for _, f := range m.Funcs {
		out = append(out, uniqueOps(seen, f.Ops, "state")...)
	}
	return out
}

func uniqueParams(seen map[string]bool, ops []*Op) []*Op { return uniqueOps(seen, ops, "param") }

func uniqueOps(seen map[string]bool, ops []*Op, kind string) []*Op {
	if seen == nil {
		seen = map[string]bool{}
	}
	var out []*Op
	for _, o := range ops {
		if o.Kind != kind {
			continue
		}
		if n := o.Attrs.String("name"); !seen[n] {
			seen[n] = true
			out = append(out, o)
		}
	}
	return out
}

// NewID returns a fresh op ID for f, in constant time: f remembers the next free ID. Code
// that gives ops IDs of its own (the IR reader) calls NoteID for each, so that NewID stays
// ahead of them.
func (f *Func) NewID() int {
	id := f.nextID
	f.nextID++
	return id
}

// NoteID records that an op of f has ID id, so that NewID never returns it.
func (f *Func) NoteID(id int) {
	if id >= f.nextID {
		f.nextID = id + 1
	}
}
