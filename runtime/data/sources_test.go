package data

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		source string
		args   map[string]string
		arg    string // the argument the error names
		want   string // "" for valid
	}{
		{"mnist", map[string]string{"split": "train"}, "", ""},
		{"csv", map[string]string{"path": "a.csv", "label": "y", "target": "value"}, "", ""},
		{"csv", map[string]string{"path": "a.csv", "label": "-1", "classes": "10"}, "", ""},
		{"npy", map[string]string{"x": "x.npy", "y": "y.npy", "classes": "3"}, "", ""},
		{"parquet", nil, "", "unknown data source parquet (want mnist, mnist_pairs, csv, npy, karate, sbm, graph_csv, graph_npy, graphs, cycles, concat)"},
		{"csv", map[string]string{"pth": "a.csv"}, "pth", `csv: unknown argument "pth" (want path, label, target, classes)`},
		{"csv", map[string]string{}, "", "csv: missing argument path, want a file path"},
		{"csv", map[string]string{"path": " "}, "path", `csv: path = " ", want a file path`},
		{"csv", map[string]string{"path": "a", "target": "regression"}, "target", `csv: target = "regression", want "class" or "value"`},
		{"csv", map[string]string{"path": "a", "classes": "x"}, "classes", `csv: classes = x, want an int ≥ 0`},
		{"csv", map[string]string{"path": "a", "classes": "-2"}, "classes", `csv: classes = -2, want an int ≥ 0`},
		{"mnist", nil, "", `mnist: missing argument split, want "train" or "test"`},
		{"mnist", map[string]string{"split": "validation"}, "split", `mnist: split = "validation", want "train" or "test"`},
		{"npy", map[string]string{"x": ""}, "x", `npy: x = "", want a file path`},
		{"mnist", map[string]string{"split": "train", "digits": "0"}, "", ""},
		{"mnist", map[string]string{"split": "train", "digits": "1, 7"}, "", ""},
		{"mnist", map[string]string{"split": "train", "digits": "10"}, "digits", `mnist: digits = "10", want digits 0-9 separated by commas, e.g. "0" or "1,7"`},
		{"mnist", map[string]string{"split": "train", "digits": "1,1"}, "digits", `mnist: digits = "1,1", want digits 0-9 separated by commas, e.g. "0" or "1,7"`},
		{"mnist", map[string]string{"split": "train", "digits": "0-3"}, "digits", `mnist: digits = "0-3", want digits 0-9 separated by commas, e.g. "0" or "1,7"`},
		{"npy", map[string]string{"x": "a", "y": ""}, "y", `npy: y = "", want a file path`},
	} {
		err := Validate(tc.source, tc.args)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Validate(%s, %v): %v", tc.source, tc.args, err)
		case tc.want == "":
		case err == nil || err.Error() != tc.want:
			t.Errorf("Validate(%s, %v): got error %v\nwant %s", tc.source, tc.args, err, tc.want)
		default:
			var ae *ArgError
			if !errors.As(err, &ae) || ae.Arg != tc.arg {
				t.Errorf("Validate(%s, %v): error names argument %q, want %q", tc.source, tc.args, ae.Arg, tc.arg)
			}
		}
	}
}

// Every source of the schema has a loader here, and every loader a schema
// entry: the names agree, so a source the compiler accepts can load.
func TestEverySourceLoads(t *testing.T) {
	for _, s := range Sources() {
		if s.load == nil && s.graph == nil && s.graphs == nil && s.join == nil {
			t.Errorf("schema source %s has no loader in runtime/data", s.Name)
		}
	}
	for _, m := range []map[string]Source{loaders, graphLoaders} {
		for name := range m {
			if _, ok := schema.Find(schema.DataSources, name); !ok {
				t.Errorf("loader %s has no entry in schema.DataSources", name)
			}
		}
	}
	if len(loaders)+len(graphLoaders) != len(schema.DataSources) {
		t.Errorf("%d loaders for %d schema sources", len(loaders)+len(graphLoaders), len(schema.DataSources))
	}
}

