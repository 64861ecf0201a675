package train

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
)

// Every optimiser of the schema has an update rule here and every rule an optimiser
// there, under the same name; each rule reads every argument the schema gives it (a
// value other than the default changes what NewOptimizer builds).
func TestOptimizersMatchSchema(t *testing.T) {
	if got, want := slices.Sorted(maps.Keys(optimizers)), slices.Sorted(slices.Values(schema.CallNames(schema.Optimizers))); !slices.Equal(got, want) {
		t.Fatalf("update rules %v, want the schema's optimisers %v", got, want)
	}
	// sgd's nesterov needs momentum, so its other arguments are varied with momentum on.
	base := map[string]map[string]float64{"sgd": {"momentum": 0.5}}
	for _, c := range schema.Optimizers {
		def, err := NewOptimizer(ir.OptSpec{Name: c.Name, Args: base[c.Name]})
		if err != nil {
			t.Fatalf("%s with defaults: %v", c.Name, err)
		}
		if def.Name() != c.Name {
			t.Errorf("%s: Name() = %q", c.Name, def.Name())
		}
		for i := range c.Args {
			a := &c.Args[i]
			args := maps.Clone(base[c.Name])
			if args == nil {
				args = map[string]float64{}
			}
			v, ok := otherValue(a, args)
			if !ok {
				t.Fatalf("%s: no value for %s other than its default", c.Name, a.Name)
			}
			args[a.Name] = v
			o, err := NewOptimizer(ir.OptSpec{Name: c.Name, Args: args})
			if err != nil {
				t.Fatalf("%s %v: %v", c.Name, args, err)
			}
			if reflect.DeepEqual(o, def) {
				t.Errorf("%s: %s = %g builds the same optimiser as %v: the update rule does not read it", c.Name, a.Name, v, base[c.Name])
			}
		}
	}
}

// otherValue is a value of a that the schema allows and that differs from the one args
// or the default give it.
func otherValue(a *schema.Setting, args map[string]float64) (float64, bool) {
	cur, given := args[a.Name]
	if !given {
		var err error
		if cur, err = argDefault(a); err != nil {
			return 0, false
		}
	}
	for _, v := range []float64{1 - cur, cur + 0.5, cur / 2, 0.5, 1} {
		if v != cur && argFits(a, v) {
			return v, true
		}
	}
	return 0, false
}

// Every initialiser of the schema has a drawing rule here and every rule an initialiser
// there; each draws under its name and its aliases, and with its argument's default when
// it takes one.
func TestInitializersMatchSchema(t *testing.T) {
	if got, want := slices.Sorted(maps.Keys(initFills)), slices.Sorted(slices.Values(schema.CallNames(schema.Initializers))); !slices.Equal(got, want) {
		t.Fatalf("drawing rules %v, want the schema's initialisers %v", got, want)
	}
	for _, c := range schema.Initializers {
		want, err := InitTensor(c.Name, []int{3, 4}, newTestRand(7))
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		inits := slices.Clone(c.Aliases)
		if len(c.Args) == 1 {
			inits = append(inits, c.Name+"("+c.Args[0].Default+")")
		}
		for _, init := range inits {
			got, err := InitTensor(init, []int{3, 4}, newTestRand(7))
			if err != nil {
				t.Fatalf("%s: %v", init, err)
			}
			if !slices.Equal(got.Data, want.Data) {
				t.Errorf("%s draws other numbers than %s", init, c.Name)
			}
		}
	}
}

// moduleText is a one-parameter model in the IR's text form, as a module read with
// ir.Parse rather than compiled, whose initialiser, width and optimiser a test sets.
const moduleText = `func @M.step(%%x: f32[B,2]) {
  %%x:0 = input {name="x"} : f32[B,2]
  %%1 = param {init=%[1]q, name="w"} : f32[2,%[2]s]  # m.dl:2:12
  %%2 = matmul %%x, %%1 : f32[B,%[2]s]
  %%3 = mean %%2 {axes=[], keepdims=false} : f32[]
  output loss = %%3
  output grad:w = %%1
}

train {
  task samples
  feed "x" samples
  phase "train" {
    step @M.step
    params ["w"]
    optimizer %[3]s  # m.dl:7:17
    repeat 1
  }
  data csv(path="d.csv")
  batch 4
  epochs 1
  seed 1
  shuffle true
}
`

// A module that did not come through the compiler gets, from NewTrainer and InitParams,
// the errors the compiler would have given it: an unknown optimiser or argument, one out
// of the schema's range, a bad initialiser, a parameter too large to allocate.
func TestReadModuleBadSettings(t *testing.T) {
	for _, c := range []struct {
		init, width, opt string
		want             string
	}{
		{"zeros", "1", "adam(beta9=0.5, lr=0.01)",
			`m.dl:7:17: adam: unknown argument "beta9" (want lr, beta1, beta2, eps, weight_decay)`},
		{"zeros", "1", "rmsprop(lr=0.01)", `m.dl:7:17: unknown optimizer "rmsprop" (want sgd, adam, adamw)`},
		{"zeros", "1", "adam(beta2=1)", `m.dl:7:17: adam: beta2 = 1, want a number in [0, 1)`},
		{"zeros", "1", "sgd(nesterov=1)",
			`m.dl:7:17: sgd: nesterov needs momentum > 0 and dampening 0, got momentum 0, dampening 0`},
		{"normal(-1)", "1", "adam()", `m.dl:2:12: param w: runtime: init: normal: std = -1, want a number ≥ 0`},
		{"he_normall", "1", "adam()", `m.dl:2:12: param w: runtime: init: unknown initializer "he_normall"`},
		{"zeros", "536870913", "adam()",
			`m.dl:2:12: param w: runtime: init: zeros: shape [2, 536870913] has more than the runtime's limit of 1073741824 elements (4 GiB) per tensor`},
	} {
		src := fmt.Sprintf(moduleText, c.init, c.width, c.opt)
		m, err := ir.Parse("m.ir", []byte(src))
		if err != nil {
			t.Fatalf("%s %s: %v", c.init, c.opt, err)
		}
		tr, err := NewTrainer(m)
		if err == nil {
			err = tr.InitParams(1)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s [2, %s] %s: got error %v, want %q", c.init, c.width, c.opt, err, c.want)
		}
	}
}
