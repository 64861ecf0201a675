package ir

import (
	"fmt"
	"strings"
)

// The op table.
//
// Everything about an op kind hangs off its OpDef, so that adding an op is one entry here,
// one kernel in runtime under the same name, and their tests: the shape rule, the gradient
// rule, the attributes with their types, whether the op is an activation that dense layers
// may absorb, whether it is pure (common-subexpression elimination may merge two equal
// ones), the name and argument binding it has in the language, and the line spec.md's op
// table shows for it. Passes, the verifier, the reader, the compiler's builtins and the
// runtime's kernel lookup all read these fields; none of them lists op names of its own.
// Tests fail when an op has no kernel, no gradient rule and no NoGrad, no finite-difference
// case, no row in spec.md, or neither a Builtin nor an IROnly reason.

// Class groups ops for the passes: fusion looks at classes, not at op names.
type Class int

const (
	Source      Class = iota // input, param, const: no operands
	Elementwise              // one output element per input element (with broadcasting)
	Reduce                   // sums and means over axes
	Contract                 // matmul
	Movement                 // reshape, transpose, concat, slice: data moves, values do not change
	Fused                    // produced by the fusion pass
)

func (c Class) String() string {
	return [...]string{"source", "elementwise", "reduce", "contract", "movement", "fused", "random"}[c]
}

// AttrType is the Go type an attribute value has.
type AttrType int

const (
	AttrInt    AttrType = iota + 1 // int
	AttrFloat                      // float64 (an int is accepted and widened)
	AttrBool                       // bool
	AttrString                     // string
	AttrInts                       // []int
	AttrShape                      // Shape
)

func (t AttrType) String() string {
	return [...]string{"?", "int", "float", "bool", "string", "[]int", "Shape"}[t]
}

// Holds reports whether v is a value of type t.
func (t AttrType) Holds(v any) bool {
	switch v.(type) {
	case int:
		return t == AttrInt || t == AttrFloat
	case float64:
		return t == AttrFloat
	case bool:
		return t == AttrBool
	case string:
		return t == AttrString
	case []int:
		return t == AttrInts
	case Shape:
		return t == AttrShape
	}
	return false
}

// AttrDef declares one attribute of an op.
type AttrDef struct {
	Name     string
	Type     AttrType
	Optional bool // absent means the op's documented default
}

// GradFunc appends to b the gradient of op's scalar-valued consumer with respect to each of
// op's operands, given dy, the gradient with respect to op's value. need[i] says whether
// operand i wants one; a rule may return nil for operands that do not.
type GradFunc func(b *Builder, op, dy *Op, need []bool) []*Op

// Activation marks an elementwise op act(x) that a dense layer may absorb: dense{act}
// applies it in the product's epilogue, and matmul_act_grad applies its gradient helper.
type Activation struct {
	// Grad is the kind of the op computing the gradient from (dy, y), y = act(x). It takes
	// the activation's attributes.
	Grad string
}

// Builtin is how an op is called in the language: its name and its parameters, each a
// tensor operand or an attribute, in order.
type Builtin struct {
	Name   string
	Params []BuiltinParam
	Shapes string // for spec.md: how the result's shape follows from the operands
	// Fill, if set, completes the attributes from the operands after binding, e.g. the
	// default permutation of transpose, which depends on the rank.
	Fill func(args []Type, a Attrs)
}

// BuiltinParam is one parameter of a builtin.
type BuiltinParam struct {
	Name     string
	Tensor   bool     // an operand; otherwise it sets the attribute Attr (Name when empty)
	Variadic bool     // a tensor parameter that takes every remaining positional argument
	Attr     string   // the attribute set, when it is not Name
	Type     AttrType // the attribute's type
	Default  any      // nil: required
}

// AttrName is the attribute p sets.
func (p BuiltinParam) AttrName() string {
	if p.Attr != "" {
		return p.Attr
	}
	return p.Name
}

// OpDef is the single definition of an op kind.
type OpDef struct {
	Kind  string
	Arity int // number of operands; -1 for one or more
	Class Class
	// IndexArgs lists the operands that are indices: i32 tensors of rank 1. Every other
	// operand must be f32; TypeOf checks both before the shape rule runs.
	IndexArgs []int
	// Shape returns the result shape from the operand types and attributes.
	Shape func(args []Type, a Attrs) (Shape, error)
	// Grad is the reverse-mode rule. Nil together with NoGrad means the op passes no
	// gradient (sources, the gradient helpers themselves, shape queries); nil without NoGrad
	// is a hole the tests catch.
	Grad   GradFunc
	NoGrad bool
	// Attrs are the attributes the op takes. The verifier refuses a missing required one,
	// one of the wrong type and, unless OpenAttrs, one not listed.
	Attrs []AttrDef
	// OpenAttrs lets a fused op carry the attributes of the op it absorbed (dense carries
	// its activation's alpha); its shape rule checks them.
	OpenAttrs bool
	// Act is set for activations that dense layers may absorb.
	Act *Activation
	// Impure ops draw random numbers or read state: two equal-looking ones are different
	// values, so CSE never merges them.
	Impure bool
	// Builtin is the op's name and parameters in the language; nil with IROnly set for ops
	// the compiler emits itself (gradient helpers, fused ops).
	Builtin *Builtin
	IROnly  string
	// Doc is the op's note in spec.md's op table.
	Doc string
}

var (
	opTable = map[string]*OpDef{}
	opOrder []string // kinds in definition order, for spec.md's table
)

func def(d *OpDef) {
	if _, dup := opTable[d.Kind]; dup {
		panic("ir: op " + d.Kind + " defined twice")
	}
	opTable[d.Kind] = d
	opOrder = append(opOrder, d.Kind)
}

