package lang

// The printer writes a syntax tree back as canonical .dl text, the way go/printer does for
// Go: the tree decides the layout, and the comments, which the parser drops, are put back
// by position. Format lexes the source a second time keeping its comments; the printer walks
// the tree and, before each construct it prints, first emits the comments that stood before
// that construct in the source. A comment on the same source line as the last token printed
// is a trailing comment of the output line; any other comment gets a line of its own at the
// indentation of what follows it.
//
// The canonical layout:
//   - four spaces per level of braces; one declaration, statement or setting per line;
//   - one space around = and the binary operators, after a comma and a colon, none inside
//     brackets;
//   - blank lines between declarations and statements are kept, at most one in a row, none
//     after an opening brace or before a closing one;
//   - in a run of consecutive settings or assignments (no blank line or comment line between
//     them) the = signs are aligned, as gofmt aligns a const block; one continued on further
//     lines takes part by its first line;
//   - a trailing comment keeps its column (measured from the line's indentation) when the
//     code before it leaves room, and consecutive trailing comments that shared a column
//     share one still: a run is pushed right together, one space past its longest line;
//   - the line breaks a source makes inside a list (arguments, parameters, a list, a shape)
//     or around a binary operator are kept, the continued lines indented one more level, and
//     a call or parameter list whose closing bracket stands on its own line ends in a comma;
//     no other line breaks are added or removed: the printer does not wrap long lines.
//
// Numbers and strings are printed as their source text. The printer changes no token but
// commas, so the formatted file parses to the same tree (checked by the tests, which also
// compile both and compare the IR).

import (
	"bytes"
	"sort"
	"strings"
	"unicode/utf8"
)

const indentUnit = "    "

// Format parses src and returns it formatted. On a syntax error it returns the *Error and
// no text. The result ends in a newline, unless the file holds nothing (no declarations and
// no comments), when it is empty.
func Format(filename string, src []byte) ([]byte, error) {
	f, err := Parse(filename, src)
	if err != nil {
		return nil, err
	}
	return Print(f, src)
}

// Print formats f, which must have been parsed from src: the source gives the comments and
// the text of strings.
func Print(f *File, src []byte) ([]byte, error) {
	p, err := newPrinter(f.Name, src)
	if err != nil {
		return nil, err
	}
	p.file(f)
	return p.bytes(), nil
}

// srcToken is a token of the source with its position, comments included.
type srcToken struct {
	pos     Pos
	text    string
	comment bool
}

// outLine is one line of output: its indentation level, its code, and a trailing comment
// with the column it wants (runes from the line's start).
type outLine struct {
	indent  int
	code    string
	comment string
	col     int
	blank   bool
}

type printer struct {
	src      []byte
	toks     []srcToken // the significant tokens, in order
	comments []srcToken
	next     int // index of the next comment to emit
	cursor   int // index in toks of the next source token to print

	lines     []outLine
	cur       strings.Builder // the code of the line being built
	curIndent int
	inLine    bool // cur has content
	indent    int
	lastLine  int  // the source line of the last token printed
	fresh     bool // nothing printed since an opening brace or the file's start: no blank line
}

func newPrinter(filename string, src []byte) (*printer, error) {
	lx, err := dlLexer.Lex(filename, bytes.NewReader(src))
	if err != nil {
		return nil, err
	}
	sym := dlLexer.Symbols()
	p := &printer{src: src, fresh: true}
	for {
		t, err := lx.Next()
		if err != nil {
			return nil, syntaxError(filename, src, err)
		}
		if t.EOF() {
			break
		}
		switch t.Type {
		case sym["Whitespace"]:
		case sym["Comment"]:
			p.comments = append(p.comments, srcToken{pos: t.Pos, text: strings.TrimRight(t.Value, " \t\r"), comment: true})
		default:
			p.toks = append(p.toks, srcToken{pos: t.Pos, text: t.Value})
		}
	}
	return p, nil
}

// tokenAt is the significant token at or after offset off whose text is text (the first
// one), or a zero token when there is none.
func (p *printer) tokenAt(off int, text string) srcToken {
	i := sort.Search(len(p.toks), func(i int) bool { return p.toks[i].pos.Offset >= off })
	for ; i < len(p.toks); i++ {
		if p.toks[i].text == text {
			return p.toks[i]
		}
	}
	return srcToken{}
}

