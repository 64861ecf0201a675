package compiler

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
)

// builtinTable renders spec.md's table of builtins from the builtins themselves: the ops
// of the IR table that have a name in the language, in the table's order, then the sugar
// written in this package. Consecutive builtins that agree on every column but the name
// share a row.
func builtinTable() string {
	var names []string
	for _, k := range ir.Kinds() {
		if d, _ := ir.Lookup(k); d.Builtin != nil {
			names = append(names, d.Builtin.Name)
		}
	}
	names = append(names, sugarOrder...)
	rows := make([][]string, len(names))
	for i, n := range names {
		b := builtins[n]
		rows[i] = []string{n, argsDoc(b.params), "`" + b.shapes + "`", b.doc}
	}
	return ir.MarkdownTable([]string{"builtin", "arguments (defaults)", "shapes", "notes"}, rows)
}

// argsDoc writes a builtin's parameters as `x, alpha: float = 0.01`.
func argsDoc(ps []bparam) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		switch {
		case p.variadic:
			parts[i] = p.name + "…"
		case p.kind == kTensor:
			parts[i] = p.name
		default:
			s := p.name + ": " + p.kind.String()
			if p.def != nil {
				s += " = " + defaultString(p.def())
			}
			parts[i] = s
		}
	}
	return "`" + strings.Join(parts, ", ") + "`"
}

func defaultString(v value) string {
	switch v.kind {
	case kString:
		return strconv.Quote(v.str)
	case kBool:
		return strconv.FormatBool(v.num != 0)
	case kList:
		var xs []string
		for _, e := range v.list {
			xs = append(xs, defaultString(e))
		}
		return "[" + strings.Join(xs, ", ") + "]"
	}
	return fmt.Sprint(v.num)
}

// TestSpecTables checks that spec.md's generated tables (the builtins of section 7, the IR
// ops of section 11, and the settings tables of ir/schema: data sources, optimisers,
// initialisers, the settings of layers, the two families and the train block) are those the code defines; -update
// rewrites them.
func TestSpecTables(t *testing.T) {
	path := filepath.Join("..", "spec.md")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	for _, tab := range []struct{ name, body string }{
		{"builtins", builtinTable()},
		{"ir-ops", ir.SpecTable()},
		{"data-sources", schema.CallsTable("source", schema.DataSources)},
		{"optimizers", schema.CallsTable("optimizer", schema.Optimizers)},
		{"initializers", schema.CallsTable("init", schema.Initializers)},
		{"schedules", schema.CallsTable("schedule", schema.Schedules)},
		{"clips", schema.CallsTable("clip", schema.Clips)},
		{"layer-settings", schema.SettingsTable(schema.LayerSettings)},
		{"autoencoder-settings", schema.SettingsTable(schema.AutoencoderSettings)},
		{"gan-settings", schema.SettingsTable(schema.GANSettings)},
		{"train-settings", schema.SettingsTable(schema.TrainSettings)},
		{"phase-settings", schema.SettingsTable(schema.PhaseSettings)},
		{"lsgan-settings", schema.SettingsTable(lsganSettings)},
	} {
		begin := "<!-- generated: " + tab.name + " (go test ./compiler -update) -->\n"
		end := "<!-- end: " + tab.name + " -->"
		i, j := strings.Index(text, begin), strings.Index(text, end)
		if i < 0 || j < i {
			t.Fatalf("spec.md: markers %q … %q not found", strings.TrimSpace(begin), end)
		}
		got := text[i+len(begin) : j]
		if got == tab.body {
			continue
		}
		if *update {
			text = text[:i+len(begin)] + tab.body + text[j:]
			continue
		}
		t.Errorf("spec.md's %s table is out of date (run go test ./compiler -update and read the diff)\ngot:\n%s\nwant:\n%s", tab.name, got, tab.body)
	}
	if *update && text != string(src) {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEveryOpIsBuiltinOrIROnly checks that each op either has a name in the language or
// says why not.
func TestEveryOpIsBuiltinOrIROnly(t *testing.T) {
	for _, k := range ir.Kinds() {
		d, _ := ir.Lookup(k)
		if (d.Builtin == nil) == (d.IROnly == "") {
			t.Errorf("op %s: want exactly one of Builtin and IROnly", k)
		}
		if d.Builtin != nil && builtins[d.Builtin.Name] == nil {
			t.Errorf("op %s: builtin %s is not registered", k, d.Builtin.Name)
		}
	}
}
