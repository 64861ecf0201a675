package ir

import (
	"fmt"
	"strconv"
	"strings"
)

// Elementwise fusion.
//
// A chain of elementwise ops, such as the autoencoder's output gradient
// mul(1/n, sub(sigmoid(z), x)), runs op by op as one pass over memory per op, each writing a
// whole tensor that the next op reads back: three B×784 passes and two intermediates for
// what is one expression per element. The pass FuseElementwise folds such a chain into one
// op, fused_elementwise, whose attribute "code" is the chain as a little program over its
// operands:
//
//	%9 = fused_elementwise %z, %x, %s {code="sigmoid(x0); sub(t0, x1); mul(x2, t1)"}
//
// xI is operand I of the fused op, tK the result of instruction K, and the last instruction
// is the op's result. The runtime's kernel (runtime/fused_elementwise.go) runs the program
// over blocks of a few hundred elements that stay in L1, with the same per-op loops the
// unfused kernels use, so the fused op computes every element with the same instructions:
// its results equal the unfused program's bit for bit (0 ulp, which the runtime's tests
// check), and only the memory traffic and the intermediates go.
//
// The rule: an elementwise op absorbs an operand produced by another elementwise op (or a
// fused one) when that operand has no other user and the op's shape, and every operand of
// the result is either of that same shape or a scalar (rank 0), so that one index walks
// every operand in step. Broadcasting along some axes (a bias row) is left to the unfused
// kernels. Repeated to a fixed point, the rule folds whole chains and trees. Scalar-valued
// ops are not fused: there is no pass over memory to save.
//
// A sum or mean over every axis of such a chain folds in too, as the attribute reduce: the
// program's last result is then summed in float64, block by block and the blocks' sums in
// order, and never stored; the order differs from the sum kernel's, so a fused reduction is
// within 1 ulp of the unfused one (the elementwise results are the same bits). The loss head of an autoencoder, mean(bce_logits(z, x)),
// becomes one loop that reads z and x once and writes one number.
//
// The pass runs after the dense fusions (FuseRules), which must see activations and their
// gradient helpers next to their products first.

// ElemInstr is one instruction of a fused_elementwise op's code.
type ElemInstr struct {
	Kind  string
	Attrs Attrs // the op's attributes: numbers only
	// Args are the instruction's operands: I ≥ 0 is operand I of the fused op, I < 0 the
	// result of instruction -I-1.
	Args []int
	// Pos is where the instruction's op came from, so that a runtime fault (a NaN under
	// --check-finite) names its line, not the chain's last one. It travels in the fused op's
	// lines attribute: a line and a column per instruction, in the fused op's own file (0, 0
	// for an op of another file, which then reports the fused op's position).
	Pos Pos
}

// FuseElementwisePass is the pass that folds elementwise chains into fused_elementwise ops.
func FuseElementwisePass() Pass {
	kinds := []string{"fused_elementwise"}
	for _, k := range opOrder {
		if fusibleElementwise(opTable[k]) {
			kinds = append(kinds, k)
		}
	}
	return RewritePass("fuse-elementwise", []Rule{
		{Name: "elementwise-chain", Kinds: kinds, Rewrite: fuseElementwise},
		{Name: "elementwise-reduce", Kinds: []string{"sum", "mean"}, Rewrite: fuseElementwiseReduce},
		{Name: "count-shape", Kinds: []string{"count"}, Rewrite: countOperandShape},
	})
}

// countOperandShape: count(e) → count(a) for an elementwise e with an operand a of e's
// shape. count reads only its operand's shape; a mean's gradient counts the mean's operand,
// and that second user would keep e (the loss per element) from fusing into its mean.
func countOperandShape(r *Rewriter, o *Op) *Op {
	e := o.Args[0]
	if d := opTable[e.Kind]; d.Class != Elementwise && e.Kind != "fused_elementwise" || e.Attrs.String("reduce") != "" {
		return nil
	}
	for _, a := range e.Args {
		if a.Type.Shape.Equal(e.Type.Shape) {
			return r.Op("count", o.Attrs, a)
		}
	}
	return nil
}

// fuseElementwiseReduce: sum or mean over every axis of an elementwise op (or a fused chain
// without a reduction) that has no other user → fused_elementwise{code, reduce}.
func fuseElementwiseReduce(r *Rewriter, o *Op) *Op {
	a := o.Args[0]
	if len(o.Attrs.Ints("axes")) != 0 || o.Attrs.Bool("keepdims") || len(a.Type.Shape) == 0 || !r.Uses.Only(a, o) ||
		!(a.Kind == "fused_elementwise" && a.Attrs.String("reduce") == "" || fusibleElementwise(opTable[a.Kind])) ||
		!stepOperands(a, a.Type.Shape) {
		return nil
	}
	var f elemFolder
	f.fold(a, nil)
	return r.Op("fused_elementwise", f.attrs(o.Pos, o.Kind), f.args...)
}

