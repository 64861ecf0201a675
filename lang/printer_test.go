package lang

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// TestFormatGolden formats the in.dl of each testdata/fmt/*.txtar and compares the result
// with its out.dl (-update rewrites it). As go/printer's tests do, it also checks that the
// golden output re-parses and formats to itself, that it parses to the same tree as the
// input, and that it holds every comment of the input, in order.
func TestFormatGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/fmt/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test cases: %v", err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			in := section(ar, "in.dl")
			if in == nil {
				t.Fatalf("%s: no in.dl section", path)
			}
			got, err := Format("in.dl", in)
			if err != nil {
				t.Fatalf("Format: %v", err)
			}
			if *update {
				writeFormatGolden(t, path, ar, got)
				return
			}
			want := section(ar, "out.dl")
			if want == nil {
				t.Fatalf("%s: no out.dl section; run go test ./lang -run TestFormatGolden -update", path)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: formatted:\n%s\nwant:\n%s", path, got, want)
			}
			checkFormatted(t, "out.dl", in, want)
		})
	}
}

func writeFormatGolden(t *testing.T, path string, ar *txtar.Archive, got []byte) {
	out := &txtar.Archive{Comment: ar.Comment}
	for _, f := range ar.Files {
		if f.Name != "out.dl" {
			out.Files = append(out.Files, f)
		}
	}
	out.Files = append(out.Files, txtar.File{Name: "out.dl", Data: got})
	if err := os.WriteFile(path, txtar.Format(out), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkFormatted checks that out, the formatting of in, formats to itself, parses to the
// same tree as in and keeps in's comments.
func checkFormatted(t *testing.T, name string, in, out []byte) {
	t.Helper()
	again, err := Format(name, out)
	if err != nil {
		t.Fatalf("the formatted text does not parse: %v\n%s", err, out)
	}
	if !bytes.Equal(again, out) {
		t.Errorf("formatting is not idempotent; second pass:\n%s\nfirst:\n%s", again, out)
	}
	f1, err := Parse(name, in)
	if err != nil {
		t.Fatal(err)
	}
	f2, _ := Parse(name, out)
	if d1, d2 := treeText(f1), treeText(f2); d1 != d2 {
		t.Errorf("the formatted text parses to another tree:\n%s\nwant:\n%s", d2, d1)
	}
	if c1, c2 := commentTexts(in), commentTexts(out); strings.Join(c1, "\n") != strings.Join(c2, "\n") {
		t.Errorf("comments changed:\n%q\nwant:\n%q", c2, c1)
	}
}

var declPos = regexp.MustCompile(`(?m)^\d+:\d+ `)

// treeText is the Dump of f without the positions of its declarations.
func treeText(f *File) string { return declPos.ReplaceAllString(Dump(f), "") }

func commentTexts(src []byte) []string {
	p, err := newPrinter("x.dl", src)
	if err != nil {
		return nil
	}
	var out []string
	for _, c := range p.comments {
		out = append(out, c.text)
	}
	return out
}

// The files of the repository's examples and standard library are formatted here too, and
// the property checks hold for each (cmd/dlc's tests check they are formatted and compile
// to the same IR).
func TestFormatRepositoryFiles(t *testing.T) {
	var files []string
	for _, pat := range []string{"../examples/*/*.dl", "../stdlib/*.dl"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no .dl files found")
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Format(f, src)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		checkFormatted(t, f, src, out)
	}
}

// A syntax error is returned as a *Error at its position, and no text.
func TestFormatSyntaxError(t *testing.T) {
	out, err := Format("bad.dl", []byte("model M(x: [B]) {\n    h = relu(x\n}\n"))
	var e *Error
	if !errors.As(err, &e) || out != nil {
		t.Fatalf("Format = %q, %v; want a *lang.Error", out, err)
	}
	if got := e.Error(); !strings.HasPrefix(got, "bad.dl:3:1: ") {
		t.Errorf("error %q, want it at bad.dl:3:1", got)
	}
}

// Formatting an empty file, or one of blank lines, gives an empty file.
func TestFormatEmpty(t *testing.T) {
	for _, src := range []string{"", "\n\n", "  \n"} {
		out, err := Format("e.dl", []byte(src))
		if err != nil || len(out) != 0 {
			t.Errorf("Format(%q) = %q, %v; want empty", src, out, err)
		}
	}
}

func TestTokenEnd(t *testing.T) {
	src := []byte("model M(x: [B, 4]) {\n    return dense(x, 4)\n}\n")
	for _, tc := range []struct{ line, col, endCol int }{{2, 12, 17}, {2, 5, 11}, {1, 8, 9}, {3, 2, 3}} {
		off := bytes.Index(src, []byte("\n"))
		start := 0
		if tc.line > 1 {
			start = off + 1
			for l := 2; l < tc.line; l++ {
				start += bytes.IndexByte(src[start:], '\n') + 1
			}
		}
		pos := Pos{Line: tc.line, Column: tc.col, Offset: start + tc.col - 1}
		if got := TokenEnd(src, pos); got.Column != tc.endCol || got.Line != tc.line {
			t.Errorf("TokenEnd(%d:%d) = %d:%d, want %d:%d", tc.line, tc.col, got.Line, got.Column, tc.line, tc.endCol)
		}
	}
}

// FuzzFormat: whatever parses formats without error to a text that parses to the same
// tree, keeps every comment and formats to itself.
func FuzzFormat(f *testing.F) {
	for _, pat := range []string{"testdata/fmt/*.txtar", "testdata/*.txtar"} {
		files, _ := filepath.Glob(pat)
		for _, path := range files {
			if ar, err := txtar.ParseFile(path); err == nil {
				f.Add(section(ar, "in.dl"))
			}
		}
	}
	for _, pat := range []string{"../examples/*/*.dl", "../stdlib/*.dl"} {
		files, _ := filepath.Glob(pat)
		for _, path := range files {
			if b, err := os.ReadFile(path); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if _, err := Parse("fuzz.dl", src); err != nil {
			if out, err := Format("fuzz.dl", src); err == nil || out != nil {
				t.Fatalf("Format of a text that does not parse: %q, %v", out, err)
			}
			return
		}
		out, err := Format("fuzz.dl", src)
		if err != nil {
			t.Fatalf("Format: %v", err)
		}
		checkFormatted(t, "fuzz.dl", src, out)
	})
}

// Comments and line breaks put between any two tokens of the examples are kept, in order,
// and the result still formats to itself and parses to the same tree. The places are drawn
// with a fixed seed.
func TestFormatCommentsAnywhere(t *testing.T) {
	files, _ := filepath.Glob("../examples/*/*.dl")
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		p, err := newPrinter(file, src)
		if err != nil {
			t.Fatal(err)
		}
		for trial := 0; trial < 8; trial++ {
			var b bytes.Buffer
			last := 0
			for i, tok := range p.toks {
				b.Write(src[last:tok.pos.Offset])
				last = tok.pos.Offset
				switch rng.IntN(12) {
				case 0:
					fmt.Fprintf(&b, " # c%d\n", i)
				case 1:
					fmt.Fprintf(&b, "\n// own %d\n", i)
				case 2:
					b.WriteString("\n")
				case 3:
					b.WriteString("\n\n")
				}
			}
			b.Write(src[last:])
			in := b.Bytes()
			out, err := Format(file, in)
			if err != nil {
				t.Fatalf("%s trial %d: %v\n%s", file, trial, err, in)
			}
			t.Run(fmt.Sprintf("%s/%d", filepath.Base(file), trial), func(t *testing.T) { checkFormatted(t, file, in, out) })
		}
	}
}

// CRLF line ends and tab indentation format to the canonical newlines and spaces.
func TestFormatCRLFAndTabs(t *testing.T) {
	in := []byte("model M(x: [B, 4]) -> [B, 4] {\r\n\th = relu(x)\t# r\r\n\treturn h\r\n}\r\n")
	out, err := Format("crlf.dl", in)
	if err != nil {
		t.Fatal(err)
	}
	if want := "model M(x: [B, 4]) -> [B, 4] {\n    h = relu(x) # r\n    return h\n}\n"; string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
	checkFormatted(t, "crlf.dl", in, out)
}
