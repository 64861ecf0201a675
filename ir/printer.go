package ir

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The text form of a module. It is lossless: Parse(Print(m)) rebuilds m op for op, with the
// same IDs, names, attributes, types and source positions, and re-prints to the same bytes.
//
//	func @AE.step(%x: f32[B,784]) {
//	  %x:0 = input {name="x"} : f32[B,784]                             # ae.dl:3:9
//	  %1 = param {init="glorot_uniform", name="Enc.w"} : f32[784,256]  # ae.dl:5:14
//	  %2 = matmul %x, %1 : f32[B,256]                                  # ae.dl:5:14
//	  %3 = sum %2 {axes=[1], keepdims=true} : f32[B,1]
//	  %4 = reshape %2 {shape=(B, 4, 64)} : f32[B,4,64]
//	  output loss = %3
//	}
//
//	train {  # ae.dl:20:1
//	  family "autoencoder"
//	  ...
//	}
//
// An op is defined as %ID, or %NAME:ID when it has a name, and referred to by its Ref
// (%ID or %NAME). IDs are printed as they are, not renumbered. Inputs are printed both in the
// header (signature order, with their types) and in the body (their definitions, IDs and
// positions). Attributes are sorted by key: ints print as 3, floats always with a point or
// exponent (1.0, 1e-05), lists of ints as [1, 2], shapes as (B, 4, 64) and strings quoted.
// The comment after an op is its source position, and the reader reads it back. Names that
// are not plain identifiers (letters, digits, _ and ., with :-separated parts) are quoted.

// String returns the text form of m.
func (m *Module) String() string {
	var sb strings.Builder
	p := printer{w: &sb}
	p.module(m)
	return sb.String()
}

// Print writes the text form of m to w.
func Print(w io.Writer, m *Module) error {
	bw := bufio.NewWriter(w)
	p := printer{w: bw}
	p.module(m)
	return bw.Flush()
}

// String returns the text form of f alone.
func (f *Func) String() string {
	var sb strings.Builder
	p := printer{w: &sb}
	p.fn(f)
	return sb.String()
}

type printer struct {
	w interface {
		WriteString(string) (int, error)
	}
}

func (p *printer) print(ss ...string) {
	for _, s := range ss {
		p.w.WriteString(s)
	}
}

func (p *printer) module(m *Module) {
	if m == nil {
		return
	}
	for i, f := range m.Funcs {
		if i > 0 {
			p.print("\n")
		}
		p.fn(f)
	}
	if m.Train != nil {
		if len(m.Funcs) > 0 {
			p.print("\n")
		}
		p.train(m.Train)
	}
}

// commentCol is the widest line that pushes the position comments of its func to the right;
// longer lines get their comment two spaces after them.
const commentCol = 80

func (p *printer) fn(f *Func) {
	if f == nil {
		p.print("func @<nil> {\n}\n")
		return
	}
	p.print("func @", quoteName(f.Name), "(")
	for i, in := range f.Inputs {
		if i > 0 {
			p.print(", ")
		}
		if in == nil {
			p.print("%<nil>")
			continue
		}
		p.print(opRef(in), ": ", formatType(in.Type))
	}
	p.print(") {\n")
	lines := make([]string, len(f.Ops))
	width := 0
	for i, o := range f.Ops {
		lines[i] = opLine(o)
		if n := utf8.RuneCountInString(lines[i]); n <= commentCol && n > width {
			width = n
		}
	}
	for i, o := range f.Ops {
		p.print("  ", lines[i])
		if o != nil && o.Pos != (Pos{}) {
			pad := width - utf8.RuneCountInString(lines[i])
			if pad < 0 {
				pad = 0
			}
			p.print(strings.Repeat(" ", pad+2), "# ", formatPos(o.Pos))
		}
		p.print("\n")
	}
	for _, out := range f.Outputs {
		p.print("  output ", quoteName(out.Name), " = ", opRef(out.Value), "\n")
	}
	p.print("}\n")
}

// opLine is the op's definition without its position comment.
func opLine(o *Op) string {
	if o == nil {
		return "%<nil> = <nil>"
	}
	var sb strings.Builder
	sb.WriteString("%")
	if o.Name != "" {
		sb.WriteString(quoteName(o.Name))
		sb.WriteString(":")
	}
	sb.WriteString(strconv.Itoa(o.ID))
	sb.WriteString(" = ")
	sb.WriteString(quoteName(o.Kind))
	for i, a := range o.Args {
		if i == 0 {
			sb.WriteString(" ")
		} else {
			sb.WriteString(", ")
		}
		sb.WriteString(opRef(a))
	}
	if len(o.Attrs) > 0 {
		sb.WriteString(" {")
		for i, k := range o.Attrs.Keys() {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(quoteName(k))
			sb.WriteString("=")
			sb.WriteString(formatAttr(o.Attrs[k]))
		}
		sb.WriteString("}")
	}
	sb.WriteString(" : ")
	sb.WriteString(formatType(o.Type))
	return sb.String()
}