// fusibleElementwise reports whether ops of d's kind may be an instruction of a fused
// program: elementwise with one or two operands and only numeric attributes (the kernel's
// loops are unary or binary).
func fusibleElementwise(d *OpDef) bool {
	if d.Class != Elementwise || d.Arity < 1 || d.Arity > 2 || d.OpenAttrs {
		return false
	}
	for _, a := range d.Attrs {
		if a.Type != AttrFloat && a.Type != AttrInt {
			return false
		}
	}
	return true
}

// fuseElementwise folds into o the operands it may absorb, or returns nil.
func fuseElementwise(r *Rewriter, o *Op) *Op {
	if len(o.Type.Shape) == 0 || o.Attrs.String("reduce") != "" || !stepOperands(o, o.Type.Shape) {
		return nil
	}
	absorb := make([]bool, len(o.Args))
	some := false
	for i, a := range o.Args {
		if (a.Kind == "fused_elementwise" && a.Attrs.String("reduce") == "" || fusibleElementwise(opTable[a.Kind])) &&
			r.Uses.Only(a, o) && a.Type.Shape.Equal(o.Type.Shape) && stepOperands(a, o.Type.Shape) {
			absorb[i], some = true, true
		}
	}
	if !some {
		return nil
	}
	var f elemFolder
	f.fold(o, absorb)
	return r.Op("fused_elementwise", f.attrs(o.Pos, ""), f.args...)
}

// stepOperands reports whether every operand of o is of shape s or a scalar.
func stepOperands(o *Op, s Shape) bool {
	for _, a := range o.Args {
		if len(a.Type.Shape) != 0 && !a.Type.Shape.Equal(s) {
			return false
		}
	}
	return true
}

// elemFolder builds one fused program from an op and the producers it absorbs.
type elemFolder struct {
	code []ElemInstr
	args []*Op
}

// attrs returns the fused op's attributes: its code, its reduction if any, and the
// instructions' lines when one of them has a position in at's file.
func (f *elemFolder) attrs(at Pos, reduce string) Attrs {
	a := Attrs{"code": FormatElemCode(f.code)}
	if reduce != "" {
		a["reduce"] = reduce
	}
	lines := make([]int, 0, 2*len(f.code))
	some := false
	for _, in := range f.code {
		if in.Pos.IsValid() && in.Pos.File == at.File {
			lines = append(lines, in.Pos.Line, in.Pos.Col)
			some = true
		} else {
			lines = append(lines, 0, 0)
		}
	}
	if some {
		a["lines"] = lines
	}
	return a
}

// operand returns the fused op's operand index of a, adding it when new.
func (f *elemFolder) operand(a *Op) int {
	for i, b := range f.args {
		if b == a {
			return i
		}
	}
	f.args = append(f.args, a)
	return len(f.args) - 1
}

// fold appends o's program, with the operands marked in absorb replaced by their own
// programs, and returns the reference (as in ElemInstr.Args) of o's result.
func (f *elemFolder) fold(o *Op, absorb []bool) int {
	ref := make([]int, len(o.Args))
	for i, a := range o.Args {
		if absorb != nil && absorb[i] {
			ref[i] = f.fold(a, nil)
		} else {
			ref[i] = f.operand(a)
		}
	}
	prog := []ElemInstr{{Kind: o.Kind, Attrs: o.Attrs, Args: identity(len(o.Args)), Pos: o.Pos}}
	if o.Kind == "fused_elementwise" {
		prog, _ = ElemProgram(o)
	}
	base := len(f.code)
	for _, in := range prog {
		args := make([]int, len(in.Args))
		for j, a := range in.Args {
			if a >= 0 {
				args[j] = ref[a]
			} else {
				args[j] = a - base
			}
		}
		f.code = append(f.code, ElemInstr{Kind: in.Kind, Attrs: in.Attrs, Args: args, Pos: in.Pos})
	}
	return -len(f.code)
}

func identity(n int) []int {
	ids := make([]int, n)
	for i := range ids {
		ids[i] = i
	}
	return ids
}