func TestLoad(t *testing.T) {
	csvPath := writeTemp(t, "d.csv", []byte("a,b,y\n1,2,0\n3,4,2\n"))
	s, err := Load(ir.DataSpec{Source: "csv", Args: map[string]string{"path": csvPath, "label": "y"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 2 || s.XRow() != 2 || s.YRow() != 3 {
		t.Errorf("got %d samples of %d values with %d targets, want 2 of 2 with 3", s.Len(), s.XRow(), s.YRow())
	}
	s, err = Load(ir.DataSpec{Source: "csv", Args: map[string]string{"path": csvPath, "label": "y", "classes": "5"}}, Options{})
	if err != nil || s.YRow() != 5 {
		t.Errorf("declared 5 classes: got %v, %v", s, err)
	}
	s, err = Load(ir.DataSpec{Source: "csv", Args: map[string]string{"path": csvPath, "label": "y", "target": "value"}}, Options{})
	if err != nil || s.YRow() != 1 || s.Y[1] != 2 {
		t.Errorf("regression: got %v, %v", s, err)
	}

	empty := writeTemp(t, "x.npy", npyFile(1, npyHeader("<f4", "(0, 3)"), nil))
	noValues := writeTemp(t, "x.npy", npyFile(1, npyHeader("<f4", "(4, 0)"), nil))
	headerOnly := writeTemp(t, "h.csv", []byte("a,b\n"))
	pos := ir.Pos{File: "m.dl", Line: 7, Col: 12}
	for _, tc := range []struct {
		spec ir.DataSpec
		want string
	}{
		{ir.DataSpec{Source: "npy", Args: map[string]string{"x": empty}, Pos: pos},
			`m.dl:7:12: data: npy(x: "` + empty + `"): no samples, want at least one`},
		{ir.DataSpec{Source: "npy", Args: map[string]string{"x": noValues}},
			`data: npy(x: "` + noValues + `"): samples of shape [0] hold no values`},
		{ir.DataSpec{Source: "csv", Args: map[string]string{}, Pos: pos},
			"m.dl:7:12: data: csv: missing argument path, want a file path"},
		{ir.DataSpec{Source: "csv", Args: map[string]string{"path": ""}},
			`data: csv: path = "", want a file path`},
		{ir.DataSpec{Source: "tfrecord"}, "data: unknown data source tfrecord (want mnist, mnist_pairs, csv, npy, karate, sbm, graph_csv, graph_npy, graphs, cycles, concat)"},
		{ir.DataSpec{Source: "csv", Args: map[string]string{"path": headerOnly}},
			"data: " + headerOnly + ": no data rows"},
	} {
		_, err := Load(tc.spec, Options{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("Load(%+v): got error %v\nwant %s", tc.spec, err, tc.want)
		}
	}
}

func TestKeepDigits(t *testing.T) {
	// Five 2-value samples with digits 3, 0, 7, 0, 9.
	labels := []int{3, 0, 7, 0, 9}
	x := []float32{30, 31, 0, 1, 70, 71, 2, 3, 90, 91}
	s, err := mnistSet(x, []int{5, 2}, labels, "labels")
	if err != nil {
		t.Fatal(err)
	}
	got := keepDigits(s, parseDigits("0,9"))
	if want := []int{0, 0, 9}; !slices.Equal(got.Labels, want) {
		t.Errorf("labels %v, want %v", got.Labels, want)
	}
	if want := []float32{0, 1, 2, 3, 90, 91}; !slices.Equal(got.X, want) {
		t.Errorf("X %v, want %v", got.X, want)
	}
	if !slices.Equal(got.XShape, []int{3, 2}) || !slices.Equal(got.YShape, []int{3, 10}) {
		t.Errorf("shapes %v %v, want [3 2] [3 10]", got.XShape, got.YShape)
	}
	if got.Y[0] != 1 || got.Y[10] != 1 || got.Y[29] != 1 {
		t.Errorf("targets not one-hot over the ten digits: %v", got.Y)
	}
	if s.X[0] != 30 {
		t.Error("the source set was changed")
	}
}

// mnist_pairs' inputs and targets, on a 28×28 image with a 4×4 square of on pixels.
func TestMNISTPairs(t *testing.T) {
	img := make([]float32, 784)
	for r := 10; r < 14; r++ {
		for c := 10; c < 14; c++ {
			img[r*28+c] = 0.8
		}
	}
	img[15*28+3] = 0.2 // off, below the middle
	pair := func(input, target string) *Set {
		t.Helper()
		s, err := MNISTPairs(&Set{X: slices.Clone(img), XShape: []int{1, 784}, Labels: []int{3}}, input, target, -1, 1)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := pair("edges", "mask")
	on := 0
	for _, v := range s.X {
		if v == 1 {
			on++
		} else if v != -1 {
			t.Fatalf("an edge pixel of %v, want -1 or 1", v)
		}
	}
	if on != 12 || s.X[11*28+11] != -1 || s.X[10*28+10] != 1 { // the square's border, not its inside
		t.Errorf("edges: %d on, inside %v, corner %v; want 12, -1, 1", on, s.X[11*28+11], s.X[10*28+10])
	}
	if s.Y[10*28+10] != 1 || s.Y[15*28+3] != 0 || s.Y[0] != 0 || s.Labels[0] != 3 {
		t.Errorf("mask: %v %v %v, labels %v", s.Y[10*28+10], s.Y[15*28+3], s.Y[0], s.Labels)
	}
	s = pair("top_half", "digit")
	if s.X[15*28+3] != -1 || s.Y[15*28+3] != 2*0.2-1 || s.X[10*28+10] != s.Y[10*28+10] {
		t.Errorf("top_half: below %v (target %v), above %v (target %v)", s.X[15*28+3], s.Y[15*28+3], s.X[10*28+10], s.Y[10*28+10])
	}
	s = pair("low_res", "digit")
	if len(s.X) != 196 || s.XShape[1] != 196 || math.Abs(float64(s.X[5*14+5]-0.6)) > 1e-6 || s.X[0] != -1 {
		t.Errorf("low_res: %v, block (5, 5) %v, want 0.6", s.XShape, s.X[5*14+5])
	}
	if _, err := MNISTPairs(&Set{X: make([]float32, 10), XShape: []int{1, 10}}, "digit", "digit", 0, 1); err == nil {
		t.Error("digits of 10 values: no error")
	}
	if s := firstSamples(pair("digit", "digit"), "1"); s.Len() != 1 {
		t.Errorf("count 1: %d samples", s.Len())
	}
}

// TestValueOfAbsentArgument: asking a source for an argument it does not have (karate
// for classes, as the samples checks ask every source) gives "", and one it has its
// default; neither panics.
func TestValueOfAbsentArgument(t *testing.T) {
	for _, src := range Sources() {
		name := src.Name
		if got := src.value(nil, "no_such_argument"); got != "" {
			t.Errorf("%s: value of an argument it lacks = %q, want \"\"", name, got)
		}
		for _, a := range src.Args {
			if got := src.value(map[string]string{}, a.Name); got != a.Default {
				t.Errorf("%s: value of %s = %q, want its default %q", name, a.Name, got, a.Default)
			}
		}
	}
}
