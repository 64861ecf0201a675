package schema

import (
	"math"
	"testing"
)

// Every table is well formed: names unique, every entry documented, a required setting
// without a default, a default that fits, a word with its values, a call with its calls.
func TestTables(t *testing.T) {
	for name, calls := range map[string][]*Call{"data source": DataSources, "optimizer": Optimizers, "initializer": Initializers} {
		checkCalls(t, name, calls)
	}
	checkSettings(t, "layer", LayerSettings)
	checkSettings(t, "autoencoder", AutoencoderSettings)
	checkSettings(t, "train", TrainSettings)
	checkSettings(t, "gan", GANSettings)
}

func checkCalls(t *testing.T, what string, calls []*Call) {
	seen := map[string]bool{}
	for _, c := range calls {
		for _, n := range append([]string{c.Name}, c.Aliases...) {
			if seen[n] {
				t.Errorf("%s %s: named twice", what, n)
			}
			seen[n] = true
		}
		if c.Doc == "" {
			t.Errorf("%s %s: no doc", what, c.Name)
		}
		checkSettings(t, what+" "+c.Name, c.Args)
	}
}

func checkSettings(t *testing.T, what string, table []Setting) {
	seen := map[string]bool{}
	for i := range table {
		s := &table[i]
		switch {
		case seen[s.Name]:
			t.Errorf("%s: %s twice", what, s.Name)
		case s.Doc == "":
			t.Errorf("%s: %s has no doc", what, s.Name)
		case s.Required && s.Default != "":
			t.Errorf("%s: %s is required and has a default", what, s.Name)
		case s.Default != "" && s.Kind != Expr && s.Kind != CallOf && !s.Fits(s.Default):
			t.Errorf("%s: default %s = %q does not fit", what, s.Name, s.Default)
		case s.Kind == Word && s.Values == nil:
			t.Errorf("%s: word %s has no values", what, s.Name)
		case s.Kind == CallOf:
			if len(s.Calls) == 0 {
				t.Errorf("%s: %s takes no call", what, s.Name)
			}
			checkCalls(t, what+" "+s.Name, s.Calls)
		}
		seen[s.Name] = true
	}
}

func TestRange(t *testing.T) {
	type rangeCase struct {
		r    Range
		x    float64
		want bool // whether r contains x
		str  string
	}
	for _, tc := range []rangeCase{
		{AtLeast(0), 0, true, "≥ 0"},
		{AtLeast(0), -1e-9, false, "≥ 0"},
		{Above(0), 0, false, "> 0"},
		{Closed(0, 1), 1, true, "in [0, 1]"},
		{HalfOpen(0, 1), 1, false, "in [0, 1)"},
		{Open(0, 1), 0, false, "in (0, 1)"},
		{OpenClosed(0, 1), 1, true, "in (0, 1]"},
		{Range{}, -3, true, ""},
		{Range{}, math.Inf(1), false, ""},
		{Range{}, math.NaN(), false, ""},
	} {
		if got := tc.r.Contains(tc.x); got != tc.want {
			t.Errorf("%s contains %g: got %v, want %v", tc.r, tc.x, got, tc.want)
		}
		if got := tc.r.String(); got != tc.str {
			t.Errorf("range string: got %q, want %q", got, tc.str)
		}
	}
}
