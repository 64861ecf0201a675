package compiler

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// kind is what a name or an expression denotes while a block is being lowered. Tensors
// become IR values; everything else (hyperparameters, dimensions, shapes) is known at
// compile time and folded away.
type kind int

const (
	kTensor kind = iota
	kInt
	kFloat
	kString
	kBool
	kDim   // a symbolic dimension such as B, or a product like 4*B
	kList  // a bracketed list: a shape, axes or a perm
	kBlock // a block used as a value: the parameters of a family block
	kName  // a bare builtin name used as a value: loss = bce
	kGraph // a graph (or a set of node pairs): its index tensors and dimensions
	kIndex // an index tensor of a graph (g.src), good only as a subscript: h[g.src]
)

func (k kind) String() string {
	return [...]string{"tensor", "int", "float", "string", "bool", "dimension", "list", "block", "name", "graph", "index"}[k]
}

type value struct {
	kind  kind
	op    *ir.Op // kTensor
	num   float64
	str   string // kString, kName
	dim   ir.Dim
	list  []value
	block *lang.Block
	g     *graphVal // kGraph, kIndex
}

func tensorVal(o *ir.Op) value { return value{kind: kTensor, op: o} }
func intVal(n int) value       { return value{kind: kInt, num: float64(n)} }
func floatVal(f float64) value { return value{kind: kFloat, num: f} }
func dimVal(d ir.Dim) value {
	if d.IsConst() {
		return intVal(d.Coef)
	}
	return value{kind: kDim, dim: d}
}

func (v value) String() string {
	switch v.kind {
	case kTensor:
		return "tensor " + v.op.Type.Shape.String()
	case kInt:
		return fmt.Sprint(int(v.num))
	case kFloat:
		s := strconv.FormatFloat(v.num, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEIN") {
			s += ".0"
		}
		return s
	case kString:
		return fmt.Sprintf("%q", v.str)
	case kDim:
		return v.dim.String()
	case kBlock:
		return v.block.Kind + " " + v.block.Name
	case kName:
		return v.str
	case kGraph:
		return v.g.kind + " " + v.g.name
	case kIndex:
		return v.g.name + "." + v.str
	case kList:
		parts := make([]string, len(v.list))
		for i, e := range v.list {
			parts[i] = e.String()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case kBool:
		if v.num != 0 {
			return "true"
		}
		return "false"
	}
	return v.kind.String()
}

// asDim converts an int or dimension to an ir.Dim.
func (v value) asDim() (ir.Dim, bool) {
	switch v.kind {
	case kInt:
		return ir.Const(int(v.num)), true
	case kDim:
		return v.dim, true
	}
	return ir.Dim{}, false
}

// asShape converts a list of dimensions to an ir.Shape.
func (v value) asShape() (ir.Shape, bool) {
	if v.kind != kList {
		return nil, false
	}
	s := make(ir.Shape, len(v.list))
	for i, e := range v.list {
		d, ok := e.asDim()
		if !ok || d.Coef <= 0 {
			return nil, false
		}
		s[i] = d
	}
	return s, true
}

// asInts converts a list of ints (axes, a perm) or one int to []int.
func (v value) asInts() ([]int, bool) {
	if v.kind == kInt {
		return []int{int(v.num)}, true
	}
	if v.kind != kList {
		return nil, false
	}
	out := make([]int, len(v.list))
	for i, e := range v.list {
		if e.kind != kInt {
			return nil, false
		}
		out[i] = int(e.num)
	}
	return out, true
}

// scope is the environment of one block instance: its parameters, the dimensions its
// signature bound, and its local variables.
type scope struct {
	names  map[string]value
	prefix string         // parameter-name prefix of this instance, e.g. "Enc.dense0"
	counts map[string]int // calls made so far per callee, for naming the next instance
	file   string
	inStd  bool // a standard-library block: its ops take the caller's position
	// top: a call of a block here is a call of that network at the top level (a phase of
	// a train block), whose parameters are named after the block alone and shared by
	// every such call.
	top bool
}

func newScope(prefix, file string) *scope {
	return &scope{names: map[string]value{}, prefix: prefix, counts: map[string]int{}, file: file}
}
