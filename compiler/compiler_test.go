package compiler

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// Each testdata/*.txtar case holds in.dl and the expected output: out/ir (the optimised IR)
// for a good file, out/errors (the rendered diagnostic) for a bad one. Other files in the
// archive are importable by in.dl.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txtar")
	if len(files) == 0 {
		t.Fatal("no golden cases")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sources := map[string][]byte{}
			for _, f := range ar.Files {
				if !strings.HasPrefix(f.Name, "out/") {
					sources[f.Name] = f.Data
				}
			}
			src, ok := sources["in.dl"]
			if !ok {
				t.Fatal("no in.dl")
			}
			opts := Options{Optimize: true, ReadFile: func(p string) ([]byte, error) {
				if b, ok := sources[p]; ok {
					return b, nil
				}
				return nil, os.ErrNotExist
			}}
			m, p, err := Compile("in.dl", src, opts)
			got := map[string]string{"out/ir": "", "out/errors": ""}
			if err != nil {
				got["out/errors"] = renderErr(err, p, src)
			} else {
				got["out/ir"] = m.String()
				checkRoundTrip(t, m)
			}
			compareArchive(t, file, ar, got)
		})
	}
}

func renderErr(err error, p *Program, src []byte) string {
	var le *lang.Error
	if errors.As(err, &le) && p != nil && le.Pos.Filename != "in.dl" {
		src = p.Source(le.Pos.Filename)
	}
	return lang.Render(err, src)
}

func checkRoundTrip(t *testing.T, m *ir.Module) {
	t.Helper()
	if err := ir.Verify(m); err != nil {
		t.Fatalf("verify: %v", err)
	}
	text := m.String()
	back, err := ir.Parse("golden.ir", []byte(text))
	if err != nil {
		t.Fatalf("IR does not parse back: %v", err)
	}
	if again := back.String(); again != text {
		t.Fatalf("IR does not round-trip:\n%s\nvs\n%s", text, again)
	}
}

func compareArchive(t *testing.T, file string, ar *txtar.Archive, got map[string]string) {
	t.Helper()
	want := map[string]string{}
	for _, f := range ar.Files {
		want[f.Name] = string(f.Data)
	}
	if *update {
		var files []txtar.File
		for _, f := range ar.Files {
			if !strings.HasPrefix(f.Name, "out/") {
				files = append(files, f)
			}
		}
		for _, name := range []string{"out/errors", "out/ir"} {
			if got[name] != "" {
				files = append(files, txtar.File{Name: name, Data: []byte(got[name])})
			}
		}
		ar.Files = files
		if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, name := range []string{"out/errors", "out/ir"} {
		if got[name] != want[name] {
			t.Errorf("%s differs (run go test -update and read the diff)\ngot:\n%s\nwant:\n%s", name, got[name], want[name])
		}
	}
}

// Every example under examples/ compiles; its IR is golden in testdata/examples.
func TestExamples(t *testing.T) {
	var files []string
	filepath.Walk("../examples", func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".dl") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	for _, file := range files {
		name := strings.TrimPrefix(filepath.ToSlash(file), "../")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			m, p, err := Compile(name, src, Options{Optimize: true, ReadFile: func(q string) ([]byte, error) {
				return os.ReadFile(filepath.Join("..", q))
			}})
			if err != nil {
				t.Fatal(renderErr(err, p, src))
			}
			checkRoundTrip(t, m)
			golden := filepath.Join("testdata", "examples", strings.ReplaceAll(strings.TrimPrefix(name, "examples/"), "/", "_")+".ir")
			got := m.String()
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("IR of %s differs from %s (run go test -update and read the diff)", name, golden)
			}
		})
	}
}

var specBlock = regexp.MustCompile("(?s)```dl\n(.*?)```")

// Every ```dl block of spec.md and README.md compiles. A block whose first line is a
// comment containing "error:" must fail with a message containing the rest of that
// comment. (The README's other blocks are fragments or output.)
func TestSpecExamples(t *testing.T) {
	for _, doc := range []struct {
		file  string
		least int
	}{{"../spec.md", 3}, {"../README.md", 1}} {
		text, err := os.ReadFile(doc.file)
		if err != nil {
			t.Fatal(err)
		}
		blocks := specBlock.FindAllSubmatch(text, -1)
		if len(blocks) < doc.least {
			t.Fatalf("%s has %d dl examples, want at least %d", doc.file, len(blocks), doc.least)
		}
		checkExamples(t, doc.file, blocks)
	}
}

