package compiler

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dlc-lang/dlc/ir"
)

// Inner values by name.
//
// Every tensor a block binds to a local name (h = relu(gcn(x, g, 16))), and a layer's
// message, aggregated and update, is a value of the function it is lowered into, named as
// a parameter is (§11 of spec.md): the instance's path of calls, then the name. In model
// Club, `h` is Club.h; inside its first gcn call the projection is Club.gcn0.hw and the
// aggregation Club.gcn0.aggregated. A name bound twice names its last value. Compile with
// Options.Values makes each named value an output of every function that computes it,
// named ir.ValueOutput(name), so that a trained model's embeddings can be written out
// (dlc apply --block Club.h) with the model's own weights.

// bind records the tensor v bound to name in scope sc, for Options.Values.
func (l *lowerer) bind(sc *scope, name string, v value) {
	if v.kind != kTensor || l.bound == nil || v.op.Kind == "param" || v.op.Kind == "state" {
		return // a parameter has a name of its own already
	}
	l.bound[sc.prefix+"."+name] = v.op
}

// exposeValues adds an output for each of names to every function that binds it; a name
// no function binds is an error listing the nearest ones.
func (p *Program) exposeValues(m *ir.Module, names []string) error {
	for _, name := range names {
		found := false
		var all []string
		for _, f := range m.Funcs {
			b := p.bound[f]
			op, ok := b[name]
			if !ok {
				for n := range b {
					all = append(all, n)
				}
				continue
			}
			f.Outputs = append(f.Outputs, ir.Output{Name: ir.ValueOutput(name), Value: op})
			found = true
		}
		if found {
			continue
		}
		slices.Sort(all)
		all = slices.Compact(all)
		msg := fmt.Sprintf("no value %s in this file", name)
		if s := nearest(name, all); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		if len(all) > 0 {
			if len(all) > 12 {
				all = append(all[:12], "…")
			}
			msg += "; values are named by the path of calls, as parameters are: " + strings.Join(all, ", ")
		}
		return fmt.Errorf("%s", msg)
	}
	return nil
}