// lastBefore is the last significant token that starts before offset off.
func (p *printer) lastBefore(off int) srcToken {
	i := sort.Search(len(p.toks), func(i int) bool { return p.toks[i].pos.Offset >= off })
	if i == 0 {
		return srcToken{}
	}
	return p.toks[i-1]
}

// closing is the position of the last token of a node that ends at end: its closing bracket.
func (p *printer) closing(end Pos) Pos { return p.lastBefore(end.Offset).pos }

// ---- output

func (p *printer) text(s string) {
	if !p.inLine {
		p.curIndent = p.indent
		p.inLine = true
		p.fresh = false
	}
	p.cur.WriteString(s)
}

// space writes one space unless the line is empty.
func (p *printer) space() {
	if p.inLine {
		p.cur.WriteString(" ")
	}
}

func (p *printer) mark(pos Pos) { p.lastLine = pos.Line }

// tok prints the next token of the source, text: first the comments before it, then the
// token (on a new line when a comment ended the line). The printer prints the source's
// tokens in their order, but the commas it adds at the end of a list (which are no source
// token and are printed with text) and leaves out at the end of a one-line list (which tok
// passes over).
func (p *printer) tok(text string) {
	for i := p.cursor; i < len(p.toks); i++ {
		if p.toks[i].text == text {
			p.flush(p.toks[i].pos.Offset)
			p.text(text)
			p.mark(p.toks[i].pos)
			p.cursor = i + 1
			return
		}
	}
	p.text(text) // unreachable for a tree parsed from the source
}

// endLine finishes the current line, if it has content.
func (p *printer) endLine() {
	if !p.inLine {
		return
	}
	p.lines = append(p.lines, outLine{indent: p.curIndent, code: p.cur.String()})
	p.cur.Reset()
	p.inLine = false
}

func (p *printer) blankLine() {
	if p.fresh || len(p.lines) == 0 || p.lines[len(p.lines)-1].blank {
		return
	}
	p.lines = append(p.lines, outLine{blank: true})
}

// flush emits the comments that start before offset off.
func (p *printer) flush(off int) {
	for p.next < len(p.comments) && p.comments[p.next].pos.Offset < off {
		c := p.comments[p.next]
		p.next++
		if p.inLine && c.pos.Line == p.lastLine {
			// A trailing comment: the line ends with it.
			col := p.commentColumn(c.pos)
			p.endLine()
			l := &p.lines[len(p.lines)-1]
			l.comment, l.col = c.text, col
			continue
		}
		p.endLine()
		if c.pos.Line > p.lastLine+1 {
			p.blankLine()
		}
		p.text(c.text)
		p.endLine()
		p.lastLine = c.pos.Line
	}
}

// commentColumn is the column a trailing comment at pos wants on the current line: its
// source column from the source line's indentation, moved to this line's indentation; or,
// when this line does not start where the source line did (a setting that followed an
// opening brace on its line), as far past the code as it was past the token before it.
func (p *printer) commentColumn(pos Pos) int {
	width := p.curIndent*len(indentUnit) + utf8.RuneCountInString(p.cur.String())
	start := bytes.LastIndexByte(p.src[:pos.Offset], '\n') + 1
	first := bytes.TrimLeft(p.src[start:pos.Offset], " \t")
	if bytes.HasPrefix(first, []byte(firstToken(p.cur.String()))) {
		return p.sourceColumn(pos) + p.curIndent*len(indentUnit)
	}
	prev := p.lastBefore(pos.Offset)
	gap := pos.Column - (prev.pos.Column + utf8.RuneCountInString(prev.text))
	return width + max(1, gap)
}

// firstToken is the text of s up to its first space.
func firstToken(s string) string {
	tok, _, _ := strings.Cut(s, " ")
	return tok
}

// sourceColumn is the column (in runes, from 0) of pos in its source line, counted from
// the line's first non-blank character: the comment's place relative to the code's indent.
func (p *printer) sourceColumn(pos Pos) int {
	start := bytes.LastIndexByte(p.src[:pos.Offset], '\n') + 1
	line := p.src[start:pos.Offset]
	lead := len(line) - len(bytes.TrimLeft(line, " \t"))
	return utf8.RuneCount(line[lead:])
}