// opRef is how an operand refers to o: %ID, or %NAME when o has a name.
func opRef(o *Op) string {
	if o == nil {
		return "%<nil>"
	}
	if o.Name != "" {
		return "%" + quoteName(o.Name)
	}
	return "%" + strconv.Itoa(o.ID)
}

func (p *printer) train(t *TrainSpec) {
	p.print("train {", posComment(t.Pos), "\n")
	p.print("  task ", t.Task.String(), "\n")
	for _, f := range t.Feeds {
		p.print("  feed ", strconv.Quote(f.Input), " ", f.Kind.String(), "\n")
	}
	for _, ph := range t.Phases {
		p.print("  phase ", strconv.Quote(ph.Name), " {\n")
		p.print("    step @", quoteName(ph.Step), "\n")
		p.print("    params [")
		for i, n := range ph.Params {
			if i > 0 {
				p.print(", ")
			}
			p.print(strconv.Quote(n))
		}
		p.print("]\n")
		p.print("    optimizer ", formatOpt(ph.Optimizer), posComment(ph.Optimizer.Pos), "\n")
		p.print("    repeat ", strconv.Itoa(ph.Repeat), "\n")
		if sc := ph.Schedule; sc != nil {
			p.print("    schedule ", formatNumCall(sc.Name, sc.Args))
			if sc.PerStep {
				p.print(" per_step")
			}
			if sc.Monitor != nil {
				p.print(" monitor ", formatMonitor(sc.Monitor))
			}
			p.print(posComment(sc.Pos), "\n")
		}
		if c := ph.Clip; c != nil {
			p.print("    clip ", quoteName(c.Kind), " ", formatFloat(c.Max), posComment(c.Pos), "\n")
		}
		p.print("  }\n")
	}
	p.print("  eval @", quoteName(t.Eval), "\n")
	for _, r := range t.Roles {
		p.print("  role ", r.Role.String(), " @", quoteName(r.Func), "\n")
	}
	if t.Noise != NoiseNone {
		p.print("  noise ", t.Noise.String(), "\n")
	}
	if t.Task.IsGraph() {
		p.graph(t.Graph)
	}
	p.print("  data ", formatData(t.Data), posComment(t.Data.Pos), "\n")
	if t.Test != nil {
		p.print("  test ", formatData(*t.Test), posComment(t.Test.Pos), "\n")
	}
	p.print("  batch ", strconv.Itoa(t.Batch), "\n")
	p.print("  epochs ", strconv.Itoa(t.Epochs), "\n")
	p.print("  seed ", strconv.FormatInt(t.Seed, 10), "\n")
	p.print("  shuffle ", strconv.FormatBool(t.Shuffle), "\n")
	if v := t.Validation; v != nil && v.Data != nil {
		p.print("  validation data ", formatData(*v.Data), posComment(v.Data.Pos), "\n")
	} else if v != nil {
		p.print("  validation fraction ", formatFloat(v.Fraction), posComment(v.Pos), "\n")
	}
	if m := t.EarlyStop; m != nil {
		p.print("  early_stopping ", formatMonitor(m), posComment(m.Pos), "\n")
	}
	p.print("}\n")
}

// graph writes a graph task's settings.
func (p *printer) graph(g GraphSpec) {
	p.print("  undirected ", strconv.FormatBool(g.Undirected), "\n")
	if g.TestEdges != 0 {
		p.print("  test_edges ", formatFloat(g.TestEdges), "\n")
	}
	if s := g.Labelled; s != nil {
		switch {
		case s.Nodes != nil:
			p.print("  labelled nodes [")
			for i, n := range s.Nodes {
				if i > 0 {
					p.print(", ")
				}
				p.print(strconv.Itoa(int(n)))
			}
			p.print("]\n")
		case s.PerClass > 0:
			p.print("  labelled per_class ", strconv.Itoa(s.PerClass), "\n")
		default:
			p.print("  labelled fraction ", formatFloat(s.Fraction), "\n")
		}
	}
	if g.Neighbors != nil {
		p.print("  neighbors [")
		for i, n := range g.Neighbors {
			if i > 0 {
				p.print(", ")
			}
			p.print(strconv.Itoa(n))
		}
		p.print("]\n")
	}
}

