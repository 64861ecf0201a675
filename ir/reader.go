package ir

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The reader parses the text form that printer.go writes. It reads line by line, a hand
// parser because the form is a sequence of independent lines, each a flat list of tokens.
// Grammar (NL ends a line; a comment runs from '#' to the end of its line; lines holding
// only a comment, or nothing, are skipped anywhere):
//
//	module  = { func | train } .
//	func    = "func" "@" name "(" [ input { "," input } ] ")" "{" NL
//	          { op NL | output NL } "}" NL .
//	input   = ref ":" type .
//	op      = "%" ( int | name ":" int ) "=" name [ ref { "," ref } ] [ attrs ] ":" type [ pos ] .
//	output  = "output" name "=" ref .
//	ref     = "%" ( int | name ) .
//	attrs   = "{" attr { "," attr } "}" .
//	attr    = name "=" value .
//	value   = int | float | "true" | "false" | string | "[" [ int { "," int } ] "]" | shape .
//	shape   = "(" [ dim { "," dim } ] ")" .
//	type    = name "[" [ dim { "," dim } ] "]" .
//	dim     = int [ "*" name { "*" name } ] | name { "*" name } .
//	train   = "train" "{" [ pos ] NL { field NL } "}" NL .
//	field   = "family" string | ( "step" | "eval" ) "@" name | "inputs" "[" [ string { "," string } ] "]"
//	        | ( "data" | "test" ) name "(" [ name "=" string { "," name "=" string } ] ")" [ pos ]
//	        | "optimizer" name "(" [ name "=" float { "," name "=" float } ] ")" [ pos ]
//	        | ( "batch" | "epochs" | "seed" ) int | "shuffle" bool | "extra" "{" [ name "=" string { "," name "=" string } ] "}" .
//	name    = ident | string .
//	pos     = "#" file ":" int ":" int .
//
// Every op is checked as it is read: its kind must be in the op table, its operands defined
// on earlier lines of the same func, and its printed type equal to what the shape rule gives.
// The finished module is then verified.

// Parse reads a module in the text form. filename is used in error positions. Errors are
// *Error values located at filename:line:col; Parse does not panic on any input.
func Parse(filename string, src []byte) (*Module, error) {
	r := &reader{file: filename, lines: strings.Split(string(src), "\n"),
		opLine: map[*Op]Pos{}, funcLine: map[*Func]Pos{}}
	m, err := r.module()
	if err != nil {
		return nil, err
	}
	return m, nil
}

type reader struct {
	file  string
	lines []string
	ln    int // index of the current line
	toks  []token
	i     int // index of the next token
	// comment is the current line's comment; hasComment tells an empty one from none.
	comment    string
	hasComment bool
	// Where things were defined, to place the verifier's findings.
	opLine    map[*Op]Pos
	funcLine  map[*Func]Pos
	trainLine Pos
}

// bail is what the parse functions panic with to unwind to module(), which recovers only it.
type bail struct{ err *Error }

func (r *reader) errorf(col int, format string, args ...any) {
	panic(bail{&Error{Pos: Pos{File: r.file, Line: r.ln + 1, Col: col}, Msg: fmt.Sprintf(format, args...)}})
}

func (r *reader) module() (m *Module, err error) {
	defer func() {
		if x := recover(); x != nil {
			b, ok := x.(bail)
			if !ok {
				panic(x)
			}
			m, err = nil, b.err
		}
	}()
	m = &Module{}
	for r.nextLine() {
		t := r.next()
		switch {
		case t.kind == tIdent && t.text == "func":
			m.Funcs = append(m.Funcs, r.fn())
		case t.kind == tIdent && t.text == "train":
			if m.Train != nil {
				r.errorf(t.col, "second train section (the first is at line %d)", r.trainLine.Line)
			}
			m.Train = r.train()
		default:
			r.errorf(t.col, "got %v, want func or train", t)
		}
	}
	if e := verifyModule(m); e != nil {
		return nil, r.locate(e)
	}
	return m, nil
}

// locate places a verifier finding at the line that defined the offending op or func.
func (r *reader) locate(e *verifyError) *Error {
	msg := e.msg
	var pos Pos
	switch {
	case e.op != nil:
		msg, pos = opLabel(e.op)+": "+msg, r.opLine[e.op]
	case e.train:
		msg, pos = "train: "+msg, r.trainLine
	case e.fn != nil:
		msg, pos = "func "+quoteName(e.fn.Name)+": "+msg, r.funcLine[e.fn]
	}
	if pos == (Pos{}) {
		pos = Pos{File: r.file, Line: 1, Col: 1}
	}
	return &Error{Pos: pos, Msg: msg}
}