// FormatElemCode writes a program in the text form of the code attribute.
func FormatElemCode(code []ElemInstr) string {
	var sb strings.Builder
	for k, in := range code {
		if k > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(in.Kind)
		if keys := in.Attrs.Keys(); len(keys) > 0 {
			sb.WriteByte('{')
			for i, key := range keys {
				if i > 0 {
					sb.WriteString(", ")
				}
				sb.WriteString(key + "=" + formatAttr(in.Attrs[key]))
			}
			sb.WriteByte('}')
		}
		sb.WriteByte('(')
		for i, a := range in.Args {
			if i > 0 {
				sb.WriteString(", ")
			}
			if a >= 0 {
				sb.WriteString("x" + strconv.Itoa(a))
			} else {
				sb.WriteString("t" + strconv.Itoa(-a-1))
			}
		}
		sb.WriteByte(')')
	}
	return sb.String()
}

// ParseElemCode reads the code attribute of a fused_elementwise op with nargs operands:
// instructions separated by ";", each KIND{ATTR=NUMBER, …}(REF, …), a REF being xI for
// operand I or tK for the result of an earlier instruction K. Every operand must be read,
// every kind must be a fusible elementwise op with its arity and attributes.
func ParseElemCode(code string, nargs int) ([]ElemInstr, error) {
	if nargs < 0 {
		return nil, fmt.Errorf("code: %d operands", nargs)
	}
	var prog []ElemInstr
	used := make([]bool, nargs)
	for k, text := range strings.Split(code, ";") {
		text = strings.TrimSpace(text)
		open, end := strings.IndexByte(text, '('), len(text)-1
		if open < 0 || end < open || text[end] != ')' {
			return nil, fmt.Errorf("code: instruction %d %q: want KIND(ARGS)", k, text)
		}
		in := ElemInstr{Kind: text[:open]}
		if i := strings.IndexByte(in.Kind, '{'); i >= 0 {
			attrs, err := parseElemAttrs(in.Kind[i:])
			if err != nil {
				return nil, fmt.Errorf("code: instruction %d: %v", k, err)
			}
			in.Kind, in.Attrs = in.Kind[:i], attrs
		}
		d, ok := opTable[in.Kind]
		if !ok || !fusibleElementwise(d) {
			return nil, fmt.Errorf("code: instruction %d: %q is not a fusible elementwise op", k, in.Kind)
		}
		for _, ref := range strings.Split(text[open+1:end], ",") {
			ref = strings.TrimSpace(ref)
			n, err := strconv.Atoi(strings.TrimLeft(ref, "xt"))
			switch {
			case err != nil || len(ref) < 2 || n < 0:
				return nil, fmt.Errorf("code: instruction %d: operand %q: want xI or tK", k, ref)
			case ref[0] == 'x' && n < nargs:
				used[n] = true
				in.Args = append(in.Args, n)
			case ref[0] == 't' && n < k:
				in.Args = append(in.Args, -n-1)
			default:
				return nil, fmt.Errorf("code: instruction %d: operand %q: want x0…x%d or an earlier t", k, ref, nargs-1)
			}
		}
		if len(in.Args) != d.Arity {
			return nil, fmt.Errorf("code: instruction %d: %s takes %d operands, got %d", k, in.Kind, d.Arity, len(in.Args))
		}
		if err := d.CheckAttrs(in.Attrs); err != nil {
			return nil, fmt.Errorf("code: instruction %d: %s: %v", k, in.Kind, err)
		}
		prog = append(prog, in)
	}
	for i, u := range used {
		if !u {
			return nil, fmt.Errorf("code: operand x%d is not read", i)
		}
	}
	return prog, nil
}

// ElemProgram returns a fused_elementwise op's program, with each instruction's position
// from the lines attribute (in op's file), or the op's own position where it has none.
func ElemProgram(op *Op) ([]ElemInstr, error) {
	prog, err := ParseElemCode(op.Attrs.String("code"), len(op.Args))
	if err != nil {
		return nil, err
	}
	lines := op.Attrs.Ints("lines")
	if lines != nil && len(lines) != 2*len(prog) {
		return nil, fmt.Errorf("lines: got %d numbers, want 2 per instruction (%d)", len(lines), 2*len(prog))
	}
	for k := range prog {
		prog[k].Pos = op.Pos
		if lines != nil && lines[2*k] > 0 {
			prog[k].Pos = Pos{File: op.Pos.File, Line: lines[2*k], Col: lines[2*k+1]}
		}
	}
	return prog, nil
}

// parseElemAttrs reads {NAME=NUMBER, …}: an int when it has no point or exponent.
func parseElemAttrs(s string) (Attrs, error) {
	if !strings.HasSuffix(s, "}") {
		return nil, fmt.Errorf("attributes %q: want {NAME=NUMBER, …}", s)
	}
	a := Attrs{}
	for _, kv := range strings.Split(s[1:len(s)-1], ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("attribute %q: want NAME=NUMBER", kv)
		}
		if n, err := strconv.Atoi(v); err == nil {
			a[k] = n
		} else if f, err := strconv.ParseFloat(v, 64); err == nil {
			a[k] = f
		} else {
			return nil, fmt.Errorf("attribute %s=%s: want a number", k, v)
		}
	}
	return a, nil
}

