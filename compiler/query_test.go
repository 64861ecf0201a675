package compiler

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// offsetOf is the byte offset of the n-th (from 0) occurrence of sub in src, plus delta.
func offsetOf(t *testing.T, src, sub string, n, delta int) int {
	t.Helper()
	off := -1
	for i := 0; i <= n; i++ {
		j := strings.Index(src[off+1:], sub)
		if j < 0 {
			t.Fatalf("%q occurs fewer than %d times", sub, n+1)
		}
		off += 1 + j
	}
	return off + delta
}

// ValueAt gives the inferred shape of the expression or binding under a position, with
// the symbolic batch dimension kept, as dlc lsp's hover shows it.
func TestValueAt(t *testing.T) {
	const file = "../examples/gan/dcgan.dl"
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	p, err := Analyze(file, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sub      string
		n, delta int
		want     string
		wantSpan string
	}{
		{"deconv(h, 64", 0, 0, "[B, 64, 14, 14]", "deconv(h, 64, kernel: 4, stride: 2, pad: 1)"},
		{"h = relu(batchnorm(dense", 0, 0, "[B, 6272]", "h"}, // the binding
		{"h = reshape", 0, 4, "[B, 128, 7, 7]", "reshape(h, [B, 128, 7, 7])"},
		{"conv(x, 64", 0, 5, "[B, 1, 28, 28]", "x"},  // an argument
		{"128 * 7 * 7", 0, 0, "6272", "128 * 7 * 7"}, // a constant
		{"z: [B, 100]", 0, 0, "[B, 100]", "z"},       // a parameter
	} {
		off := offsetOf(t, src, tc.sub, tc.n, tc.delta)
		span, got, ok := p.ValueAt(file, off)
		if !ok || got != tc.want {
			t.Errorf("ValueAt(%q) = %q, %v; want %q", tc.sub, got, ok, tc.want)
			continue
		}
		if s := src[span.Start.Offset:span.End.Offset]; s != tc.wantSpan {
			t.Errorf("ValueAt(%q) span %q, want %q", tc.sub, s, tc.wantSpan)
		}
	}
	if _, _, ok := p.ValueAt(file, 0); ok {
		t.Errorf("ValueAt in the header comment found a value")
	}
}

// DefinitionAt finds blocks, bindings and parameters.
func TestDefinitionAt(t *testing.T) {
	const file = "../examples/gan/dcgan.dl"
	b, _ := os.ReadFile(file)
	src := string(b)
	p, err := Analyze(file, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sub      string
		n, delta int
		want     string // the text at the definition
	}{
		{"gen: G", 0, 5, "generator G"},
		{"train DCGAN", 0, 7, "gan DCGAN"},
		{"reshape(h,", 0, 8, "h = relu(batchnorm(dense"},   // the binding before the use
		{"deconv(h, 1", 0, 7, "h = relu(batchnorm(deconv"}, // the latest one
		{"dense(z,", 0, 6, "z: [B, 100]"},                  // a parameter
		{"[B, 128, 7, 7]", 0, 1, ""},                       // B is bound by no statement
	} {
		off := offsetOf(t, src, tc.sub, tc.n, tc.delta)
		pos, ok := p.DefinitionAt(file, off)
		if tc.want == "" {
			if ok {
				t.Errorf("DefinitionAt(%q) = %v, want none", tc.sub, pos)
			}
			continue
		}
		if !ok || !strings.HasPrefix(src[pos.Offset:], tc.want) {
			t.Errorf("DefinitionAt(%q) = %v, %v; want %q", tc.sub, pos, ok, tc.want)
		}
	}
}

// The editor grammar highlights the family kinds the compiler registers.
func TestEditorGrammarFamilies(t *testing.T) {
	b, err := os.ReadFile("../editors/vscode/syntaxes/dl.tmLanguage.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Repository map[string]struct{ Match string } `json:"repository"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`\(([a-z_|]+)\)`).FindStringSubmatch(g.Repository["family-declaration"].Match)
	if m == nil || !slices.Equal(strings.Split(m[1], "|"), familyKindNames()) {
		t.Errorf("the grammar's family kinds %v, want the compiler's %v", m, familyKindNames())
	}
}

// A binding of a written phase and of a layer's body have their values too.
func TestValueAtPhasesAndLayers(t *testing.T) {
	for _, tc := range []struct{ file, sub, want string }{
		{"../examples/gan/cyclegan.dl", "fake_b  = GAB(a)", "[B, 1, 28, 28]"},
		{"../examples/gnn/karate.dl", "h = relu(gcn", "[N, 16]"},
	} {
		b, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Analyze(tc.file, b, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, got, ok := p.ValueAt(tc.file, strings.Index(string(b), tc.sub)); !ok || got != tc.want {
			t.Errorf("%s: ValueAt(%q) = %q, %v; want %q", tc.file, tc.sub, got, ok, tc.want)
		}
	}
	// std/gnn's layer bodies are lowered with the user's shapes; their values are there too.
	b, _ := os.ReadFile("../examples/gnn/karate.dl")
	p, _ := Analyze("../examples/gnn/karate.dl", b, Options{})
	std := string(p.Source("std/gnn"))
	if _, got, ok := p.ValueAt("std/gnn", strings.Index(std, "hw         = linear")); !ok || got != "[N, 16] | [N, 2]" {
		t.Errorf("std/gnn gcn's hw: %q, %v; want both of karate's widths", got, ok)
	}
}
