package ir

import (
	"fmt"
	"strconv"
)

// The IR text is line-oriented: every line is lexed on its own into tokens, and a '#'
// outside a string ends the line's tokens and starts its comment.

type tokKind int

const (
	tEOL    tokKind = iota // end of the line's tokens
	tIdent                 // AE.step, grad:Enc.w, f32, true
	tNumber                // 3, -1, 0.5, 1e-05, +Inf
	tString                // "quoted", already unquoted in text
	tPunct                 // one of % @ = , : [ ] ( ) { } *
)

type token struct {
	kind tokKind
	text string
	col  int // 1-based byte column
}

// String describes the token in messages: "end of line", or its text quoted.
func (t token) String() string {
	if t.kind == tEOL {
		return "end of line"
	}
	return strconv.Quote(t.text)
}

func isLetter(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// lexLine splits line into tokens (the last one tEOL) and the text of its comment, if any
// (hasComment tells an empty comment from none). Its error is located at a column.
func lexLine(line string) (toks []token, comment string, hasComment bool, errCol int, err error) {
	i := 0
	for i < len(line) {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			toks = append(toks, token{kind: tEOL, col: i + 1})
			return toks, line[i+1:], true, 0, nil
		case isLetter(c):
			j := lexIdent(line, i)
			toks = append(toks, token{kind: tIdent, text: line[i:j], col: i + 1})
			i = j
		case isDigit(c) || (c == '-' || c == '+') && i+1 < len(line) && (isDigit(line[i+1]) || line[i+1] == 'I'):
			j := lexNumber(line, i)
			toks = append(toks, token{kind: tNumber, text: line[i:j], col: i + 1})
			i = j
		case c == '"':
			q, qerr := strconv.QuotedPrefix(line[i:])
			if qerr != nil {
				return nil, "", false, i + 1, fmt.Errorf("malformed string literal")
			}
			s, qerr := strconv.Unquote(q)
			if qerr != nil {
				return nil, "", false, i + 1, fmt.Errorf("malformed string literal")
			}
			toks = append(toks, token{kind: tString, text: s, col: i + 1})
			i += len(q)
		case c == '%' || c == '@' || c == '=' || c == ',' || c == ':' || c == '[' || c == ']' ||
			c == '(' || c == ')' || c == '{' || c == '}' || c == '*':
			toks = append(toks, token{kind: tPunct, text: line[i : i+1], col: i + 1})
			i++
		default:
			return nil, "", false, i + 1, fmt.Errorf("unexpected character %q", rune(c))
		}
	}
	toks = append(toks, token{kind: tEOL, col: len(line) + 1})
	return toks, "", false, 0, nil
}

// lexIdent returns the end of the identifier at line[i]: letters, digits, _ and ., in parts
// joined by ':' where the part after a ':' starts with a letter (so %x:0 is %x, ':', 0).
func lexIdent(line string, i int) int {
	for {
		for i < len(line) && (isLetter(line[i]) || isDigit(line[i]) || line[i] == '.') {
			i++
		}
		if i+1 < len(line) && line[i] == ':' && isLetter(line[i+1]) {
			i++
			continue
		}
		return i
	}
}

// lexNumber returns the end of the number at line[i]: an optional sign, then Inf or NaN, or
// digits with an optional fraction and exponent. strconv judges it later.
func lexNumber(line string, i int) int {
	if line[i] == '-' || line[i] == '+' {
		i++
	}
	if i < len(line) && isLetter(line[i]) {
		for i < len(line) && isLetter(line[i]) {
			i++
		}
		return i
	}
	digits := func() {
		for i < len(line) && isDigit(line[i]) {
			i++
		}
	}
	digits()
	if i < len(line) && line[i] == '.' {
		i++
		digits()
	}
	if i < len(line) && (line[i] == 'e' || line[i] == 'E') {
		i++
		if i < len(line) && (line[i] == '+' || line[i] == '-') {
			i++
		}
		digits()
	}
	return i
}
