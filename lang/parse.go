package lang

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/ebnf"
	"github.com/alecthomas/participle/v2/lexer"
)

// dlTokens are the lexer's rules, tried in order at each position; the first that matches
// wins, so "->" is one token, 1e-3 and .5 are floats, and keywords lex as Ident (the grammar
// matches them by value). Comment and Whitespace are dropped before parsing.
var dlTokens = []lexer.SimpleRule{
	{Name: "Comment", Pattern: `(#|//)[^\n]*`},
	{Name: "Whitespace", Pattern: `[ \t\r\n]+`},
	{Name: "Float", Pattern: `\d+\.\d*([eE][-+]?\d+)?|\d+[eE][-+]?\d+|\.\d+([eE][-+]?\d+)?`},
	{Name: "Int", Pattern: `\d+`},
	{Name: "String", Pattern: `"(\\.|[^"\\\n])*"`},
	{Name: "Ident", Pattern: `[A-Za-z_][A-Za-z0-9_]*`},
	{Name: "Punct", Pattern: `->|[-+*/=:,.()\[\]{}]`},
}

var dlLexer = lexer.MustSimple(dlTokens)

// The parser commits to a branch as soon as it has consumed one token of it (lookahead 0),
// so an error is reported where the input went wrong ("return }" fails at "}", not at
// "return"). The few places that need two tokens to choose (a call or a name, a named
// argument, a trailing comma) say so with a lookahead group in their tag.
var parser = participle.MustBuild[File](
	participle.Lexer(dlLexer),
	participle.Elide("Comment", "Whitespace"),
	participle.Unquote("String"),
	participle.UseLookahead(0),
)

// maxNesting bounds the depth of brackets, so that a hostile input cannot overflow the stack
// of the recursive parser (a fatal error no recover catches). Real models nest a few levels.
const maxNesting = 500

// Parse parses the .dl source src; filename is used in positions.
// A syntax error is returned as a *Error at the first offending token, and so is nesting
// deeper than maxNesting brackets. Parse never panics. An empty file is an empty File.
func Parse(filename string, src []byte) (f *File, err error) {
	defer func() {
		// participle panics on some grammar invariants ("branch accepted but did not
		// progress"); no input should reach one, but a bad input must not crash the compiler.
		if r := recover(); r != nil {
			f, err = nil, &Error{Pos: lexer.Position{Filename: filename, Line: 1, Column: 1}, Msg: fmt.Sprintf("internal parser error: %v", r)}
		}
	}()
	toks, err := parser.Lex(filename, bytes.NewReader(src))
	if err != nil {
		return nil, syntaxError(filename, src, err)
	}
	if err := checkNesting(toks); err != nil {
		return nil, err
	}
	peek, err := lexer.Upgrade(&tokenList{toks: toks}, elided...)
	if err != nil {
		return nil, syntaxError(filename, src, err)
	}
	f, err = parser.ParseFromLexer(peek, participle.AllowTrailing(true))
	if err != nil {
		return nil, syntaxError(filename, src, err)
	}
	if tok := peek.Peek(); !tok.EOF() {
		// Every declaration parsed, but something that starts none follows them.
		return nil, Errorf(tok.Pos, "unexpected %s, want declaration", describe(*tok))
	}
	f.Name = filename
	return f, nil
}

var elided = []lexer.TokenType{dlLexer.Symbols()["Comment"], dlLexer.Symbols()["Whitespace"]}

// tokenList replays the tokens of one lexing to the parser.
type tokenList struct {
	toks []lexer.Token
	next int
}

func (l *tokenList) Next() (lexer.Token, error) {
	if l.next >= len(l.toks) {
		// Unreachable: parser.Lex ends the list with EOF, after which no one asks again.
		return lexer.EOFToken(lexer.Position{}), nil
	}
	l.next++
	return l.toks[l.next-1], nil
}

// checkNesting reports the first bracket that opens more than maxNesting levels deep.
func checkNesting(toks []lexer.Token) *Error {
	punct := dlLexer.Symbols()["Punct"]
	depth := 0
	for _, t := range toks {
		if t.Type != punct {
			continue
		}
		switch t.Value {
		case "(", "[", "{":
			if depth++; depth > maxNesting {
				return Errorf(t.Pos, "brackets nested too deeply (more than %d levels)", maxNesting)
			}
		case ")", "]", "}":
			depth--
		}
	}
	return nil
}

