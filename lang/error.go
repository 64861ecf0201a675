package lang

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// An Error is a diagnostic at a position in a .dl file. The parser returns one; later phases
// (name resolution, shape checking) return them too, so that every front-end message has the
// same form and can be rendered with its source line.
type Error struct {
	Pos lexer.Position
	Msg string // lower-case, no trailing period
}

// Errorf returns an *Error at pos with a formatted message.
func Errorf(pos lexer.Position, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// Error returns "file:line:col: msg".
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", posString(e.Pos), e.Msg)
}

func posString(p lexer.Position) string {
	name := p.Filename
	if name == "" {
		name = "<input>"
	}
	return fmt.Sprintf("%s:%d:%d", name, p.Line, p.Column)
}

// An ErrorList is several diagnostics, for a phase that reports more than the first.
type ErrorList []*Error

// Error prints every error, one per line.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Sort orders the list by file, then position.
func (l ErrorList) Sort() {
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.Pos.Filename, b.Pos.Filename),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Column, b.Pos.Column),
		)
	})
}

// Err returns nil for an empty list and the list, sorted, otherwise; a phase ends with
// `return errs.Err()` so that no error is a nil error interface.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	l.Sort()
	return l
}

// Render formats err for a person: each *Error (or each element of an ErrorList) as
// "file:line:col: msg", then the source line from src, then a caret under the column.
// Tabs before the column are kept in the caret line so that it lines up. Errors of other types,
// and errors whose line is not in src, are rendered as their Error() string alone.
// The result ends in a newline unless err is nil.
func Render(err error, src []byte) string {
	if err == nil {
		return ""
	}
	var list ErrorList
	var single *Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &single):
		list = ErrorList{single}
	default:
		return err.Error() + "\n"
	}
	var b strings.Builder
	for _, e := range list {
		b.WriteString(posString(e.Pos))
		b.WriteString(": ")
		b.WriteString(cutMiddle(e.Msg, maxMessageRunes))
		b.WriteByte('\n')
		line, ok := sourceLine(src, e.Pos.Line)
		if !ok {
			continue
		}
		shown, caret := window(printable(line), e.Pos.Column-1, maxLineRunes)
		b.WriteString(string(shown))
		b.WriteByte('\n')
		for i := 0; i < caret; i++ {
			if i < len(shown) && shown[i] == '\t' {
				b.WriteByte('\t')
			} else {
				b.WriteByte(' ') // past the end of the line too, e.g. a missing final token
			}
		}
		b.WriteString("^\n")
	}
	return b.String()
}

// A rendered diagnostic shows at most maxLineRunes of its source line and maxMessageRunes
// of its message: a generated or corrupted file may hold a megabyte on one line, and a
// parser message may quote a whole token of it.
const (
	maxLineRunes    = 160
	maxMessageRunes = 400
)

// window returns at most width runes of line around index col, with "…" where it was cut,
// and the index of col in the result.
func window(line []rune, col, width int) ([]rune, int) {
	col = max(min(col, len(line)+1), 0) // a caret far past the end goes just after it
	if len(line) <= width {
		return line, col
	}
	start := max(0, min(col-width/2, len(line)-width))
	end := min(len(line), start+width)
	var out []rune
	caret := col - start
	if start > 0 {
		out = append(out, '…')
		caret++
	}
	out = append(out, line[start:end]...)
	if end < len(line) {
		out = append(out, '…')
	}
	return out, caret
}

// printable returns the runes of line with control characters other than tab (a binary
// file's bytes, an escape sequence) shown as U+FFFD, so an echoed line cannot drive the
// terminal; one rune for one keeps the caret's column.
func printable(line string) []rune {
	r := []rune(line)
	for i, c := range r {
		if c != '\t' && (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
			r[i] = '\uFFFD'
		}
	}
	return r
}

// cutMiddle shortens s to about limit runes by replacing its middle with "…".
func cutMiddle(s string, limit int) string {
	r := []rune(s)
	if len(r) <= limit {
		return s
	}
	return string(r[:limit/2]) + "…" + string(r[len(r)-limit/2:])
}

// sourceLine returns line n (1-based) of src without its line ending.
func sourceLine(src []byte, n int) (string, bool) {
	if n < 1 {
		return "", false
	}
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(src, '\n')
		if j < 0 {
			return "", false
		}
		src = src[j+1:]
	}
	if j := bytes.IndexByte(src, '\n'); j >= 0 {
		src = src[:j]
	}
	return strings.TrimSuffix(string(src), "\r"), true
}