// elemShape is fused_elementwise's shape rule: the program parses and types, instruction
// by instruction, and every operand and intermediate is of the result's shape or a scalar.
func elemShape(args []Type, a Attrs) (Shape, error) {
	prog, err := ParseElemCode(a.String("code"), len(args))
	if err != nil {
		return nil, err
	}
	if lines := a.Ints("lines"); lines != nil && len(lines) != 2*len(prog) {
		return nil, fmt.Errorf("lines: got %d numbers, want 2 per instruction (%d)", len(lines), 2*len(prog))
	}
	var out Shape
	for _, t := range args {
		if len(t.Shape) == 0 {
			continue
		}
		if out != nil && !t.Shape.Equal(out) {
			return nil, fmt.Errorf("got operands %v and %v, want one shape (or scalars)", out, t.Shape)
		}
		out = t.Shape
	}
	types := make([]Type, len(prog))
	for k, in := range prog {
		ins := make([]Type, len(in.Args))
		for j, r := range in.Args {
			if r >= 0 {
				ins[j] = args[r]
			} else {
				ins[j] = types[-r-1]
			}
		}
		s, err := opTable[in.Kind].Shape(ins, in.Attrs)
		if err != nil {
			return nil, fmt.Errorf("code: instruction %d: %s: %v", k, in.Kind, err)
		}
		if len(s) != 0 && !s.Equal(out) {
			return nil, fmt.Errorf("code: instruction %d: %s: got %v, want %v or a scalar", k, in.Kind, s, out)
		}
		types[k] = F32(s)
	}
	switch a.String("reduce") {
	case "":
		return types[len(prog)-1].Shape, nil
	case "sum", "mean":
		return Shape{}, nil
	}
	return nil, fmt.Errorf("reduce %q: want sum or mean", a.String("reduce"))
}

// elemGrad differentiates a fused program: it emits the program's instructions again as
// ordinary ops (the values the instructions' gradient rules refer to) and runs their rules
// backwards, summing the gradients that reach each operand.
func elemGrad(b *Builder, op, dy *Op, need []bool) []*Op {
	prog, err := ElemProgram(op)
	if err != nil {
		b.Err = err
		return make([]*Op, len(op.Args))
	}
	vals := make([]*Op, len(prog))
	val := func(r int) *Op {
		if r >= 0 {
			return op.Args[r]
		}
		return vals[-r-1]
	}
	for k, in := range prog {
		args := make([]*Op, len(in.Args))
		for j, r := range in.Args {
			args[j] = val(r)
		}
		vals[k] = b.Op(in.Kind, in.Attrs, args...)
	}
	adj := make([]*Op, len(prog))
	adj[len(prog)-1] = dy
	if red := op.Attrs.String("reduce"); red != "" {
		last := vals[len(prog)-1]
		reduced := b.Op(red, nil, last)
		adj[len(prog)-1] = opTable[red].Grad(b, reduced, dy, []bool{true})[0]
	}
	grads := make([]*Op, len(op.Args))
	add := func(to **Op, g *Op) {
		if *to == nil {
			*to = g
		} else {
			*to = b.Op("add", nil, *to, g)
		}
	}
	for k := len(prog) - 1; k >= 0; k-- {
		d := opTable[prog[k].Kind]
		if adj[k] == nil || d.Grad == nil {
			continue
		}
		needK := make([]bool, len(prog[k].Args))
		for j := range needK {
			needK[j] = true
		}
		gs := d.Grad(b, vals[k], adj[k], needK)
		for j, r := range prog[k].Args {
			if j >= len(gs) || gs[j] == nil {
				continue
			}
			if r >= 0 {
				add(&grads[r], gs[j])
			} else {
				add(&adj[-r-1], gs[j])
			}
		}
	}
	for i := range grads {
		if !need[i] {
			grads[i] = nil
		}
	}
	return grads
}

func init() {
	def(&OpDef{Kind: "fused_elementwise", Arity: -1, Class: Fused,
		Attrs: []AttrDef{{Name: "code", Type: AttrString}, {Name: "reduce", Type: AttrString, Optional: true},
			{Name: "lines", Type: AttrInts, Optional: true}},
		IROnly: "made by fusion", Doc: "(x0, …): a chain of elementwise ops in one loop, as its code attribute says, optionally summed (reduce: sum or mean, over every axis); operands of one shape or scalars",
		Shape: elemShape, Grad: elemGrad})
}