// syntaxError turns participle's lexer and parser errors into one short *Error.
func syntaxError(filename string, src []byte, err error) *Error {
	var (
		lexErr *lexer.Error
		unexp  *participle.UnexpectedTokenError
		perr   participle.Error
	)
	switch {
	case errors.As(err, &lexErr):
		return lexicalError(lexErr.Pos, src)
	case errors.As(err, &unexp):
		msg := "unexpected " + describe(unexp.Unexpected)
		if want := expected(unexp); want != "" {
			msg += ", want " + want
		}
		return &Error{Pos: unexp.Unexpected.Pos, Msg: msg}
	case errors.As(err, &perr):
		msg := perr.Message()
		if strings.HasPrefix(msg, "invalid quoted string") {
			msg = "invalid escape sequence in string"
		}
		return &Error{Pos: perr.Position(), Msg: msg}
	}
	return &Error{Pos: lexer.Position{Filename: filename, Line: 1, Column: 1}, Msg: err.Error()}
}

// lexicalError names the text at pos that no token rule matches.
func lexicalError(pos lexer.Position, src []byte) *Error {
	if pos.Offset >= len(src) {
		return &Error{Pos: pos, Msg: "unexpected end of file"}
	}
	r, _ := utf8.DecodeRune(src[pos.Offset:])
	switch {
	case r == '"':
		// The String rule allows any escape and forbids only a newline, so an unmatched
		// quote is one whose line (or the file) ends first.
		return &Error{Pos: pos, Msg: "unterminated string"}
	case r == utf8.RuneError:
		return &Error{Pos: pos, Msg: "invalid utf-8 encoding"}
	case unicode.IsPrint(r):
		return &Error{Pos: pos, Msg: fmt.Sprintf("invalid character %q", r)}
	default:
		return &Error{Pos: pos, Msg: fmt.Sprintf("invalid character %U", r)}
	}
}

// describe names a token for a message: a quoted literal, a string, or the end of the file.
func describe(tok lexer.Token) string {
	switch {
	case tok.EOF():
		return "end of file"
	case tok.Type == dlLexer.Symbols()["String"]:
		return fmt.Sprintf("string %q", tok.Value)
	}
	return fmt.Sprintf("%q", tok.Value)
}

// expected reads what participle says it expected (the rest of a grammar sequence, in EBNF)
// and names the tokens or rules that could come first there: ")" ("->" Result)? "{" ... is
// just `")"`, and "[" Expr "]" after a consumed "[" is `expression`.
func expected(e *participle.UnexpectedTokenError) string {
	msg := e.Message()
	i := strings.Index(msg, " (expected ")
	if i < 0 {
		// The only unlabelled failure that reaches here is the call lookahead of Primary,
		// (?= Ident "("), which fails where an expression must start; the golden tests
		// err_return_no_value and err_stray_equals hold this.
		return "expression"
	}
	rest := strings.TrimSuffix(msg[i+len(" (expected "):], ")")
	g, err := ebnf.ParseString("X = " + rest + " .")
	if err != nil || len(g.Productions) != 1 {
		return ""
	}
	var names []string
	seen := map[string]bool{}
	firstOf(g.Productions[0].Expression, func(name string) {
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	})
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// ruleWords are the words used in messages for the grammar's rules and token types.
var ruleWords = map[string]string{
	"Expr": "expression", "Term": "expression", "Unary": "expression", "Postfix": "expression",
	"Primary": "expression", "Call": "call", "Arg": "argument", "List": "list",
	"TypeExpr": "type", "ShapeLit": "shape", "Result": "result type",
	"Param": "parameter", "Setting": "setting", "Stmt": "statement", "Decl": "declaration",
	"ident": "name", "string": "string", "int": "number", "float": "number",
}

// firstOf calls emit for each thing that can start e, and reports whether e can match nothing.
func firstOf(e *ebnf.Expression, emit func(string)) (nullable bool) {
	for _, seq := range e.Alternatives {
		if firstOfSeq(seq, emit) {
			nullable = true
		}
	}
	return nullable
}

func firstOfSeq(s *ebnf.Sequence, emit func(string)) (nullable bool) {
	for _, t := range s.Terms {
		if !firstOfTerm(t, emit) {
			return false
		}
	}
	return true
}

func firstOfTerm(t *ebnf.Term, emit func(string)) (nullable bool) {
	optional := t.Repetition == "?" || t.Repetition == "*"
	switch {
	case t.Group != nil:
		if t.Group.Lookahead != ebnf.LookaheadAssertionNone {
			return true // matches no input
		}
		return firstOf(t.Group.Expr, emit) || optional
	case t.Literal != "":
		emit(t.Literal)
	case t.Token != "":
		emit(word(t.Token))
	case t.Name != "":
		emit(word(t.Name))
	}
	return optional
}

func word(name string) string {
	if w, ok := ruleWords[name]; ok {
		return w
	}
	return strings.ToLower(name)
}
