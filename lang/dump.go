package lang

import (
	"fmt"
	"strings"
)

// Dump prints f as an indented outline for tests and debugging: one line per declaration,
// headed by its line:col, then one indented line per parameter, result, setting and statement.
// Expressions are printed on one line with the structure made explicit: operators as
// add, sub, mul, div and neg, indexing as index(x, i), and calls as name(args), so that
// 1 + 2 * 3 prints as add(1, mul(2, 3)). A parenthesised expression prints as its contents.
// Dump accepts any *File, including one with nil nodes, and never panics.
func Dump(f *File) string {
	var b strings.Builder
	if f == nil {
		return ""
	}
	for _, d := range f.Decls {
		if d == nil {
			continue
		}
		fmt.Fprintf(&b, "%d:%d ", d.Pos.Line, d.Pos.Column)
		switch {
		case d.Import != nil:
			fmt.Fprintf(&b, "import %q\n", d.Import.Path)
		case d.Block != nil:
			bl := d.Block
			fmt.Fprintf(&b, "%s %s\n", bl.Kind, bl.Name)
			dumpParams(&b, bl.Params)
			if bl.Result != nil {
				fmt.Fprintf(&b, "  -> %s\n", resultString(bl.Result))
			}
			dumpStmts(&b, bl.Body, "  ")
		case d.Family != nil:
			fmt.Fprintf(&b, "%s %s\n", d.Family.Kind, d.Family.Name)
			dumpParams(&b, d.Family.Params)
			for _, s := range d.Family.Settings {
				dumpSetting(&b, s)
			}
		case d.Train != nil:
			fmt.Fprintf(&b, "train %s\n", d.Train.Target)
			dumpParams(&b, d.Train.Params)
			for _, s := range d.Train.Settings {
				dumpSetting(&b, s)
			}
			for _, ph := range d.Train.Phases {
				if ph != nil {
					fmt.Fprintf(&b, "  phase %s\n", ph.Name)
					dumpStmts(&b, ph.Body, "    ")
				}
			}
		default:
			b.WriteString("?\n")
		}
	}
	return b.String()
}

func dumpStmts(b *strings.Builder, body []*Stmt, indent string) {
	for _, s := range body {
		switch {
		case s == nil:
		case s.Unpack != nil:
			fmt.Fprintf(b, "%s%s = %s\n", indent, strings.Join(s.Unpack.Names, ", "), exprString(s.Unpack.Value))
		case s.Assign != nil:
			fmt.Fprintf(b, "%s%s = %s\n", indent, s.Assign.Name, exprString(s.Assign.Value))
		default:
			fmt.Fprintf(b, "%sreturn %s\n", indent, exprList(s.Return))
		}
	}
}

func dumpParams(b *strings.Builder, params []*Param) {
	for _, p := range params {
		if p == nil {
			continue
		}
		fmt.Fprintf(b, "  param %s: %s", p.Name, typeString(p.Type))
		if p.Default != nil {
			fmt.Fprintf(b, " = %s", exprString(p.Default))
		}
		b.WriteByte('\n')
	}
}

func dumpSetting(b *strings.Builder, s *Setting) {
	if s != nil {
		fmt.Fprintf(b, "  %s = %s\n", s.Name, exprString(s.Value))
	}
}

func resultString(r *Result) string {
	if r.Single != nil {
		return typeString(r.Single)
	}
	ts := make([]string, len(r.Tuple))
	for i, t := range r.Tuple {
		ts[i] = typeString(t)
	}
	return "(" + strings.Join(ts, ", ") + ")"
}

func typeString(t *TypeExpr) string {
	switch {
	case t == nil:
		return "?"
	case t.Shape != nil:
		return "[" + exprList(t.Shape.Dims) + "]"
	case t.Args != nil:
		return t.Named + "(" + argList(t.Args) + ")"
	}
	return t.Named
}

func argList(as []*Arg) string {
	args := make([]string, len(as))
	for i, a := range as {
		switch {
		case a == nil:
			args[i] = "?"
		case a.Name != "":
			args[i] = a.Name + ": " + exprString(a.Value)
		default:
			args[i] = exprString(a.Value)
		}
	}
	return strings.Join(args, ", ")
}

func exprList(es []*Expr) string {
	ss := make([]string, len(es))
	for i, e := range es {
		ss[i] = exprString(e)
	}
	return strings.Join(ss, ", ")
}

var opNames = map[string]string{"+": "add", "-": "sub", "*": "mul", "/": "div"}

func exprString(e *Expr) string {
	if e == nil {
		return "?"
	}
	s := termString(e.Left)
	for _, r := range e.Rest {
		if r != nil {
			s = fmt.Sprintf("%s(%s, %s)", opNames[r.Op], s, termString(r.Term))
		}
	}
	return s
}

func termString(t *Term) string {
	if t == nil {
		return "?"
	}
	s := unaryString(t.Left)
	for _, r := range t.Rest {
		if r != nil {
			s = fmt.Sprintf("%s(%s, %s)", opNames[r.Op], s, unaryString(r.Unary))
		}
	}
	return s
}

func unaryString(u *Unary) string {
	if u == nil {
		return "?"
	}
	s := postfixString(u.Postfix)
	if u.Neg {
		s = "neg(" + s + ")"
	}
	return s
}

func postfixString(p *Postfix) string {
	if p == nil {
		return "?"
	}
	s := primaryString(p.Primary)
	for _, x := range p.Suffix {
		switch {
		case x == nil:
		case x.Index != nil:
			s = fmt.Sprintf("index(%s, %s)", s, exprString(x.Index))
		default:
			s += "." + x.Field
		}
	}
	return s
}

func primaryString(p *Primary) string {
	switch {
	case p == nil:
		return "?"
	case p.Number != nil:
		return *p.Number
	case p.String != nil:
		return fmt.Sprintf("%q", *p.String)
	case p.Call != nil:
		return p.Call.Func + "(" + argList(p.Call.Args) + ")"
	case p.List != nil:
		return "[" + exprList(p.List.Elems) + "]"
	case p.Paren != nil:
		return exprString(p.Paren)
	}
	return p.Ident
}
