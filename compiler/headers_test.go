package compiler

import (
	"go/scanner"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// A comment that names a file of the repository (`ir/ops_fused.go`, `compiler.go`) must
// name one that exists: file headers outlive the files they point at. The review found
// runtime/fused.go naming the ir file by the name it had before it became ir/ops_fused.go,
// and ir/passes_fuse.go naming it bare, by a name only runtime/fused.go answered
// (TestStaleNames holds both). TestCommentsNameFilesThatExist scans the comments of every .go file of the
// module, as go/scanner finds them, and resolves each .go name written there against the
// repository's files (a nested module's included: runtime/gemm/asm has its own go.mod):
//
//   - a name with a directory (ir/ops_fused.go, ../kernels_amd64.go, or the module's import
//     path followed by one) is a path from the module root or from the comment's directory,
//     or, less its leading ./ and ../, the tail of a path in the repository (a go:generate
//     line that first changes directory writes its paths from there);
//   - a bare name (compiler.go) is a file of the comment's own directory or of a directory
//     next to it, its parent or a child (runtime/gemm/asm/main.go names the parent's
//     runtime/gemm/select_amd64.go bare). A bare name found only in an unrelated directory
//     is reported with where it is, and the fix is to write the path: resolving it anywhere
//     in the module would have let the second of the review's cases through.
//
// Wildcards (ops*.go) and names inside longer words (x.golden) or addresses
// (https://host/a/b.go) are not names of files.

// goFileName matches a .go file name, with an optional directory, that is not the tail of
// a longer word, path or address: the character before it may not continue a name.
var goFileName = regexp.MustCompile(`(?:^|[^*A-Za-z0-9_./:-])((?:github\.com/dlc-lang/dlc/)?(?:\.\.?/)*(?:[A-Za-z0-9_-]+/)*[A-Za-z0-9_-]+\.go)`)

// continuesName reports whether a character after a match makes it part of a longer word
// (x.golden) or a pattern (ops.go*).
func continuesName(c byte) bool {
	return c == '*' || c == '_' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

// modulePath is this module's import path, which a comment may write before a file's path.
const modulePath = "github.com/dlc-lang/dlc/"

// moduleFiles indexes a module's files by their slash-separated paths from its root.
type moduleFiles map[string]bool

// staleNames returns, for the comments of a Go source file in directory dir (slash-
// separated, "." for the root), a line per .go file name that resolves to no file.
func (m moduleFiles) staleNames(filename, dir string, src []byte) []string {
	var stale []string
	fset := token.NewFileSet()
	file := fset.AddFile(filename, -1, len(src))
	var s scanner.Scanner
	s.Init(file, src, nil, scanner.ScanComments) // errors are go vet's business, not ours
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if tok != token.COMMENT {
			continue
		}
		// Match line by line, so that the character class never runs across lines.
		for i, line := range strings.Split(lit, "\n") {
			for _, sub := range goFileName.FindAllStringSubmatchIndex(line, -1) {
				if sub[3] < len(line) && continuesName(line[sub[3]]) {
					continue
				}
				name := line[sub[2]:sub[3]]
				if why := m.resolve(dir, name); why != "" {
					p := fset.Position(pos)
					stale = append(stale, filename+":"+strconv.Itoa(p.Line+i)+": "+why)
				}
			}
		}
	}
	return stale
}

// resolve returns "" when name, written in a comment in dir, names a file of m, and
// otherwise why not.
func (m moduleFiles) resolve(dir, name string) string {
	name = strings.TrimPrefix(name, modulePath)
	if strings.Contains(name, "/") {
		if m[path.Clean(name)] || m[path.Join(dir, name)] {
			return ""
		}
		tail := name
		for strings.HasPrefix(tail, "../") || strings.HasPrefix(tail, "./") {
			tail = tail[strings.Index(tail, "/")+1:]
		}
		for f := range m {
			if f == tail || strings.HasSuffix(f, "/"+tail) {
				return ""
			}
		}
		return "names " + name + ", which does not exist"
	}
	if m[path.Join(dir, name)] {
		return ""
	}
	var elsewhere []string
	for f := range m {
		if path.Base(f) != name {
			continue
		}
		d := path.Dir(f)
		if d == path.Dir(dir) || path.Dir(d) == dir {
			return "" // the parent's or a child's file
		}
		elsewhere = append(elsewhere, f)
	}
	if len(elsewhere) == 0 {
		return "names " + name + ", which does not exist"
	}
	sort.Strings(elsewhere)
	return "names " + name + ", which is not in " + dir + "/ (there is " +
		strings.Join(elsewhere, ", ") + ": write its path)"
}

// moduleRoot returns the directory of the go.mod that holds this package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	if out, err := exec.Command("go", "env", "GOMOD").Output(); err == nil {
		if gomod := strings.TrimSpace(string(out)); gomod != "" && gomod != os.DevNull {
			return filepath.Dir(gomod)
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// inModule reports whether the Go file rel (from root) belongs to the module at root, as
// the go command sees it: not under testdata, vendor or a directory named with a leading
// _ or ., and not in a nested module.
func inModule(root, rel string) bool {
	dirs := strings.Split(path.Dir(rel), "/")
	for i, name := range dirs {
		if name == "." {
			continue
		}
		if name == "testdata" || name == "vendor" || strings.HasPrefix(name, "_") || strings.HasPrefix(name, ".") {
			return false
		}
		if _, err := os.Stat(filepath.Join(root, filepath.Join(dirs[:i+1]...), "go.mod")); err == nil {
			return false
		}
	}
	return true
}

func TestCommentsNameFilesThatExist(t *testing.T) {
	root := moduleRoot(t)
	files := moduleFiles{}
	var sources []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir // .git and the like
			}
			return nil
		}
		files[rel] = true
		if strings.HasSuffix(rel, ".go") && inModule(root, rel) {
			sources = append(sources, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sources) < 100 {
		t.Fatalf("found %d Go files under %s, want the whole module", len(sources), root)
	}
	for _, rel := range sources {
		src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range files.staleNames(rel, path.Dir(rel), src) {
			t.Error(s)
		}
	}
}

func TestStaleNames(t *testing.T) {
	files := moduleFiles{
		"ir/ops_fused.go":                true,
		"ir/passes_fuse.go":              true,
		"runtime/fused.go":               true,
		"runtime/kernels_conv.go":        true,
		"runtime/gemm/select_amd64.go":   true,
		"runtime/gemm/kernels_amd64.go":  true,
		"runtime/gemm/asm/main.go":       true,
		"compiler/graphtask.go":          true,
		"runtime/data/sources.go":        true,
		"cmd/dlc/main.go":                true,
		"cmd/dlc/testdata/bad/x.txtar":   true,
		"bench/gemmkernel/main.go":       true,
		"runtime/report/grid.go":         true,
		"runtime/report/internal/hue.go": true,
	}
	for _, c := range []struct {
		dir, comment string
		want         []string // the reasons, in order
	}{
		// The review's two cases.
		{"runtime", "// Kernels for the fused ops of ir/fused.go.", []string{"names ir/fused.go, which does not exist"}},
		{"ir", "// FuseRules fold dense layers into the fused ops of fused.go, and", []string{
			"names fused.go, which is not in ir/ (there is runtime/fused.go: write its path)"}},
		// Their fixes.
		{"runtime", "// Kernels for the fused ops of ir/ops_fused.go.", nil},
		{"ir", "// the fused ops of ops_fused.go", nil},
		// A path from the root, from the comment's directory, and as the tail of one.
		{"cmd/dlc", "// see runtime/kernels_conv.go and data/sources.go", nil},
		{"runtime", "// gemm/select_amd64.go picks the kernel", nil},
		{"runtime/gemm", `//go:generate sh -c "cd asm && go run . -out ../kernels_amd64.s -stubs ../kernels_amd64.go"`, nil},
		{"runtime", "// github.com/dlc-lang/dlc/compiler/graphtask.go names the inputs", nil},
		{"runtime", "// github.com/dlc-lang/dlc/compiler/graphtasks.go", []string{"names compiler/graphtasks.go, which does not exist"}},
		{"runtime", "// runtime/kernels_conv2.go", []string{"names runtime/kernels_conv2.go, which does not exist"}},
		// Bare names: the parent's and a child's files resolve; a missing one does not.
		{"runtime/gemm/asm", "// Package gemm uses one per ISA (select_amd64.go)", nil},
		{"runtime/report", "/* the hues (hue.go) */", nil},
		{"runtime/gemm", "// Code generated by command: go run main.go -out x", nil},
		{"ir", "// see nothing.go", []string{"names nothing.go, which does not exist"}},
		// Not file names.
		{"ir", "// the op table in ops*.go; x.golden; https://example.com/a/fused.go; go.mod", nil},
		{"ir", "// two on a line: ops_fused.go, and gone.go,\n// then ir/gone.go on the next", []string{
			"names gone.go, which does not exist", "names ir/gone.go, which does not exist"}},
	} {
		src := "package p\n\n" + c.comment + "\nvar s = \"ir/fused.go\" // a string is not a comment\n"
		got := files.staleNames("f.go", c.dir, []byte(src))
		var reasons []string
		for _, g := range got {
			_, why, _ := strings.Cut(g, ": ")
			reasons = append(reasons, why)
		}
		if strings.Join(reasons, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("in %s/: %q\ngot  %q\nwant %q", c.dir, c.comment, reasons, c.want)
		}
	}
}
