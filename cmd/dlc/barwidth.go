package main

import (
	"io"
	"os"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// The progress bar's line must fit the terminal it is drawn on: a line one column too
// wide wraps, and every redraw then starts a new line, filling the screen with bars. The
// bar library measures stdout (the bar is on stderr), and its full-width mode can make the
// bar negative; so the width is worked out here, from the terminal stderr is, and the
// writer the bar draws through cuts any line that would still be too wide.

// defaultColumns is the width assumed when the stream is not a terminal (or says 0).
const defaultColumns = 80

// termColumns is the width of the terminal w writes to, or defaultColumns.
func termColumns(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if c, _, err := term.GetSize(int(f.Fd())); err == nil && c > 0 {
			return c
		}
	}
	return defaultColumns
}

// The parts of a bar's line besides its description and the bar itself, in columns at
// their widest: "100% |" and "| ", the rate "(123456 samples/s)" (or the count
// "(1234/1234, …)"), the times " [59m59s:59m59s]", and a column left free at the end, where
// a terminal's cursor would wrap.
const (
	barFrame   = len(" 100% |") + len("| ") + 1
	barRate    = len("(123456 samples/s)")
	barCount   = len("(123456/123456, )")
	barTimes   = len(" [59m59s:59m59s]")
	barMin     = 10 // the narrowest bar worth drawing
	barDefault = 40 // the library's width, the widest drawn
)

// barLayout chooses the options of a bar whose description has at most desc columns, for
// a terminal of cols columns: the bar as wide as fits (at most barDefault), and when even
// the narrowest bar does not fit, without the times, then without the rate. its names
// what is counted ("samples", "" for no rate); count shows done/total.
func barLayout(w io.Writer, cols, desc int, its string, count bool) []progressbar.Option {
	if cols <= 0 {
		cols = defaultColumns
	}
	opts := []progressbar.Option{progressbar.OptionSetWriter(fitWriter{w: w, cols: cols}), progressbar.OptionClearOnFinish()}
	rest := barFrame + barTimes
	if its != "" {
		rest += barRate
	}
	if count {
		rest += barCount
	}
	if desc+rest+barMin > cols {
		opts = append(opts, progressbar.OptionSetPredictTime(false))
		rest -= barTimes
	}
	if its != "" && desc+rest+barMin <= cols {
		opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString(its))
	} else if its != "" {
		rest -= barRate
	}
	if count {
		opts = append(opts, progressbar.OptionShowCount())
	}
	return append(opts, progressbar.OptionSetWidth(min(barDefault, max(barMin, cols-desc-rest))))
}

// fitWriter writes what the bar draws to w with each line (the text between carriage
// returns and newlines) cut to cols-1 columns: the last resort when a description is
// longer than the layout allowed for, and for the spaces that clear a bar, which the
// library counts from its widest line.
type fitWriter struct {
	w    io.Writer
	cols int
}

func (f fitWriter) Write(p []byte) (int, error) {
	if f.fits(p) {
		_, err := f.w.Write(p)
		if err != nil {
			return 0, err
		}
		return len(p), nil
	}
	out := make([]byte, 0, len(p))
	n := 0 // columns in the current line
	for q := p; len(q) > 0; {
		r, size := utf8.DecodeRune(q)
		switch {
		case r == '\r' || r == '\n':
			n = 0
			out = append(out, q[:size]...)
		case n < f.cols-1:
			n++
			out = append(out, q[:size]...)
		}
		q = q[size:]
	}
	if _, err := f.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// fits reports whether every line of p has at most cols-1 columns.
func (f fitWriter) fits(p []byte) bool {
	n := 0
	for len(p) > 0 {
		r, size := utf8.DecodeRune(p)
		if r == '\r' || r == '\n' {
			n = 0
		} else if n++; n > f.cols-1 {
			return false
		}
		p = p[size:]
	}
	return true
}
