package lang

import (
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/alecthomas/participle/v2/ebnf"
)

var wordLiteral = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Keywords are the words the grammar matches by value (import, return, train, the block
// kinds, …), sorted: read from the parser's own grammar, so that an editor's highlighting
// grammar can be checked against it.
func Keywords() []string {
	g, err := ebnf.ParseString(parser.String())
	if err != nil {
		return nil // the parser's grammar always parses (TestGrammar prints it)
	}
	seen := map[string]bool{}
	for _, prod := range g.Productions {
		walkLiterals(prod.Expression, func(lit string) {
			if wordLiteral.MatchString(lit) {
				seen[lit] = true
			}
		})
	}
	var out []string
	for w := range seen {
		out = append(out, w)
	}
	slices.Sort(out)
	return out
}

func walkLiterals(e *ebnf.Expression, emit func(string)) {
	for _, seq := range e.Alternatives {
		for _, t := range seq.Terms {
			switch {
			case t.Literal != "":
				emit(strings.Trim(t.Literal, `"`))
			case t.Group != nil:
				walkLiterals(t.Group.Expr, emit)
			}
		}
	}
}

// BlockKinds are the kinds a block may have (encoder, decoder, …, model), in the grammar's
// order: the alternatives of Block.Kind's grammar tag.
func BlockKinds() []string {
	f, _ := reflect.TypeOf(Block{}).FieldByName("Kind")
	var out []string
	for _, part := range strings.Split(f.Tag.Get("parser"), "'") {
		if wordLiteral.MatchString(part) {
			out = append(out, part)
		}
	}
	return out
}
