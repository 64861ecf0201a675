package ir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Each testdata/errors/*.ir file is IR text whose first line is
//
//	# error: LINE:COL: message
//
// the error Parse must return (after the file name). -update rewrites that line.
func TestParseErrors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "errors", "*.ir"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no error cases (%v)", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			first, rest, _ := strings.Cut(string(src), "\n")
			want, ok := strings.CutPrefix(first, "# error: ")
			if !ok && !*update {
				t.Fatalf("first line %q, want # error: LINE:COL: message", first)
			}
			_, perr := Parse(path, src)
			if perr == nil {
				t.Fatalf("parsed without error, want %s", want)
			}
			var e *Error
			if !errors.As(perr, &e) {
				t.Errorf("error is %T, want *Error", perr)
			}
			got := strings.TrimPrefix(perr.Error(), path+":")
			if *update {
				if !ok {
					rest = string(src)
				}
				if err := os.WriteFile(path, []byte("# error: "+got+"\n"+rest), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "\n\n", "# only a comment\n"} {
		m, err := Parse("empty.ir", []byte(src))
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		if len(m.Funcs) != 0 || m.Train != nil || m.String() != "" {
			t.Errorf("Parse(%q) = %q, want an empty module", src, m.String())
		}
	}
}

// TestParseTolerant checks inputs the printer does not write but a person might: extra
// spaces, comments between ops, CRLF line ends, fields in another order.
func TestParseTolerant(t *testing.T) {
	src := "# a module\r\n" +
		"func @f( %x : f32[ B , 4 ] ) {  # ignored\r\n" +
		"  # the input\r\n" +
		"  %x:0=input{name=\"x\"}:f32[B,4]#a.dl:1:2\r\n" +
		"\r\n" +
		"  %1 = relu %x : f32[B,4]\r\n" +
		"  output y = %1\r\n" +
		"}\r\n"
	m, err := Parse("t.ir", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := "func @f(%x: f32[B,4]) {\n" +
		"  %x:0 = input {name=\"x\"} : f32[B,4]  # a.dl:1:2\n" +
		"  %1 = relu %x : f32[B,4]\n" +
		"  output y = %1\n" +
		"}\n"
	if got := m.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
