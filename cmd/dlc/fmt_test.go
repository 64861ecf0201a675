package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/lang"
)

// dlSource is one .dl text of the repository: a file, or a ```dl block of a document.
type dlSource struct {
	name string // how messages name it
	file string // the file name to compile it as
	src  []byte
}

var dlBlock = regexp.MustCompile("(?s)```dl\n(.*?)```")

// repoSources are the .dl texts that must be formatted: examples/, stdlib/ and the dl
// blocks of spec.md and README.md.
func repoSources(t *testing.T) []dlSource {
	t.Helper()
	var out []dlSource
	for _, pat := range []string{"../../examples/*/*.dl", "../../stdlib/*.dl"} {
		files, _ := filepath.Glob(pat)
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, dlSource{strings.TrimPrefix(f, "../../"), f, src})
		}
	}
	for _, doc := range []string{"spec.md", "README.md"} {
		text, err := os.ReadFile("../../" + doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range dlBlock.FindAllSubmatchIndex(text, -1) {
			line := bytes.Count(text[:m[2]], []byte("\n")) + 1
			out = append(out, dlSource{fmt.Sprintf("%s's dl block at line %d", doc, line), "spec.dl", text[m[2]:m[3]]})
		}
	}
	if len(out) < 30 {
		t.Fatalf("found %d .dl texts, want the examples, stdlib and the documents' blocks", len(out))
	}
	return out
}

var irPosComment = regexp.MustCompile(`(?m)\s+# \S+:\d+:\d+$`)

// irText is the optimised IR of a .dl text without its source positions (which move when
// formatting changes a line's spacing), or the message of the error it fails with.
func irText(file string, src []byte) string {
	m, _, err := compiler.Compile(file, src, compiler.Options{Optimize: true})
	if err != nil {
		var le *lang.Error
		if errors.As(err, &le) {
			return "error: " + le.Msg
		}
		return "error: " + irPosComment.ReplaceAllString(err.Error(), "")
	}
	return irPosComment.ReplaceAllString(m.String(), "")
}

// dlc fmt leaves the IR alone: every example, standard file and document block formats to
// a text that formats to itself and compiles to the same IR as the original (the same
// error, for the documents' error examples). The standard files are the prelude the
// compiler embeds, so they are compared as trees (lang's TestFormatRepositoryFiles) rather
// than compiled on their own.
func TestFormatKeepsIR(t *testing.T) {
	n, compiled := 0, 0
	for _, s := range repoSources(t) {
		out, err := lang.Format(s.file, s.src)
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			continue
		}
		again, err := lang.Format(s.file, out)
		if err != nil || !bytes.Equal(again, out) {
			t.Errorf("%s: a second pass changes the formatted text (%v)", s.name, err)
		}
		n++
		if strings.HasPrefix(s.name, "stdlib/") {
			continue
		}
		if a, b := irText(s.file, s.src), irText(s.file, out); a != b {
			t.Errorf("%s: the formatted text compiles to another IR:\n%s\nwant:\n%s", s.name, b, a)
		}
		compiled++
	}
	t.Logf("%d texts formatted twice, %d compiled to the same IR", n, compiled)
}

// Every .dl text of the repository is formatted: this is how CI checks it.
func TestRepositoryIsFormatted(t *testing.T) {
	for _, s := range repoSources(t) {
		out, err := lang.Format(s.file, s.src)
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			continue
		}
		if !bytes.Equal(out, s.src) {
			hint := "run dlc fmt " + s.name
			if s.file == "spec.dl" {
				hint = "format it as dlc fmt would"
			}
			t.Errorf("%s is not formatted; %s", s.name, hint)
		}
	}
}

// dlc fmt rewrites a file in place only when it changes, keeping its permissions; -l lists
// and -d diffs without writing; a file that does not parse is reported at its line, left
// untouched, and the others are still formatted.
func TestFmtCommand(t *testing.T) {
	dir := t.TempDir()
	messy := "model M(x:[B,4])->[B,4]{\n  return relu(x)   # r\n}\n"
	want := "model M(x: [B, 4]) -> [B, 4] {\n    return relu(x)   # r\n}\n" // the comment keeps its column
	a := writeFile(t, dir, "a.dl", messy)
	if err := os.Chmod(a, 0o600); err != nil {
		t.Fatal(err)
	}
	clean := writeFile(t, dir, "clean.dl", want)
	bad := writeFile(t, dir, "bad.dl", "model M(x: [B]) {\n    h = relu(x\n}\n")

	code, out, stderr := run(t, "fmt", "-l", a, clean)
	if code != 0 || out != a+"\n" || stderr != "" {
		t.Errorf("dlc fmt -l: exit %d, stdout %q, stderr %q; want %s listed", code, out, stderr, a)
	}
	code, out, _ = run(t, "fmt", "-d", a)
	if code != 0 || !strings.Contains(out, "-  return relu(x)   # r\n+model M(x: [B, 4]) -> [B, 4] {\n+    return relu(x)   # r\n") || !strings.HasPrefix(out, "--- "+a+".orig\n+++ "+a+"\n") {
		t.Errorf("dlc fmt -d: exit %d, %q", code, out)
	}
	if got, _ := os.ReadFile(a); string(got) != messy {
		t.Errorf("dlc fmt -l/-d wrote the file: %q", got)
	}

	code, out, stderr = run(t, "fmt", a, bad, clean)
	if code != 1 || out != "" || !strings.HasPrefix(stderr, bad+":3:1: unexpected \"}\"") {
		t.Errorf("dlc fmt with a bad file: exit %d, stdout %q, stderr %q; want exit 1 and %s:3:1", code, out, stderr, bad)
	}
	if got, _ := os.ReadFile(a); string(got) != want {
		t.Errorf("dlc fmt: a.dl is %q, want %q", got, want)
	}
	if info, _ := os.Stat(a); info.Mode().Perm() != 0o600 {
		t.Errorf("dlc fmt: a.dl's mode is %v, want 0600 kept", info.Mode().Perm())
	}
	if got, _ := os.ReadFile(bad); string(got) != "model M(x: [B]) {\n    h = relu(x\n}\n" {
		t.Errorf("dlc fmt changed the file that does not parse: %q", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("dlc fmt left %d files in the directory, want the 3 (no temporary file)", len(entries))
	}
	// A directory stands for the .dl files under it.
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	nested := writeFile(t, sub, "n.dl", messy)
	writeFile(t, sub, "notes.txt", messy)
	if code, out, _ := run(t, "fmt", "-l", dir); code != 1 || !strings.Contains(out, nested+"\n") {
		t.Errorf("dlc fmt -l DIR: exit %d, %q; want %s listed (and exit 1 for bad.dl)", code, out, nested)
	}
	if code, _, stderr := run(t, "fmt"); code != 2 || !strings.Contains(stderr, "want at least one FILE") {
		t.Errorf("dlc fmt without files: exit %d, %q", code, stderr)
	}
	if code, _, stderr := run(t, "fmt", filepath.Join(dir, "none.dl")); code != 1 || !strings.Contains(stderr, "cannot read") {
		t.Errorf("dlc fmt of a missing file: exit %d, %q", code, stderr)
	}
}
