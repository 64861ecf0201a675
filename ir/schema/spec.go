package schema

import (
	"strings"

	"github.com/dlc-lang/dlc/ir"
)

// spec.md's settings tables are rendered here from the tables themselves, so that the
// reference lists every setting and argument the compiler accepts, with its values and
// default. compiler's TestSpecTables writes them between their markers.

// SettingsTable renders a block's settings: name, values, default and meaning.
func SettingsTable(table []Setting) string {
	rows := make([][]string, len(table))
	for i := range table {
		s := &table[i]
		doc := s.Doc
		switch {
		case s.CallsIn != "":
			doc += " (" + s.CallsIn + ")"
		case s.Kind == CallOf:
			for _, c := range s.Calls {
				doc += "; `" + c.Signature() + "`: " + c.Doc + argsDoc(c, " (", ")")
			}
		}
		rows[i] = []string{s.Name, cell(s.Wants()), defaultDoc(s), cell(doc)}
	}
	return ir.MarkdownTable([]string{"setting", "values", "default", "meaning"}, rows)
}

// CallsTable renders calls (data sources, optimisers, initialisers): a row for each call,
// with what it does, then a row for each of its arguments, with its values and default.
func CallsTable(head string, calls []*Call) string {
	var sb strings.Builder
	sb.WriteString("| " + head + " | argument | values | default | meaning |\n|---|---|---|---|---|\n")
	for _, c := range calls {
		doc := c.Doc
		if len(c.Aliases) > 0 {
			doc += " (alias `" + strings.Join(c.Aliases, "`, `") + "`)"
		}
		sb.WriteString("| `" + c.Name + "` | | | | " + cell(doc) + " |\n")
		for i := range c.Args {
			a := &c.Args[i]
			sb.WriteString("| | `" + a.Name + "` | " + cell(a.Wants()) + " | " + defaultDoc(a) + " | " + cell(a.Doc) + " |\n")
		}
	}
	return sb.String()
}

// argsDoc lists a call's arguments as `name` (values, default): doc, between open and
// close.
func argsDoc(c *Call, open, close string) string {
	parts := make([]string, len(c.Args))
	for i := range c.Args {
		a := &c.Args[i]
		parts[i] = "`" + a.Name + "` (" + a.Wants() + "; " + defaultDoc(a) + "): " + a.Doc
	}
	return open + strings.Join(parts, "; ") + close
}

// defaultDoc writes a setting's default as the reference shows it.
func defaultDoc(s *Setting) string {
	switch {
	case s.Required:
		return "required"
	case s.Default == "" && s.Kind != String:
		return "none"
	}
	return "`" + s.Shown(s.Default) + "`"
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
