package ir

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenModules are the modules whose text form is kept in testdata/NAME.ir.
var goldenModules = map[string]func(testing.TB) *Module{
	"autoencoder": autoencoderModule,
	"kitchen":     kitchenModule,
}

func TestPrintGolden(t *testing.T) {
	for name, build := range goldenModules {
		t.Run(name, func(t *testing.T) {
			m := build(t)
			got := m.String()
			path := filepath.Join("testdata", name+".ir")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s differs from the printed module (-want +got), run with -update to accept:\n%s", path, diff)
			}
			var buf bytes.Buffer
			if err := Print(&buf, m); err != nil || buf.String() != got {
				t.Errorf("Print and String differ (err %v)", err)
			}
		})
	}
}

// TestRoundTrip parses the printed form of each built module and checks that it rebuilds
// the same graph and prints the same text.
func TestRoundTrip(t *testing.T) {
	for name, build := range goldenModules {
		t.Run(name, func(t *testing.T) {
			m := build(t)
			text := m.String()
			m2, err := Parse(name+".ir", []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(text, m2.String()); diff != "" {
				t.Errorf("re-printed text differs (-printed +reprinted):\n%s", diff)
			}
			if diff := cmp.Diff(moduleView(m), moduleView(m2), viewOpts...); diff != "" {
				t.Errorf("parsed module differs (-built +parsed):\n%s", diff)
			}
			for i, f := range m.Funcs {
				if got, want := m2.Funcs[i].String(), f.String(); got != want {
					t.Errorf("Func.String of %s differs after round trip", f.Name)
				}
			}
		})
	}
}

// TestGoldenFilesReprint checks that every testdata/*.ir file parses and prints to itself.
func TestGoldenFilesReprint(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.ir"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files (%v)", err)
	}
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(path, src)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if diff := cmp.Diff(string(src), m.String()); diff != "" {
			t.Errorf("%s does not re-print to itself (-file +printed):\n%s", path, diff)
		}
	}
}

// TestEveryKindPrinted checks that every op kind goes through the text form: either a
// golden module uses it, or a one-op function built from the op's builtin defaults on
// [2, 3] operands (which covers most elementwise ops, so that adding one needs no golden
// edit) parses back to the same text. Fused kinds are covered by the fusion pass's tests.
func TestEveryKindPrinted(t *testing.T) {
	seen := map[string]bool{}
	for _, build := range goldenModules {
		for _, f := range build(t).Funcs {
			for _, o := range f.Ops {
				seen[o.Kind] = true
			}
		}
	}
	for _, k := range Kinds() {
		d, _ := Lookup(k)
		if d.Class == Fused || seen[k] {
			continue
		}
		if text, ok := oneOpModule(d); ok {
			m, err := Parse(k+".ir", []byte(text))
			if err != nil {
				t.Errorf("op kind %s: %v", k, err)
			} else if m.String() != text {
				t.Errorf("op kind %s: reprinted text differs:\n%s\nwant:\n%s", k, m.String(), text)
			}
			continue
		}
		t.Errorf("op kind %s appears in no golden module and cannot be built from its builtin defaults", k)
	}
}

// oneOpModule prints a module whose one function applies d to [2, 3] inputs with the
// defaults of d's builtin, when d's shape rule accepts that.
func oneOpModule(d *OpDef) (string, bool) {
	if d.Builtin == nil {
		return "", false
	}
	f := NewFunc("one")
	b := NewBuilder(f)
	var args []*Op
	attrs := Attrs{}
	for i, p := range d.Builtin.Params {
		switch {
		case p.Tensor:
			args = append(args, b.Input(fmt.Sprintf("x%d", i), F32(Shape{Sym("B"), Const(3)})))
		case p.Default == nil:
			return "", false
		default:
			attrs[p.AttrName()] = p.Default
		}
	}
	o, err := b.Emit(d.Kind, attrs, args...)
	if err != nil {
		return "", false
	}
	f.Outputs = []Output{{Name: "out", Value: o}}
	return (&Module{Funcs: []*Func{f}}).String(), true
}

func TestFormatFloat(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{1, "1.0"}, {0.001, "0.001"}, {1e21, "1e+21"}, {-2, "-2.0"}, {1e-8, "1e-08"},
	} {
		if got := formatFloat(tc.v); got != tc.want {
			t.Errorf("formatFloat(%v) = %s, want %s", tc.v, got, tc.want)
		}
	}
}

// A view of a module with operands as refs, so that go-cmp compares graphs without
// walking the shared DAG once per path.
type funcView struct {
	Name    string
	Inputs  []string
	Outputs []outputView
	Ops     []opView
}

type outputView struct{ Name, Value string }

type opView struct {
	ID    int
	Name  string
	Kind  string
	Args  []string
	Attrs Attrs
	Type  Type
	Pos   Pos
}

type moduleViewT struct {
	Funcs []funcView
	Train *TrainSpec
}

func moduleView(m *Module) moduleViewT {
	v := moduleViewT{Train: m.Train}
	for _, f := range m.Funcs {
		fv := funcView{Name: f.Name}
		for _, in := range f.Inputs {
			fv.Inputs = append(fv.Inputs, opRef(in))
		}
		for _, o := range f.Outputs {
			fv.Outputs = append(fv.Outputs, outputView{o.Name, opRef(o.Value)})
		}
		for _, o := range f.Ops {
			ov := opView{ID: o.ID, Name: o.Name, Kind: o.Kind, Attrs: o.Attrs, Type: o.Type, Pos: o.Pos}
			for _, a := range o.Args {
				ov.Args = append(ov.Args, opRef(a))
			}
			fv.Ops = append(fv.Ops, ov)
		}
		v.Funcs = append(v.Funcs, fv)
	}
	return v
}

var viewOpts = []cmp.Option{cmpopts.EquateEmpty(), cmpopts.EquateNaNs()}
