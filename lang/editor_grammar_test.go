package lang

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// grammarWords are the words of the first alternation group, (a|b|c), of a TextMate
// rule's match pattern.
var alternation = regexp.MustCompile(`\(([A-Za-z_|]+)\)`)

func grammarWords(t *testing.T, repo map[string]map[string]any, rule string) []string {
	t.Helper()
	m, _ := repo[rule]["match"].(string)
	g := alternation.FindStringSubmatch(m)
	if g == nil {
		t.Fatalf("dl.tmLanguage.json: rule %s has no (a|b|…) group in its match %q", rule, m)
	}
	return strings.Split(g[1], "|")
}

// EditorGrammar loads the TextMate grammar of editors/vscode: it must be JSON, the
// extension's package.json must point at it, and its keywords and block kinds must be the
// lexer's, so that highlighting cannot drift from the language.
func TestEditorGrammar(t *testing.T) {
	const dir = "../editors/vscode"
	var pkg struct {
		Contributes struct {
			Languages []struct {
				ID         string
				Extensions []string
			} `json:"languages"`
			Grammars []struct{ Language, ScopeName, Path string } `json:"grammars"`
		} `json:"contributes"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatalf("package.json: %v", err)
	}
	if len(pkg.Contributes.Grammars) != 1 || len(pkg.Contributes.Languages) != 1 || !slices.Contains(pkg.Contributes.Languages[0].Extensions, ".dl") {
		t.Fatalf("package.json contributes %+v, want the dl language (.dl) and one grammar", pkg.Contributes)
	}
	gr := pkg.Contributes.Grammars[0]
	b, err = os.ReadFile(filepath.Join(dir, gr.Path))
	if err != nil {
		t.Fatalf("package.json's grammar: %v", err)
	}
	var g struct {
		ScopeName  string                    `json:"scopeName"`
		Patterns   []map[string]string       `json:"patterns"`
		Repository map[string]map[string]any `json:"repository"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("%s: %v", gr.Path, err)
	}
	if g.ScopeName != gr.ScopeName {
		t.Errorf("grammar scope %q, package.json says %q", g.ScopeName, gr.ScopeName)
	}
	for _, p := range g.Patterns {
		if name := strings.TrimPrefix(p["include"], "#"); g.Repository[name] == nil {
			t.Errorf("grammar includes #%s, which its repository lacks", name)
		}
	}
	kinds := BlockKinds()
	for _, rule := range []string{"block-kinds", "block-declaration"} {
		if got := grammarWords(t, g.Repository, rule); !slices.Equal(got, kinds) {
			t.Errorf("grammar rule %s lists %v, want the lexer's block kinds %v", rule, got, kinds)
		}
	}
	words := append(grammarWords(t, g.Repository, "keywords"), kinds...)
	slices.Sort(words)
	if want := Keywords(); !slices.Equal(words, want) {
		t.Errorf("grammar keywords and block kinds %v, want the lexer's keywords %v", words, want)
	}
}
