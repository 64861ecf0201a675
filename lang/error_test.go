package lang

import (
	"errors"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
)

func pos(line, col int) lexer.Position {
	return lexer.Position{Filename: "a.dl", Line: line, Column: col}
}

func TestRender(t *testing.T) {
	src := []byte("model M(z: [B, 28, 28]) -> [B] {\n    h = relu(dense(z, 256))\n\t\tx = \ty\n}")
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{Errorf(pos(2, 14), "dense: got input %s, want rank 2 [B, F]", "[B, 28, 28]"),
			"a.dl:2:14: dense: got input [B, 28, 28], want rank 2 [B, F]\n" +
				"    h = relu(dense(z, 256))\n" +
				"             ^\n"},
		// Tabs before the column stay tabs so that the caret lines up in any tab width.
		{Errorf(pos(3, 8), "undefined: y"), "a.dl:3:8: undefined: y\n\t\tx = \ty\n\t\t    \t^\n"},
		// A position past the end of its line (end of file) puts the caret after it.
		{Errorf(pos(4, 3), "unexpected end of file"), "a.dl:4:3: unexpected end of file\n}\n  ^\n"},
		// A line that is not in src renders the message alone.
		{Errorf(pos(9, 1), "far away"), "a.dl:9:1: far away\n"},
		{errors.New("open a.dl: no such file"), "open a.dl: no such file\n"},
		{ErrorList{Errorf(pos(1, 1), "first"), Errorf(pos(2, 5), "second")},
			"a.dl:1:1: first\nmodel M(z: [B, 28, 28]) -> [B] {\n^\n" +
				"a.dl:2:5: second\n    h = relu(dense(z, 256))\n    ^\n"},
	}
	for _, tt := range tests {
		if got := Render(tt.err, src); got != tt.want {
			t.Errorf("Render(%v):\ngot:\n%s\nwant:\n%s", tt.err, got, tt.want)
		}
	}
}

// A diagnostic on a megabyte-long line shows a window of maxLineRunes around the caret,
// marked "…" where cut, and a message quoting a huge token is cut in the middle.
func TestRenderLongLine(t *testing.T) {
	long := strings.Repeat("a", 1<<20)
	src := []byte("x = " + long + "\n")
	for _, tt := range []struct {
		col        int
		head, tail bool // cut before, after
	}{{1, false, true}, {5 + 1<<19, true, true}, {5 + 1<<20, true, false}, {3 << 20, true, false}} {
		out := Render(Errorf(pos(1, tt.col), "unexpected %q", long), src)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(out) > 2000 || len(lines) != 3 {
			t.Errorf("column %d: %d bytes in %d lines", tt.col, len(out), len(lines))
			continue
		}
		shown := []rune(lines[1])
		if len(shown) > maxLineRunes+2 || strings.HasPrefix(lines[1], "…") != tt.head || strings.HasSuffix(lines[1], "…") != tt.tail {
			t.Errorf("column %d: shown %q", tt.col, lines[1])
		}
		// The caret is under the same character it points at in the full line.
		caret := strings.Index(lines[2], "^")
		full := []rune(string(src[:len(src)-1]))
		want := rune(' ')
		if tt.col-1 < len(full) {
			want = full[tt.col-1]
		}
		got := rune(' ')
		if caret < len(shown) {
			got = shown[caret]
		}
		if got != want && !(tt.col-1 >= len(full) && caret >= len(shown)) {
			t.Errorf("column %d: caret at %d under %q, want under %q", tt.col, caret, got, want)
		}
	}
}

func TestErrorList(t *testing.T) {
	var errs ErrorList
	if errs.Err() != nil {
		t.Fatal("empty ErrorList.Err() != nil")
	}
	errs = append(errs, Errorf(pos(3, 1), "c"), Errorf(pos(1, 9), "b"), Errorf(pos(1, 2), "a"))
	err := errs.Err()
	want := "a.dl:1:2: a\na.dl:1:9: b\na.dl:3:1: c"
	if err == nil || err.Error() != want {
		t.Errorf("ErrorList = %v, want %s", err, want)
	}
	if got := (&Error{Msg: "m"}).Error(); got != "<input>:0:0: m" {
		t.Errorf("Error with no position = %q", got)
	}
}