// bytes lays out the lines: indentation, and the trailing comments at their columns.
func (p *printer) bytes() []byte {
	p.flush(len(p.src) + 1)
	p.endLine()
	for len(p.lines) > 0 && p.lines[len(p.lines)-1].blank {
		p.lines = p.lines[:len(p.lines)-1]
	}
	width := func(l outLine) int { return l.indent*len(indentUnit) + utf8.RuneCountInString(l.code) }
	// Consecutive trailing comments that want one column are a run placed together.
	for i := 0; i < len(p.lines); {
		if p.lines[i].comment == "" {
			i++
			continue
		}
		j, col := i, p.lines[i].col
		for j < len(p.lines) && p.lines[j].comment != "" && p.lines[j].col == p.lines[i].col {
			col = max(col, width(p.lines[j])+1)
			j++
		}
		for k := i; k < j; k++ {
			p.lines[k].col = col
		}
		i = j
	}
	var b bytes.Buffer
	for _, l := range p.lines {
		if !l.blank {
			l.code = strings.TrimRight(l.code, " ")
			b.WriteString(strings.Repeat(indentUnit, l.indent))
			b.WriteString(l.code)
			if l.comment != "" {
				if l.code != "" {
					b.WriteString(strings.Repeat(" ", max(1, l.col-width(l))))
				}
				b.WriteString(l.comment)
			}
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ---- declarations and statements

// item is one line-level construct of a container (a declaration, statement, setting or
// phase): its span, the name to align its = by ("" when it is not aligned) and its printer.
type item struct {
	pos, end Pos
	name     string
	print    func()
}

// items prints the items of a file or a braced body, each on its own line, with the blank
// lines of the source and the = of each run of settings aligned.
func (p *printer) items(list []item) {
	for i := 0; i < len(list); {
		// The items from i on that stand on consecutive source lines, each with a name.
		j := i + 1
		if list[i].name != "" {
			for j < len(list) && list[j].name != "" && list[j].pos.Line <= list[j-1].end.Line+1 {
				j++
			}
		}
		var run []aligned
		for k := i; k < j; k++ {
			it := list[k]
			p.flush(it.pos.Offset)
			p.endLine()
			if it.pos.Line > p.lastLine+1 {
				p.blankLine()
			}
			first := len(p.lines)
			p.mark(it.pos)
			it.print()
			p.mark(p.closing(it.end))
			if it.name == "" {
				continue
			}
			p.flushTrailing()
			p.endLine()
			run = append(run, aligned{line: first, name: it.name})
		}
		p.align(run)
		i = j
	}
}

// aligned is an item of a run whose = signs align: its first output line and its name.
type aligned struct {
	line int
	name string
}

// align pads the names of run to the longest one's width. An item printed on several lines
// takes part by its first line and does not end the run, so that a setting whose value is
// continued on the next line keeps its = in the column of its neighbours'.
func (p *printer) align(run []aligned) {
	w := 0
	for _, a := range run {
		w = max(w, utf8.RuneCountInString(a.name))
	}
	for _, a := range run {
		l := &p.lines[a.line]
		l.code = l.code[:len(a.name)] + strings.Repeat(" ", w-utf8.RuneCountInString(a.name)) + l.code[len(a.name):]
	}
}

// flushTrailing emits the comments on the source line of the last token printed: the
// trailing comment of the current line.
func (p *printer) flushTrailing() {
	for p.inLine && p.next < len(p.comments) && p.comments[p.next].pos.Line == p.lastLine {
		p.flush(p.comments[p.next].pos.Offset + 1)
	}
}

// body prints "{", the items one level in, and "}" (the brace of a node ending at end).
func (p *printer) body(open int, list []item, end Pos) {
	rbrace := p.closing(end)
	p.space()
	p.tok("{")
	if len(list) == 0 && !p.commentBefore(rbrace.Offset) {
		p.tok("}")
		return
	}
	p.indent++
	p.fresh = true
	p.items(list)
	p.flush(rbrace.Offset)
	p.endLine()
	p.indent--
	p.tok("}")
}

func (p *printer) commentBefore(off int) bool {
	return p.next < len(p.comments) && p.comments[p.next].pos.Offset < off
}

func (p *printer) file(f *File) {
	var list []item
	for _, d := range f.Decls {
		d := d
		list = append(list, item{pos: d.Pos, end: d.EndPos, print: func() { p.decl(d) }})
	}
	p.items(list)
}

func (p *printer) decl(d *Decl) {
	switch {
	case d.Import != nil:
		p.tok("import")
		p.space()
		p.tok(p.stringAfter(d.Import.Pos.Offset))
	case d.Block != nil:
		b := d.Block
		p.tok(b.Kind)
		p.space()
		p.tok(b.Name)
		p.params(b.Pos.Offset, b.Params, true)
		if b.Result != nil {
			p.space()
			p.tok("->")
			p.space()
			p.result(b.Result)
		}
		p.body(b.Result.endOr(b.Pos).Offset, p.stmtItems(b.Body), b.EndPos)
	case d.Family != nil:
		fm := d.Family
		p.tok(fm.Kind)
		p.space()
		p.tok(fm.Name)
		p.params(fm.Pos.Offset, fm.Params, true)
		p.body(p.paramsEnd(fm.Pos.Offset, fm.Params), p.settingItems(fm.Settings), fm.EndPos)
	case d.Train != nil:
		t := d.Train
		p.tok("train")
		p.space()
		p.tok(t.Target)
		open := t.Pos.Offset
		if len(t.Params) > 0 {
			p.params(t.Pos.Offset, t.Params, true)
			open = p.paramsEnd(t.Pos.Offset, t.Params)
		}
		list := p.settingItems(t.Settings)
		for _, ph := range t.Phases {
			ph := ph
			list = append(list, item{pos: ph.Pos, end: ph.EndPos, print: func() {
				p.tok("phase")
				p.space()
				p.tok(ph.Name)
				p.body(ph.Pos.Offset, p.stmtItems(ph.Body), ph.EndPos)
			}})
		}
		p.body(open, list, t.EndPos)
	}
}

// endOr is the end of a block's result type, or pos when it has none: where to look for
// the block's opening brace.
func (r *Result) endOr(pos Pos) Pos {
	if r == nil {
		return pos
	}
	return r.EndPos
}

// paramsEnd is the offset just past the ")" of the parameter list that opens at or after off.
func (p *printer) paramsEnd(off int, params []*Param) int {
	if len(params) > 0 {
		off = params[len(params)-1].EndPos.Offset
	}
	return p.tokenAt(off, ")").pos.Offset + 1
}

// stringAfter is the source text of the first string after offset off.
func (p *printer) stringAfter(off int) string {
	i := sort.Search(len(p.toks), func(i int) bool { return p.toks[i].pos.Offset > off })
	for ; i < len(p.toks); i++ {
		if strings.HasPrefix(p.toks[i].text, `"`) {
			return p.toks[i].text
		}
	}
	return `""`
}

func (p *printer) settingItems(list []*Setting) []item {
	var items []item
	for _, s := range list {
		s := s
		items = append(items, item{pos: s.Pos, end: s.EndPos, name: s.Name, print: func() {
			p.assign(s.Name, s.Value)
		}})
	}
	return items
}

// assign prints name = v; name may be several, "mu, logvar".
func (p *printer) assign(name string, v *Expr) {
	for i, n := range strings.Split(name, ", ") {
		if i > 0 {
			p.tok(",")
			p.space()
		}
		p.tok(n)
	}
	p.space()
	p.tok("=")
	p.space()
	p.expr(v)
}

func (p *printer) stmtItems(list []*Stmt) []item {
	var items []item
	for _, s := range list {
		s := s
		it := item{pos: s.Pos, end: s.EndPos}
		switch {
		case s.Assign != nil:
			it.name = s.Assign.Name
			it.print = func() { p.assign(s.Assign.Name, s.Assign.Value) }
		case s.Unpack != nil:
			names := strings.Join(s.Unpack.Names, ", ")
			it.name = names
			it.print = func() { p.assign(names, s.Unpack.Value) }
		default:
			it.print = func() {
				p.tok("return")
				if s.Return[0].Pos.Line == p.lastLine {
					p.space()
				}
				p.seq(len(s.Return), func(i int) (Pos, Pos) { return s.Return[i].Pos, s.Return[i].EndPos },
					func(i int) { p.expr(s.Return[i]) })
			}
		}
		items = append(items, it)
	}
	return items
}

// ---- lists

// list prints a bracketed, comma-separated list: open, the n elements (span gives each
// one's span, elem prints it), close. The source's line breaks between elements are kept;
// comma says whether the list may end in a comma (it does when its closing bracket stands
// on its own line).
func (p *printer) list(open, close string, openPos Pos, n int, span func(int) (Pos, Pos), elem func(int), closePos Pos, comma bool) {
	p.tok(open)
	prevLine := openPos.Line
	broken := false
	lastEnd := openPos
	for i := 0; i < n; i++ {
		s, e := span(i)
		if s.Line > prevLine {
			broken = true
		}
		prevLine, lastEnd = e.Line, e
	}
	closeOwn := closePos.Line > lastEnd.Line && n > 0
	broken = broken || closeOwn
	if broken {
		p.indent++
	}
	p.elems(n, openPos.Line, span, elem)
	if closeOwn {
		if comma {
			p.text(",")
		}
		p.flush(closePos.Offset)
		p.endLine()
	} else {
		p.flush(closePos.Offset)
	}
	if broken {
		p.indent--
	}
	p.tok(close)
}

// seq prints n comma-separated elements without brackets (a return's values).
func (p *printer) seq(n int, span func(int) (Pos, Pos), elem func(int)) {
	broken := false
	for i := 1; i < n; i++ {
		s, _ := span(i)
		_, e := span(i - 1)
		broken = broken || s.Line > e.Line
	}
	if broken {
		p.indent++
	}
	p.elems(n, p.lastLine, span, elem)
	if broken {
		p.indent--
	}
}

func (p *printer) elems(n, line int, span func(int) (Pos, Pos), elem func(int)) {
	for i := 0; i < n; i++ {
		s, e := span(i)
		if i > 0 {
			p.tok(",")
		}
		p.flush(s.Offset)
		if s.Line > line {
			p.endLine()
		} else if i > 0 {
			p.space()
		}
		elem(i)
		line = e.Line
	}
}

func (p *printer) params(off int, params []*Param, comma bool) {
	open := p.tokenAt(off, "(")
	closeOff := open.pos.Offset
	if len(params) > 0 {
		closeOff = params[len(params)-1].EndPos.Offset
	}
	close := p.tokenAt(closeOff, ")")
	p.list("(", ")", open.pos, len(params), func(i int) (Pos, Pos) { return params[i].Pos, params[i].EndPos },
		func(i int) { p.param(params[i]) }, close.pos, comma)
}

func (p *printer) param(prm *Param) {
	p.tok(prm.Name)
	p.tok(":")
	p.space()
	p.typeExpr(prm.Type)
	if prm.Default != nil {
		p.space()
		p.tok("=")
		p.space()
		p.expr(prm.Default)
	}
}

func (p *printer) result(r *Result) {
	if r.Single != nil {
		p.typeExpr(r.Single)
		return
	}
	p.list("(", ")", r.Pos, len(r.Tuple), func(i int) (Pos, Pos) { return r.Tuple[i].Pos, r.Tuple[i].EndPos },
		func(i int) { p.typeExpr(r.Tuple[i]) }, p.closing(r.EndPos), false)
}

func (p *printer) typeExpr(t *TypeExpr) {
	if t.Shape != nil {
		p.exprList("[", "]", t.Shape.Pos, t.Shape.Dims, t.Shape.EndPos)
		return
	}
	p.tok(t.Named)
	if len(t.Args) > 0 {
		p.args(p.tokenAt(t.Pos.Offset, "(").pos, t.Args, t.EndPos, false)
	}
}

func (p *printer) exprList(open, close string, pos Pos, list []*Expr, end Pos) {
	p.list(open, close, pos, len(list), func(i int) (Pos, Pos) { return list[i].Pos, list[i].EndPos },
		func(i int) { p.expr(list[i]) }, p.closing(end), false)
}

func (p *printer) args(open Pos, args []*Arg, end Pos, comma bool) {
	p.list("(", ")", open, len(args), func(i int) (Pos, Pos) { return args[i].Pos, args[i].EndPos },
		func(i int) {
			a := args[i]
			if a.Name != "" {
				p.tok(a.Name)
				p.tok(":")
				p.space()
			}
			p.expr(a.Value)
		}, p.closing(end), comma)
}

// ---- expressions

func (p *printer) expr(e *Expr) {
	p.term(e.Left)
	p.binary(e.Left.EndPos, len(e.Rest), func(i int) (string, Pos, Pos) { return e.Rest[i].Op, e.Rest[i].Pos, e.Rest[i].Term.Pos },
		func(i int) { p.term(e.Rest[i].Term) }, func(i int) Pos { return e.Rest[i].EndPos })
}

func (p *printer) term(t *Term) {
	p.unary(t.Left)
	p.binary(t.Left.EndPos, len(t.Rest), func(i int) (string, Pos, Pos) { return t.Rest[i].Op, t.Rest[i].Pos, t.Rest[i].Unary.Pos },
		func(i int) { p.unary(t.Rest[i].Unary) }, func(i int) Pos { return t.Rest[i].EndPos })
}

// binary prints the operator steps of one precedence level: op gives each step's operator,
// its position and its operand's; a line break the source makes before an operator or
// after it is kept, the continued lines indented one level more.
func (p *printer) binary(leftEnd Pos, n int, op func(int) (string, Pos, Pos), operand func(int), end func(int) Pos) {
	broken := false
	prev := leftEnd
	for i := 0; i < n; i++ {
		_, opPos, argPos := op(i)
		broken = broken || opPos.Line > prev.Line || argPos.Line > opPos.Line
		prev = end(i)
	}
	if broken {
		p.indent++
	}
	prev = leftEnd
	for i := 0; i < n; i++ {
		o, opPos, argPos := op(i)
		p.flush(opPos.Offset)
		if opPos.Line > prev.Line {
			p.endLine()
		} else {
			p.space()
		}
		p.tok(o)
		p.flush(argPos.Offset)
		if argPos.Line > opPos.Line {
			p.endLine()
		} else {
			p.space()
		}
		operand(i)
		prev = end(i)
	}
	if broken {
		p.indent--
	}
}

func (p *printer) unary(u *Unary) {
	if u.Neg {
		p.tok("-")
	}
	p.postfix(u.Postfix)
}

func (p *printer) postfix(pf *Postfix) {
	p.primary(pf.Primary)
	for i, s := range pf.Suffix {
		if s.Index != nil {
			p.tok("[")
			p.expr(s.Index)
			p.tok("]")
			continue
		}
		if n := pf.Primary.Number; i == 0 && n != nil && !strings.ContainsAny(*n, ".eE") {
			p.space() // 1.x would lex as the float 1. and the name x
		}
		p.tok(".")
		p.tok(s.Field)
	}
}

func (p *printer) primary(pr *Primary) {
	switch {
	case pr.Number != nil:
		p.tok(*pr.Number)
	case pr.String != nil:
		p.tok(p.lastBefore(pr.EndPos.Offset).text) // the string's source text, escapes and all
	case pr.Call != nil:
		c := pr.Call
		p.tok(c.Func)
		p.args(p.tokenAt(c.Pos.Offset, "(").pos, c.Args, c.EndPos, true)
	case pr.List != nil:
		p.exprList("[", "]", pr.List.Pos, pr.List.Elems, pr.List.EndPos)
	case pr.Paren != nil:
		p.tok("(")
		p.expr(pr.Paren)
		p.tok(")")
	default:
		p.tok(pr.Ident)
	}
}

// TokenEnd is the position just past the token of src that starts at pos: where an editor
// ends the range of a diagnostic at pos. Where no token starts at pos (the end of the file,
// a character no token matches), it is pos one column on.
func TokenEnd(src []byte, pos Pos) Pos {
	end := pos
	end.Offset++
	end.Column++
	lx, err := dlLexer.Lex(pos.Filename, bytes.NewReader(src))
	if err != nil {
		return end
	}
	for {
		t, err := lx.Next()
		if err != nil || t.EOF() || t.Pos.Offset > pos.Offset {
			return end
		}
		if t.Pos.Offset == pos.Offset {
			end.Offset += len(t.Value) - 1
			end.Column += utf8.RuneCountInString(t.Value) - 1
			return end
		}
	}
}
