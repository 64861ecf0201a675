package compiler

// Queries by source position, for editors (dlc lsp): the value an expression or a binding
// has once the file is lowered, and where a name is defined. Analyze lowers the program as
// Compile does, but with a table that the lowerer fills as it evaluates: each expression's
// span with the value it evaluated to (a tensor's shape, with its symbolic dimensions kept,
// or a constant), and each binding's name with the value bound. A block lowered more than
// once (a helper called with two widths, a family lowered for training and evaluation)
// records each distinct value once.

import (
	"sort"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// Span is a range of a source file, from Start to just before End.
type Span struct{ Start, End lang.Pos }

type spanKey struct {
	file       string
	start, end int
}

// valueTable holds the values seen at each span, in the order first seen.
type valueTable struct {
	spans map[spanKey]*valueSpan
}

type valueSpan struct {
	span  Span
	texts []string
}

func (t *valueTable) add(start, end lang.Pos, v value) {
	if t == nil || start.Filename == "" {
		return
	}
	k := spanKey{start.Filename, start.Offset, end.Offset}
	s := t.spans[k]
	if s == nil {
		s = &valueSpan{span: Span{start, end}}
		t.spans[k] = s
	}
	text := valueText(v)
	for _, old := range s.texts {
		if old == text {
			return
		}
	}
	s.texts = append(s.texts, text)
}

// valueText is how a hover shows a value: a tensor as its shape ([B, 64, 14, 14]).
func valueText(v value) string {
	if v.kind == kTensor && v.op != nil {
		if v.op.Type.DType == ir.DTypeI32 {
			return v.op.Type.Shape.String() + " (indices)"
		}
		return v.op.Type.Shape.String()
	}
	return v.String()
}

// nameEnd is the position just past a name that starts at pos.
func nameEnd(pos lang.Pos, name string) lang.Pos {
	pos.Offset += len(name)
	pos.Column += len([]rune(name))
	return pos
}

// recordValue notes that the source from start to end evaluated to v (when Analyze asked).
func (p *Program) recordValue(start, end lang.Pos, v value) { p.values.add(start, end, v) }

// Analyze loads, resolves and lowers filename as Compile does, recording the value of each
// expression and binding for ValueAt. It returns the program even when compiling fails, so
// that the names and values found before the error can still be queried; the program is
// nil only when the file does not parse.
func Analyze(filename string, src []byte, opts Options) (*Program, error) {
	p, err := Load(filename, src, opts)
	if err != nil {
		return p, err
	}
	p.values = &valueTable{spans: map[spanKey]*valueSpan{}}
	if err := p.Resolve(); err != nil {
		return p, err
	}
	m, err := p.Lower()
	if err != nil {
		return p, err
	}
	return p, checkRunnable(m)
}

// ValueAt is the value of the innermost expression or binding of file that holds the byte
// offset off: a tensor's shape such as [B, 64, 14, 14], or a constant; several values,
// separated by " | ", when the block was lowered with different ones. ok is false when
// nothing recorded covers off.
func (p *Program) ValueAt(file string, off int) (span Span, text string, ok bool) {
	if p == nil || p.values == nil {
		return Span{}, "", false
	}
	best := -1
	for k, s := range p.values.spans {
		if k.file != file || off < k.start || off >= k.end {
			continue
		}
		if n := k.end - k.start; best < 0 || n < best {
			best, span, text = n, s.span, strings.Join(s.texts, " | ")
		}
	}
	return span, text, best >= 0
}

// DefinitionAt is where the name at byte offset off of file is defined: a block or family
// (in whichever loaded file declares it), a binding or parameter of the enclosing block or
// phase, or, on an import's path, the imported file. ok is false when off is on no name,
// or on one defined nowhere in a file (a builtin, or a block of the embedded standard
// library, whose positions name std/… rather than a file).
func (p *Program) DefinitionAt(file string, off int) (lang.Pos, bool) {
	var f *lang.File
	for _, ff := range p.Files {
		if ff.Name == file {
			f = ff
		}
	}
	if f == nil {
		return lang.Pos{}, false
	}
	for _, d := range f.Decls {
		if off < d.Pos.Offset || off >= d.EndPos.Offset {
			continue
		}
		switch {
		case d.Import != nil:
			return p.importedFile(file, d.Import)
		case d.Block != nil:
			return p.defineIn(off, d.Block.Params, d.Block.Body, p.nameAt(off, blockNames(d.Block)))
		case d.Family != nil:
			var names []nameUse
			for _, prm := range d.Family.Params {
				names = append(names, typeNames(prm.Type)...)
			}
			for _, s := range d.Family.Settings {
				names = append(names, exprNames(s.Value)...)
			}
			return p.defineIn(off, d.Family.Params, nil, p.nameAt(off, names))
		case d.Train != nil:
			return p.defineTrain(f, off, d.Train)
		}
	}
	return lang.Pos{}, false
}

func (p *Program) importedFile(from string, imp *lang.Import) (lang.Pos, bool) {
	if strings.HasPrefix(imp.Path, "std/") {
		return lang.Pos{}, false
	}
	for _, f := range p.Files {
		if strings.HasSuffix(f.Name, imp.Path) && f.Name != from {
			return lang.Pos{Filename: f.Name, Line: 1, Column: 1}, true
		}
	}
	return lang.Pos{}, false
}

// nameUse is a name as it occurs in the source, with its position.
type nameUse struct {
	name string
	pos  lang.Pos
}

// nameAt is the use among names that covers offset off.
func (p *Program) nameAt(off int, names []nameUse) *nameUse {
	for i, n := range names {
		if off >= n.pos.Offset && off < n.pos.Offset+len(n.name) {
			return &names[i]
		}
	}
	return nil
}

// defineIn resolves use inside a block or phase with params and body: the last binding of
// the name before the use, or the parameter, or else a block or family of the program.
func (p *Program) defineIn(off int, params []*lang.Param, body []*lang.Stmt, use *nameUse) (lang.Pos, bool) {
	if use == nil {
		return lang.Pos{}, false
	}
	var at lang.Pos
	found := false
	for _, s := range body {
		if s.EndPos.Offset > use.pos.Offset {
			break
		}
		switch {
		case s.Assign != nil && s.Assign.Name == use.name:
			at, found = s.Assign.Pos, true
		case s.Unpack != nil:
			for _, n := range s.Unpack.Names {
				if n == use.name {
					at, found = s.Unpack.Pos, true
				}
			}
		}
	}
	if found {
		return at, true
	}
	for _, prm := range params {
		if prm.Name == use.name {
			return prm.Pos, true
		}
	}
	return p.declaration(use.name)
}

// declaration is where the block or family name is declared, in a file of the program.
func (p *Program) declaration(name string) (lang.Pos, bool) {
	var pos lang.Pos
	if b := p.blocks[name]; b != nil {
		pos = b.Pos
	} else if f := p.families[name]; f != nil {
		pos = f.Pos
	} else {
		return lang.Pos{}, false
	}
	return pos, !strings.HasPrefix(pos.Filename, "std/")
}

func (p *Program) defineTrain(f *lang.File, off int, t *lang.Train) (lang.Pos, bool) {
	src := p.Sources[f.Name]
	// The target's name follows "train" and a space or more.
	if i := strings.Index(string(src[t.Pos.Offset:t.EndPos.Offset]), t.Target); i >= 0 {
		start := t.Pos.Offset + i
		if off >= start && off < start+len(t.Target) {
			return p.declaration(t.Target)
		}
	}
	var names []nameUse
	for _, prm := range t.Params {
		names = append(names, typeNames(prm.Type)...)
		if prm.Default != nil {
			names = append(names, exprNames(prm.Default)...)
		}
	}
	for _, s := range t.Settings {
		names = append(names, exprNames(s.Value)...)
	}
	if use := p.nameAt(off, names); use != nil {
		return p.defineIn(off, t.Params, nil, use)
	}
	for _, ph := range t.Phases {
		if off >= ph.Pos.Offset && off < ph.EndPos.Offset {
			return p.defineIn(off, t.Params, ph.Body, p.nameAt(off, stmtNames(ph.Body)))
		}
	}
	return lang.Pos{}, false
}

func blockNames(b *lang.Block) []nameUse {
	var out []nameUse
	for _, prm := range b.Params {
		out = append(out, typeNames(prm.Type)...)
		if prm.Default != nil {
			out = append(out, exprNames(prm.Default)...)
		}
	}
	for _, t := range b.Result.Types() {
		out = append(out, typeNames(t)...)
	}
	return append(out, stmtNames(b.Body)...)
}

func stmtNames(body []*lang.Stmt) []nameUse {
	var out []nameUse
	for _, s := range body {
		switch {
		case s.Assign != nil:
			out = append(out, exprNames(s.Assign.Value)...)
		case s.Unpack != nil:
			out = append(out, exprNames(s.Unpack.Value)...)
		default:
			for _, e := range s.Return {
				out = append(out, exprNames(e)...)
			}
		}
	}
	return out
}

func typeNames(t *lang.TypeExpr) []nameUse {
	if t == nil {
		return nil
	}
	if t.Shape != nil {
		var out []nameUse
		for _, d := range t.Shape.Dims {
			out = append(out, exprNames(d)...)
		}
		return out
	}
	out := []nameUse{{t.Named, t.Pos}}
	for _, a := range t.Args {
		out = append(out, exprNames(a.Value)...)
	}
	return out
}

// exprNames lists the names an expression uses: identifiers and called blocks, in order.
func exprNames(e *lang.Expr) []nameUse {
	var out []nameUse
	var expr func(e *lang.Expr)
	unary := func(u *lang.Unary) {
		pr := u.Postfix.Primary
		switch {
		case pr.Call != nil:
			out = append(out, nameUse{pr.Call.Func, pr.Call.Pos})
			for _, a := range pr.Call.Args {
				expr(a.Value)
			}
		case pr.List != nil:
			for _, x := range pr.List.Elems {
				expr(x)
			}
		case pr.Paren != nil:
			expr(pr.Paren)
		case pr.Ident != "":
			out = append(out, nameUse{pr.Ident, pr.Pos})
		}
		for _, s := range u.Postfix.Suffix {
			if s.Index != nil {
				expr(s.Index)
			}
		}
	}
	term := func(t *lang.Term) {
		unary(t.Left)
		for _, r := range t.Rest {
			unary(r.Unary)
		}
	}
	expr = func(e *lang.Expr) {
		if e == nil {
			return
		}
		term(e.Left)
		for _, r := range e.Rest {
			term(r.Term)
		}
	}
	expr(e)
	sort.SliceStable(out, func(i, j int) bool { return out[i].pos.Offset < out[j].pos.Offset })
	return out
}
