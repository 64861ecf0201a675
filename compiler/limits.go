package compiler

import (
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
	"github.com/dlc-lang/dlc/lang"
)

// checkRunnable refuses, at the source line, the modules the runtime could not run
// whatever the data: a parameter over the runtime's size limit, and a function input
// without a batch dimension. runtime.Validate checks the same before a run, for modules
// read from .ir files.
func checkRunnable(m *ir.Module) error {
	for _, o := range m.Params() {
		if n := o.Type.Shape.NumElements(); !n.IsConst() || n.Coef > schema.MaxParamElements {
			return lang.Errorf(langPos(o.Pos), "param %s has shape %v (%v elements), more than the runtime's limit of %d elements (4 GiB) per tensor",
				o.Attrs.String("name"), o.Type.Shape, n, schema.MaxParamElements)
		}
	}
	for _, f := range m.Funcs {
		for _, in := range f.Inputs {
			if len(in.Type.Shape) == 0 {
				return lang.Errorf(langPos(in.Pos), "input %s of %s is a scalar, want a tensor with a batch dimension", in.Name, f.Name)
			}
		}
	}
	return nil
}

// langPos is an IR position as a diagnostic's.
func langPos(p ir.Pos) lang.Pos { return lang.Pos{Filename: p.File, Line: p.Line, Column: p.Col} }