// nextLine advances to the next line that holds tokens and reports whether there is one.
func (r *reader) nextLine() bool {
	for ; r.ln < len(r.lines); r.ln++ {
		if r.toks != nil {
			r.toks = nil
			continue // step past the line just consumed
		}
		toks, comment, has, col, err := lexLine(r.lines[r.ln])
		if err != nil {
			r.errorf(col, "%v", err)
		}
		if len(toks) > 1 {
			r.toks, r.i, r.comment, r.hasComment = toks, 0, comment, has
			return true
		}
	}
	r.toks = nil
	return false
}

func (r *reader) peek() token { return r.toks[r.i] }

func (r *reader) next() token {
	t := r.toks[r.i]
	if t.kind != tEOL {
		r.i++
	}
	return t
}

func (r *reader) here() Pos { return Pos{File: r.file, Line: r.ln + 1, Col: r.peek().col} }

func (r *reader) isPunct(s string) bool {
	t := r.peek()
	return t.kind == tPunct && t.text == s
}

func (r *reader) expect(s string) token {
	t := r.next()
	if t.kind != tPunct || t.text != s {
		r.errorf(t.col, "got %v, want %q", t, s)
	}
	return t
}

func (r *reader) expectEOL() {
	if t := r.peek(); t.kind != tEOL {
		r.errorf(t.col, "got %v, want end of line", t)
	}
}

// name reads an identifier or a quoted name.
func (r *reader) name(what string) string {
	t := r.next()
	if t.kind != tIdent && t.kind != tString {
		r.errorf(t.col, "got %v, want %s", t, what)
	}
	return t.text
}

// intTok converts a number token holding a plain integer.
func (r *reader) intTok(t token, what string) int {
	if t.kind != tNumber || strings.ContainsAny(t.text, ".eEIN") {
		r.errorf(t.col, "got %v, want %s (an integer)", t, what)
	}
	n, err := strconv.Atoi(t.text)
	if err != nil {
		r.errorf(t.col, "%s %s out of range", what, t.text)
	}
	return n
}

// floatTok converts a number token (or the identifiers NaN and Inf) to a float64.
func (r *reader) floatTok(t token, what string) float64 {
	if t.kind == tNumber || t.kind == tIdent && (t.text == "NaN" || t.text == "Inf") {
		v, err := strconv.ParseFloat(t.text, 64)
		if err == nil {
			return v
		}
		if errors.Is(err, strconv.ErrRange) {
			r.errorf(t.col, "%s %s out of range", what, t.text)
		}
	}
	r.errorf(t.col, "got %v, want %s (a number)", t, what)
	return 0
}

// pos reads the position in the current line's comment; an absent comment is the zero Pos.
func (r *reader) pos() Pos {
	if !r.hasComment {
		return Pos{}
	}
	col := r.peek().col + 1
	s := strings.TrimSpace(r.comment)
	file := ""
	if strings.HasPrefix(s, `"`) {
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			r.errorf(col, "malformed file name in position %q", s)
		}
		file, _ = strconv.Unquote(q)
		s = s[len(q):]
	} else {
		k := strings.LastIndex(s, ":")
		if k < 0 {
			r.errorf(col, "got comment %q, want a position file:line:col", s)
		}
		k = strings.LastIndex(s[:k], ":")
		if k < 0 {
			r.errorf(col, "got comment %q, want a position file:line:col", s)
		}
		file, s = s[:k], s[k:]
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 || parts[0] != "" {
		r.errorf(col, "got position %q, want file:line:col", strings.TrimSpace(r.comment))
	}
	line, err1 := strconv.Atoi(parts[1])
	c, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil {
		r.errorf(col, "got position %q, want file:line:col", strings.TrimSpace(r.comment))
	}
	return Pos{File: file, Line: line, Col: c}
}

// funcReader holds the state of one function being read.
type funcReader struct {
	f      *Func
	byID   map[int]*Op    // unnamed ops, referred to as %ID
	byName map[string]*Op // named ops, referred to as %NAME
	idLine map[int]int    // line of each ID's definition, for duplicate errors
}

type headerInput struct {
	ref    string
	named  bool
	id     int
	typ    Type
	col    int
	tyCol  int
	refTok token
}

