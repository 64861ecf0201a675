package lang

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

var dlLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Comment", Pattern: `(#|//)[^\n]*`},
	{Name: "Whitespace", Pattern: `[ \t\r\n]+`},
	{Name: "Float", Pattern: `\d+\.\d*([eE][-+]?\d+)?|\d+[eE][-+]?\d+|\.\d+([eE][-+]?\d+)?`},
	{Name: "Int", Pattern: `\d+`},
	{Name: "String", Pattern: `"(\\.|[^"\\\n])*"`},
	{Name: "Ident", Pattern: `[A-Za-z_][A-Za-z0-9_]*`},
	{Name: "Punct", Pattern: `->|[-+*/=:,.()\[\]{}]`},
})

var parser = participle.MustBuild[File](
	participle.Lexer(dlLexer),
	participle.Elide("Comment", "Whitespace"),
	participle.Unquote("String"),
	participle.UseLookahead(3),
)

// Parse parses the .dl source src; filename is used in positions.
func Parse(filename string, src []byte) (*File, error) {
	f, err := parser.ParseBytes(filename, src)
	if err != nil {
		return nil, err
	}
	f.Name = filename
	return f, nil
}