// Lookup returns the definition of kind.
func Lookup(kind string) (*OpDef, bool) {
	d, ok := opTable[kind]
	return d, ok
}

// Kinds returns every op kind in definition order.
func Kinds() []string { return append([]string(nil), opOrder...) }

// Attr returns the declaration of attribute name, or nil.
func (d *OpDef) Attr(name string) *AttrDef {
	for i := range d.Attrs {
		if d.Attrs[i].Name == name {
			return &d.Attrs[i]
		}
	}
	return nil
}

// CheckAttrs reports the first attribute of a that d does not allow: a required one
// missing, one of the wrong type, or (unless OpenAttrs) one d does not declare.
func (d *OpDef) CheckAttrs(a Attrs) error {
	for _, ad := range d.Attrs {
		v, ok := a[ad.Name]
		if !ok {
			if !ad.Optional {
				return fmt.Errorf("missing attribute %s", ad.Name)
			}
			continue
		}
		if !ad.Type.Holds(v) {
			return fmt.Errorf("attribute %s is %s, want %s", ad.Name, formatAttr(v), ad.Type)
		}
	}
	if !d.OpenAttrs {
		for _, k := range a.Keys() {
			if d.Attr(k) == nil {
				return fmt.Errorf("unknown attribute %s", k)
			}
		}
	}
	return nil
}

// TypeOf checks arity and attributes and returns the result type of applying d.
func (d *OpDef) TypeOf(args []*Op, a Attrs) (Type, error) {
	if d.Arity >= 0 && len(args) != d.Arity {
		return Type{}, fmt.Errorf("got %d operands, want %d", len(args), d.Arity)
	}
	if d.Arity < 0 && len(args) == 0 {
		return Type{}, fmt.Errorf("got no operands, want at least one")
	}
	for _, ad := range d.Attrs {
		if _, ok := a[ad.Name]; !ok && !ad.Optional {
			return Type{}, fmt.Errorf("missing attribute %s", ad.Name)
		}
	}
	ts := make([]Type, len(args))
	for i, x := range args {
		if x == nil {
			return Type{}, fmt.Errorf("operand %d is missing", i)
		}
		if err := d.checkDType(i, x.Type); err != nil {
			return Type{}, err
		}
		ts[i] = x.Type
	}
	s, err := d.Shape(ts, a)
	if err != nil {
		return Type{}, err
	}
	if _, err := s.Elements(); err != nil {
		return Type{}, err
	}
	return F32(s), nil
}

// IsIndexArg reports whether operand i of d is an index (i32, rank 1).
func (d *OpDef) IsIndexArg(i int) bool {
	for _, j := range d.IndexArgs {
		if i == j {
			return true
		}
	}
	return false
}

// checkDType refuses an operand of the wrong dtype: an index operand must be i32 of rank 1,
// every other one f32.
func (d *OpDef) checkDType(i int, t Type) error {
	if d.IsIndexArg(i) {
		if t.DType != DTypeI32 || len(t.Shape) != 1 {
			return fmt.Errorf("operand %d is %s, want an index i32[E]", i, formatType(t))
		}
		return nil
	}
	if t.DType != DTypeF32 {
		return fmt.Errorf("operand %d is %s, want f32", i, formatType(t))
	}
	return nil
}

// Activations returns the kinds of the ops dense layers may absorb, in definition order.
func Activations() []string {
	var out []string
	for _, k := range opOrder {
		if opTable[k].Act != nil {
			out = append(out, k)
		}
	}
	return out
}

// activationGrads returns the gradient helper kinds of the activations.
func activationGrads() []string {
	var out []string
	for _, k := range Activations() {
		out = append(out, opTable[k].Act.Grad)
	}
	return out
}

// SpecTable renders spec.md's table of IR ops from the op table.
func SpecTable() string {
	rows := make([][]string, len(opOrder))
	for i, k := range opOrder {
		d := opTable[k]
		doc := d.Doc
		if d.Impure {
			doc = "impure (never merged); " + doc
		}
		rows[i] = []string{k, d.Class.String(), aritySpec(d.Arity), attrsString(d), gradString(d), doc}
	}
	return MarkdownTable([]string{"kind", "class", "operands", "attributes", "grad", "notes"}, rows)
}

// MarkdownTable renders rows (a name, then its columns) as a Markdown table under head, one
// row per run of consecutive rows that agree on every column but the name, whose names
// are listed together: spec.md's generated tables are written by it.
func MarkdownTable(head []string, rows [][]string) string {
	var sb strings.Builder
	sb.WriteString("| " + strings.Join(head, " | ") + " |\n|" + strings.Repeat("---|", len(head)) + "\n")
	var names []string
	last := ""
	flush := func() {
		if len(names) > 0 {
			sb.WriteString("| `" + strings.Join(names, "`, `") + "` " + last + "\n")
		}
		names = nil
	}
	for _, r := range rows {
		cells := "| " + strings.Join(r[1:], " | ") + " |"
		if cells != last {
			flush()
			last = cells
		}
		names = append(names, r[0])
	}
	flush()
	return sb.String()
}

func aritySpec(n int) string {
	if n < 0 {
		return "≥ 1"
	}
	return fmt.Sprint(n)
}

func attrsString(d *OpDef) string {
	var parts []string
	for _, a := range d.Attrs {
		s := "`" + a.Name + "` " + a.Type.String()
		if a.Optional {
			s += "?"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func gradString(d *OpDef) string {
	switch {
	case d.Grad != nil:
		return "yes"
	case d.NoGrad:
		return "none"
	}
	return "MISSING"
}