func (r *reader) fn() *Func {
	f := &Func{}
	r.funcLine[f] = Pos{File: r.file, Line: r.ln + 1, Col: 1}
	r.expect("@")
	f.Name = r.name("func name")
	r.expect("(")
	var ins []headerInput
	for !r.isPunct(")") {
		if len(ins) > 0 {
			r.expect(",")
		}
		var in headerInput
		in.col = r.peek().col
		in.named, in.ref, in.id = r.ref()
		r.expect(":")
		in.tyCol = r.peek().col
		in.typ = r.typ()
		ins = append(ins, in)
	}
	r.expect(")")
	r.expect("{")
	r.expectEOL()
	header := r.ln
	fr := &funcReader{f: f, byID: map[int]*Op{}, byName: map[string]*Op{}, idLine: map[int]int{}}
	for {
		if !r.nextLine() {
			r.ln = len(r.lines) - 1
			r.errorf(1, "unexpected end of file in func %s (line %d), want }", quoteName(f.Name), header+1)
		}
		t := r.peek()
		switch {
		case t.kind == tPunct && t.text == "}":
			r.next()
			r.expectEOL()
			r.resolveInputs(fr, ins, header)
			return f
		case t.kind == tPunct && t.text == "%":
			r.op(fr)
		case t.kind == tIdent && t.text == "output":
			r.next()
			nt := r.peek()
			name := r.name("output name")
			if f.Output(name) != nil {
				r.errorf(nt.col, "output %s already defined", quoteName(name))
			}
			r.expect("=")
			o := r.operand(fr)
			r.expectEOL()
			f.Outputs = append(f.Outputs, Output{Name: name, Value: o})
		default:
			r.errorf(t.col, "got %v, want an op, output or }", t)
		}
	}
}

// resolveInputs binds the header's inputs to the input ops of the body.
func (r *reader) resolveInputs(fr *funcReader, ins []headerInput, header int) {
	end := r.ln
	r.ln = header
	for _, in := range ins {
		o := fr.lookup(in.named, in.ref, in.id)
		if o == nil {
			r.errorf(in.col, "input %%%s is not defined in the body", in.ref)
		}
		if o.Kind != "input" {
			r.errorf(in.col, "input %%%s is defined by a %s op, want input", in.ref, o.Kind)
		}
		if !typeEqual(o.Type, in.typ) {
			r.errorf(in.tyCol, "input %%%s: header type %s, body type %s", in.ref, formatType(in.typ), formatType(o.Type))
		}
		fr.f.Inputs = append(fr.f.Inputs, o)
	}
	r.ln = end
}

// ref reads %ID or %NAME; named says which.
func (r *reader) ref() (named bool, name string, id int) {
	r.expect("%")
	t := r.next()
	switch t.kind {
	case tNumber:
		id = r.intTok(t, "op ID")
		return false, strconv.Itoa(id), id
	case tIdent, tString:
		return true, t.text, 0
	}
	r.errorf(t.col, "got %v, want an op reference %%ID or %%NAME", t)
	return
}

func (fr *funcReader) lookup(named bool, name string, id int) *Op {
	if named {
		return fr.byName[name]
	}
	return fr.byID[id]
}

// operand reads a reference to an op defined on an earlier line.
func (r *reader) operand(fr *funcReader) *Op {
	col := r.peek().col
	named, name, id := r.ref()
	o := fr.lookup(named, name, id)
	if o == nil {
		r.errorf(col, "undefined: %%%s (operands must be defined on an earlier line of the func)", quoteRef(named, name))
	}
	return o
}

func quoteRef(named bool, name string) string {
	if named {
		return quoteName(name)
	}
	return name
}