// checkExamples compiles the dl blocks of one document.
func checkExamples(t *testing.T, file string, blocks [][][]byte) {
	t.Helper()
	for i, b := range blocks {
		src := b[1]
		first, _, _ := bytes.Cut(src, []byte("\n"))
		_, wantErr, isErr := strings.Cut(string(first), "error:")
		_, p, err := Compile("spec.dl", src, Options{Optimize: true})
		switch {
		case isErr && err == nil:
			t.Errorf("%s example %d compiled, want error %q", file, i+1, strings.TrimSpace(wantErr))
		case isErr && !strings.Contains(err.Error(), strings.TrimSpace(wantErr)):
			t.Errorf("%s example %d: got error %v, want %q", file, i+1, err, strings.TrimSpace(wantErr))
		case !isErr && err != nil:
			t.Errorf("%s example %d:\n%s\n%s", file, i+1, src, renderErr(err, p, src))
		}
	}
}

// The grammar reproduced in spec.md is the one the parser uses (lang/grammar.txt, itself
// checked against the parser by lang's TestGrammar).
func TestSpecGrammar(t *testing.T) {
	spec, err := os.ReadFile("../spec.md")
	if err != nil {
		t.Fatal(err)
	}
	grammar, err := os.ReadFile("../lang/grammar.txt")
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, line := range strings.Split(string(grammar), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			rules = append(rules, line)
		}
	}
	for _, r := range rules {
		if !bytes.Contains(spec, []byte("\n"+r+"\n")) {
			t.Errorf("spec.md lacks the grammar rule\n%s\n(copy lang/grammar.txt into section 3)", r)
		}
	}
}

// Phases says how a file trains in the language's terms: a family's phases with the
// networks each updates, and a family written as phases in full.
func TestPhasesText(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"../examples/gan/lsgan.dl", []string{"# LS trains in 2 phase(s)", "phase d {  # step function LS.d", "    updates   = [D]  # 6 tensors",
			"phase g {  # step function LS.g", "    updates   = [G]  # 6 tensors", "# lsgan LS is written as these phases:", "        loss    = 0.5 * mean(square(D(G(z)) - 1))"}},
		{"../examples/autoencoder/adversarial.dl", []string{"# AAE trains in 3 phase(s)", "    updates   = [Enc, Dec]  # 12 tensors", "    updates   = [Codes]", "    optimizer = adam(lr: 0.001)"}},
		{"../examples/gan/cyclegan.dl", []string{"    updates   = [DA, DB]  # 8 tensors", "    updates   = [GAB, GBA]  # 12 tensors", "    optimizer = adam(beta1: 0.5, lr: 0.0001)"}},
	} {
		src, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		m, p, err := Compile(tc.file, src, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := p.Phases(m)
		for _, w := range tc.want {
			if !strings.Contains(got, w+"\n") && !strings.Contains(got, w) {
				t.Errorf("%s: Phases lacks %q:\n%s", tc.file, w, got)
			}
		}
	}
}

// A dl block of spec.md that opens with "# examples/DIR/NAME.dl:" is that example file,
// whole: the walkthroughs show the files they run.
func TestSpecListingsAreTheExamples(t *testing.T) {
	spec, err := os.ReadFile("../spec.md")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, b := range specBlock.FindAllSubmatch(spec, -1) {
		first, _, _ := bytes.Cut(b[1], []byte("\n"))
		name, _, ok := strings.Cut(strings.TrimPrefix(string(first), "# "), ":")
		if !strings.HasPrefix(string(first), "# examples/") || !ok || !strings.HasSuffix(name, ".dl") {
			continue
		}
		n++
		file, err := os.ReadFile("../" + name)
		if err != nil {
			t.Errorf("spec.md lists %s: %v", name, err)
			continue
		}
		if !bytes.Equal(file, b[1]) {
			t.Errorf("spec.md's listing of %s differs from the file", name)
		}
	}
	if n < 4 {
		t.Errorf("spec.md lists %d example files, want the walkthroughs' (at least 4)", n)
	}
}