// formatOpt writes adam(beta1=0.5, lr=0.0002), arguments in name order.
func formatOpt(o OptSpec) string {
	var sb strings.Builder
	sb.WriteString(quoteName(o.Name) + "(")
	for i, k := range sortedKeys(o.Args) {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(quoteName(k) + "=" + formatFloat(o.Args[k]))
	}
	sb.WriteString(")")
	return sb.String()
}

// formatNumCall writes step(every=3, gamma=0.5), arguments in name order.
func formatNumCall(name string, args map[string]float64) string {
	return formatOpt(OptSpec{Name: name, Args: args})
}

// formatMonitor writes a monitor as PATIENCE "METRIC" MIN_DELTA MODE: 5 "val_loss" 0 min.
func formatMonitor(m *Monitor) string {
	return strconv.Itoa(m.Patience) + " " + strconv.Quote(m.Metric) + " " + formatFloat(m.MinDelta) + " " + quoteName(m.Mode)
}

func formatData(d DataSpec) string {
	var sb strings.Builder
	sb.WriteString(quoteName(d.Source))
	sb.WriteString("(")
	for i, part := range d.Parts {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(PartName(i) + "=" + formatData(part))
	}
	for i, k := range sortedKeys(d.Args) {
		if i > 0 || len(d.Parts) > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(quoteName(k))
		sb.WriteString("=")
		sb.WriteString(strconv.Quote(d.Args[k]))
	}
	sb.WriteString(")")
	return sb.String()
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func posComment(p Pos) string {
	if p == (Pos{}) {
		return ""
	}
	return "  # " + formatPos(p)
}

// formatPos prints file:line:col, quoting the file when it is not plain printable text.
func formatPos(p Pos) string {
	file := p.File
	if !plainFile(file) {
		file = strconv.Quote(file)
	}
	return file + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

func plainFile(s string) bool {
	if strings.HasPrefix(s, `"`) {
		return false
	}
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsGraphic(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// formatType prints a type as f32[B,784]. Unlike Type.String, it quotes a dtype or symbol
// that the reader could not read back, so that a malformed type still prints unambiguously.
func formatType(t Type) string {
	var sb strings.Builder
	sb.WriteString(quoteName(t.DType))
	sb.WriteString("[")
	for i, d := range t.Shape {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(formatDim(d))
	}
	sb.WriteString("]")
	return sb.String()
}

func formatDim(d Dim) string {
	if len(d.Syms) == 0 {
		return strconv.Itoa(d.Coef)
	}
	parts := make([]string, 0, len(d.Syms)+1)
	if d.Coef != 1 {
		parts = append(parts, strconv.Itoa(d.Coef))
	}
	for _, s := range d.Syms {
		parts = append(parts, quoteName(s))
	}
	return strings.Join(parts, "*")
}

func formatShape(s Shape) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = formatDim(d)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// formatAttr prints an attribute value so that the reader recovers its Go type: an int has
// no point, a float always has one (or an exponent, Inf or NaN), []int is bracketed and
// Shape parenthesised.
func formatAttr(v any) string {
	switch v := v.(type) {
	case int:
		return strconv.Itoa(v)
	case float64:
		return formatFloat(v)
	case bool:
		return strconv.FormatBool(v)
	case string:
		return strconv.Quote(v)
	case []int:
		parts := make([]string, len(v))
		for i, n := range v {
			parts[i] = strconv.Itoa(n)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case Shape:
		return formatShape(v)
	}
	// Not a valid attribute (the verifier rejects it); printed so that the reader refuses it.
	return fmt.Sprintf("<%T>", v)
}

// formatFloat prints the shortest text that parses back to exactly v, with a point or an
// exponent so that it does not read as an int.
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// isIdent reports whether s can be printed bare as a name: an identifier of letters, digits,
// _ and ., optionally several joined by ':' (grad:Enc.w). The lexer reads exactly these.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	start := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' || c == '.':
			if start {
				return false
			}
		case c == ':':
			if start {
				return false
			}
			start = true
			continue
		default:
			return false
		}
		start = false
	}
	return !start
}

// quoteName prints s bare when it is an identifier and quoted otherwise.
func quoteName(s string) string {
	if isIdent(s) {
		return s
	}
	return strconv.Quote(s)
}
