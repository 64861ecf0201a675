package main

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the golden outputs of testdata/bad")

// TestBadInputs runs each testdata/bad/*.txtar case: what a user who gives dlc a bad
// file, a bad flag, bad data or a bad checkpoint sees. A case holds
//
//	-- args --          one dlc command line per line; the last one is the case, the ones
//	                    before it set the stage (e.g. train and save a checkpoint) and must
//	                    exit 0
//	-- NAME --          files written to the case's directory, which is the working
//	                    directory; NAME.hex is hex (spaces and newlines ignored) written as NAME;
//	                    NAME.symlink and NAME.hardlink make NAME a symbolic or a hard link to
//	                    the path the section holds (made after every plain file)
//	-- env --           NAME=VALUE lines set for the commands; $DIR in VALUE is the case's
//	                    directory
//	-- out/stderr --    the last command's standard error
//	-- out/stdout --    its standard output, when there is any
//	-- out/code --      its exit code
//
// go test -run TestBadInputs -update rewrites the out/ sections.
func TestBadInputs(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.txtar")
	if len(files) < 60 {
		t.Errorf("%d bad-input cases, want at least 60", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			var cmds []string
			var links []txtar.File
			want := map[string]string{}
			for _, f := range ar.Files {
				switch {
				case f.Name == "args":
					cmds = strings.Split(strings.TrimSpace(string(f.Data)), "\n")
				case f.Name == "env":
					for _, kv := range strings.Fields(string(f.Data)) {
						k, v, _ := strings.Cut(kv, "=")
						t.Setenv(k, strings.ReplaceAll(v, "$DIR", dir))
					}
				case strings.HasPrefix(f.Name, "out/"):
					want[f.Name] = string(f.Data)
				case strings.HasSuffix(f.Name, ".symlink") || strings.HasSuffix(f.Name, ".hardlink"):
					links = append(links, f)
				default:
					writeCaseFile(t, dir, f)
				}
			}
			for _, f := range links {
				makeLink(t, dir, f)
			}
			if len(cmds) == 0 {
				t.Fatal("no args section")
			}
			t.Chdir(dir)
			var code int
			var stdout, stderr string
			for i, line := range cmds {
				code, stdout, stderr = run(t, splitArgs(line)...)
				if i < len(cmds)-1 && code != 0 {
					t.Fatalf("setup %q: exit %d\n%s", line, code, stderr)
				}
			}
			got := map[string]string{
				"out/stderr": normalize(stderr),
				"out/stdout": normalize(stdout),
				"out/code":   strconv.Itoa(code) + "\n",
			}
			if got["out/stdout"] == "" {
				delete(got, "out/stdout")
			}
			if *update {
				var kept []txtar.File
				for _, f := range ar.Files {
					if !strings.HasPrefix(f.Name, "out/") {
						kept = append(kept, f)
					}
				}
				for _, k := range []string{"out/stderr", "out/stdout", "out/code"} {
					if v, ok := got[k]; ok {
						kept = append(kept, txtar.File{Name: k, Data: []byte(v)})
					}
				}
				ar.Files = kept
				if err := os.WriteFile(filepath.Join(startDir, file), txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, k := range []string{"out/stderr", "out/stdout", "out/code"} {
				if got[k] != want[k] {
					t.Errorf("%s:\n%s\nwant:\n%s", k, got[k], want[k])
				}
			}
			if code == 0 {
				t.Errorf("exit 0: a bad-input case must fail")
			}
		})
	}
}

// startDir is the package directory, where the cases live; each case runs in its own.
var startDir, _ = os.Getwd()

func writeCaseFile(t *testing.T, dir string, f txtar.File) {
	t.Helper()
	name, data := f.Name, f.Data
	if n, ok := strings.CutSuffix(name, ".hex"); ok {
		b, err := hex.DecodeString(strings.Join(strings.Fields(string(data)), ""))
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		name, data = n, b
	}
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// makeLink makes NAME.symlink a symbolic link, NAME.hardlink a hard link, to the path the
// section holds.
func makeLink(t *testing.T, dir string, f txtar.File) {
	t.Helper()
	target := strings.TrimSpace(string(f.Data))
	if name, ok := strings.CutSuffix(f.Name, ".symlink"); ok {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		return
	}
	name := strings.TrimSuffix(f.Name, ".hardlink")
	if err := os.Link(filepath.Join(dir, target), filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// splitArgs splits a command line at spaces; 'single quotes' hold an argument with spaces
// or an empty one (”).
func splitArgs(line string) []string {
	var args []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		if line[0] == '\'' {
			end := strings.IndexByte(line[1:], '\'')
			if end < 0 {
				end = len(line) - 1
			}
			args = append(args, line[1:1+end])
			line = line[min(len(line), end+2):]
			continue
		}
		arg, rest, _ := strings.Cut(line, " ")
		args, line = append(args, arg), rest
	}
	return args
}

var (
	timing = regexp.MustCompile(`[0-9.]+s +[0-9.e+]+ samples/s`)
)

// normalize removes what changes from run to run: timings.
func normalize(s string) string {
	s = timing.ReplaceAllString(s, "TIME")
	return string(bytes.ToValidUTF8([]byte(s), []byte("?")))
}
