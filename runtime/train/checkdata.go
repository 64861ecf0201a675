package train

import (
	"fmt"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/data"
)

// DataError is a mismatch between a data set and the model, at the data setting's line
// (Pos), found before any training: dlc check finds it from the files' headers, dlc run
// when the data is loaded, with the same words (CheckData).
type DataError struct {
	Pos ir.Pos
	Msg string
}

func (e *DataError) Error() string {
	if !e.Pos.IsValid() {
		return e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// CheckData checks the data set d, which feeds the train block's data setting (test false)
// or its test setting (test true), against every function of m that the run feeds it to:
// the phases' steps for the training data, the evaluation for the test data (and for the
// training data when there is no test set, as the pictures then use it). Each input fed the
// samples, their targets or a drawn batch must take as many values a row as the data has;
// an input fed targets needs the data to have them. It returns every mismatch, each once.
func CheckData(m *ir.Module, test bool, d data.Dims) []*DataError {
	spec := m.Train
	if spec == nil || d.Graph && !d.Known {
		return nil
	}
	ds := spec.Data
	if test {
		if spec.Test == nil {
			return nil
		}
		ds = *spec.Test
	}
	var fns []string
	if !test {
		for _, ph := range spec.Phases {
			fns = append(fns, ph.Step)
		}
	}
	if test || spec.Test == nil {
		fns = append(fns, spec.Eval)
	}
	var errs []*DataError
	seen := map[string]bool{}
	// A mismatch is reported once, at the first function that has it: the step and the
	// evaluation take the same input of the same model.
	add := func(key, msg string) {
		if !seen[key] {
			seen[key] = true
			errs = append(errs, &DataError{Pos: ds.Pos, Msg: msg})
		}
	}
	for _, name := range fns {
		f := m.Func(name)
		if f == nil {
			continue
		}
		if d.Graph {
			checkGraph(spec, f, d, add)
			continue
		}
		for _, in := range f.Inputs {
			k, ok := spec.Feed(in.Attrs.String("name"))
			if !ok {
				continue
			}
			what, shape := "sample", d.X
			switch k {
			case ir.FeedSamples, ir.FeedDraw:
			case ir.FeedTargets:
				if d.Y == nil {
					add("targets "+in.Attrs.String("name"), fmt.Sprintf("%s has no targets, and input %s of %s%s needs them (give the source a label column or a y array)",
						d.What, in.Attrs.String("name"), name, at(in.Pos)))
					continue
				}
				if !d.YKnown {
					continue // the width is the largest label plus one: known once loaded
				}
				what, shape = "target", d.Y
			default:
				continue
			}
			want := in.Type.Shape
			if len(want) == 0 || len(want[0].Syms) != 1 || want[0].Coef != 1 {
				continue // no batch dimension first: the feed reports it
			}
			row, ok := rowOf(want[1:])
			if !ok {
				continue
			}
			if got := product(shape); got != row {
				add(what+" "+in.Attrs.String("name"), fmt.Sprintf("%s: a %s has %d values%s, and input %s of %s%s takes %d a row (%v)",
					d.What, what, got, shapeOf(shape), in.Attrs.String("name"), name, at(in.Pos), row, want))
			}
		}
	}
	return errs
}

// rowOf is the number of values in one row of a shape without its batch dimension, when
// every dimension is a constant.
func rowOf(s ir.Shape) (int, bool) {
	n := 1
	for _, d := range s {
		if !d.IsConst() {
			return 0, false
		}
		n *= d.Coef
	}
	return n, true
}

func product(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// shapeOf is " [1, 28, 28]" for a shape of more than one dimension, "" otherwise.
func shapeOf(s []int) string {
	if len(s) < 2 {
		return ""
	}
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return " [" + strings.Join(parts, ", ") + "]"
}

// at names an op's .dl position in parentheses, "" when it has none.
func at(p ir.Pos) string {
	if !p.IsValid() {
		return ""
	}
	return " (" + p.String() + ")"
}

// CheckDataFiles is CheckData for dlc check: the train block's data and test sets as
// their files' headers describe them (data.Peek), without loading them. A source that
// cannot be read (a missing file) is itself a mismatch that dlc run would hit.
func CheckDataFiles(m *ir.Module, o data.Options) []*DataError {
	if m.Train == nil {
		return nil
	}
	var errs []*DataError
	for _, set := range []struct {
		test bool
		spec *ir.DataSpec
	}{{false, &m.Train.Data}, {true, m.Train.Test}} {
		if set.spec == nil {
			continue
		}
		d, err := data.Peek(*set.spec, o)
		if err != nil {
			errs = append(errs, &DataError{Pos: set.spec.Pos, Msg: err.Error()})
			continue
		}
		errs = append(errs, CheckData(m, set.test, d)...)
	}
	return errs
}

// checkLoaded is CheckData of the sets a run loaded, before its first step: the first
// mismatch, or nil.
func checkLoaded(m *ir.Module, train, test *data.Set) error {
	var errs []*DataError
	if train != nil {
		d := train.Dims()
		d.What = data.Describe(m.Train.Data)
		errs = append(errs, CheckData(m, false, d)...)
	}
	if test != nil && m.Train.Test != nil {
		d := test.Dims()
		d.What = data.Describe(*m.Train.Test)
		errs = append(errs, CheckData(m, true, d)...)
	}
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}

// checkGraph checks a graph (or a set of graphs) against the inputs of f: the node
// features [N, F] and edge features [E, Fe] it takes, and the classes of the targets of a
// node or graph classification [L, K] (an edge classification's classes are the edge
// targets', which the edge loader checks).
func checkGraph(spec *ir.TrainSpec, f *ir.Func, d data.Dims, add func(key, msg string)) {
	for _, in := range f.Inputs {
		name := in.Attrs.String("name")
		k, ok := spec.Feed(name)
		if !ok {
			continue
		}
		var what string
		var got int
		switch {
		case k == ir.FeedNodeFeatures:
			what, got = "features a node", d.F
		case k == ir.FeedEdgeFeatures:
			what, got = "features an edge", d.Fe
		case k == ir.FeedTargets && !spec.Task.HoldsOutEdges() && d.Classes > 0:
			// A link or edge task's targets are of its pairs, which the graph's
			// loader checks against the edge targets; d.Classes counts the nodes'.
			what, got = "classes", d.Classes
		default:
			continue
		}
		s := in.Type.Shape
		if got < 0 || len(s) != 2 || !s[1].IsConst() || s[1].Coef == got {
			continue
		}
		msg := fmt.Sprintf("%s has %d %s, and input %s of %s%s takes %d (%v)", d.What, got, what, name, f.Name, at(in.Pos), s[1].Coef, s)
		if what == "classes" {
			msg = fmt.Sprintf("%s has %d classes, and %s%s predicts %d (its targets %s are %v)", d.What, got, f.Name, at(in.Pos), s[1].Coef, name, s)
		}
		add(what+" "+name, msg)
	}
}