func (r *reader) op(fr *funcReader) {
	o := &Op{}
	r.opLine[o] = r.here()
	r.expect("%")
	t := r.next()
	switch t.kind {
	case tNumber:
		o.ID = r.intTok(t, "op ID")
	case tIdent, tString:
		o.Name = t.text
		if o.Name == "" {
			r.errorf(t.col, "empty op name")
		}
		r.expect(":")
		o.ID = r.intTok(r.next(), "op ID")
	default:
		r.errorf(t.col, "got %v, want an op ID or name", t)
	}
	if o.ID < 0 {
		r.errorf(t.col, "negative op ID %d", o.ID)
	}
	if line, dup := fr.idLine[o.ID]; dup {
		r.errorf(t.col, "op ID %d already defined on line %d", o.ID, line)
	}
	if o.Name != "" && fr.byName[o.Name] != nil {
		r.errorf(t.col, "op name %%%s already defined on line %d", quoteName(o.Name), r.opLine[fr.byName[o.Name]].Line)
	}
	r.expect("=")
	kt := r.peek()
	o.Kind = r.name("op kind")
	def, ok := Lookup(o.Kind)
	if !ok {
		r.errorf(kt.col, "unknown op kind %q%s", o.Kind, suggest(o.Kind, Kinds()))
	}
	if r.isPunct("%") {
		o.Args = append(o.Args, r.operand(fr))
		for r.isPunct(",") {
			r.next()
			o.Args = append(o.Args, r.operand(fr))
		}
	}
	if r.isPunct("{") {
		o.Attrs = r.attrs()
	}
	r.expect(":")
	tyCol := r.peek().col
	o.Type = r.typ()
	r.expectEOL()
	o.Pos = r.pos()

	if o.Kind != "input" && !o.IsVar() {
		t, err := typeOf(def, o.Args, o.Attrs)
		if err != nil {
			r.errorf(kt.col, "%s: %v", opLabel(o), err)
		}
		if !typeEqual(t, o.Type) {
			r.errorf(tyCol, "%s: printed type %s, shape rule gives %s", opLabel(o), formatType(o.Type), formatType(t))
		}
	}
	fr.idLine[o.ID] = r.ln + 1
	fr.f.NoteID(o.ID)
	if o.Name != "" {
		fr.byName[o.Name] = o
	} else {
		fr.byID[o.ID] = o
	}
	fr.f.Ops = append(fr.f.Ops, o)
}

func (r *reader) attrs() Attrs {
	r.expect("{")
	a := Attrs{}
	for !r.isPunct("}") {
		if len(a) > 0 {
			r.expect(",")
		}
		kt := r.peek()
		k := r.name("attribute name")
		if _, dup := a[k]; dup {
			r.errorf(kt.col, "attribute %s repeated", k)
		}
		r.expect("=")
		a[k] = r.attrValue()
	}
	r.expect("}")
	return a
}

func (r *reader) attrValue() any {
	t := r.peek()
	switch {
	case t.kind == tNumber && !strings.ContainsAny(t.text, ".eEIN"):
		return r.intTok(r.next(), "attribute value")
	case t.kind == tNumber || t.kind == tIdent && (t.text == "NaN" || t.text == "Inf"):
		return r.floatTok(r.next(), "attribute value")
	case t.kind == tIdent && (t.text == "true" || t.text == "false"):
		r.next()
		return t.text == "true"
	case t.kind == tString:
		r.next()
		return t.text
	case r.isPunct("["):
		r.next()
		ns := []int{}
		for !r.isPunct("]") {
			if len(ns) > 0 {
				r.expect(",")
			}
			ns = append(ns, r.intTok(r.next(), "list element"))
		}
		r.next()
		return ns
	case r.isPunct("("):
		r.next()
		s := r.dims(")")
		r.next()
		return s
	}
	r.errorf(t.col, "got %v, want an attribute value", t)
	return nil
}

// typ reads dtype[dim, ...].
func (r *reader) typ() Type {
	dt := r.name("type")
	r.expect("[")
	s := r.dims("]")
	r.next()
	return Type{DType: dt, Shape: s}
}

// dims reads comma-separated dimensions up to (not including) the closing punctuation.
func (r *reader) dims(close string) Shape {
	s := Shape{}
	for !r.isPunct(close) {
		if len(s) > 0 {
			r.expect(",")
		}
		s = append(s, r.dim())
	}
	return s
}

func (r *reader) dim() Dim {
	d := Dim{Coef: 1}
	t := r.peek()
	if t.kind == tNumber {
		d.Coef = r.intTok(r.next(), "dimension")
		if !r.isPunct("*") {
			return d
		}
		r.next()
	}
	d.Syms = append(d.Syms, r.name("dimension symbol"))
	for r.isPunct("*") {
		r.next()
		d.Syms = append(d.Syms, r.name("dimension symbol"))
	}
	return d
}

// suggest returns " (did you mean x?)" for the candidate nearest to s, if one is near.
func suggest(s string, candidates []string) string {
	if best := Nearest(s, candidates); best != "" {
		return " (did you mean " + best + "?)"
	}
	return ""
}
