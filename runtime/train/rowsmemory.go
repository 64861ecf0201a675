package train

import (
	"fmt"
	"math"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/data"
)

// RowsMemory is what running the function fn over n rows at once holds, in bytes: its
// inputs and outputs for all n rows (dlc sample keeps them whole, to write them out) and
// its plan's buffers at batch n (runtime.FuncMemory). A command checks it against the memory it may use before it draws or
// allocates anything, so that -n 200000000 is refused, not killed by the kernel.
func (t *Trainer) RowsMemory(fn string, n int) (int64, error) {
	f := t.Module.Func(fn)
	if f == nil {
		return 0, fmt.Errorf("runtime: no function %s", fn)
	}
	var row int64
	add := func(s ir.Shape) {
		if shape, err := sampleShape(s, 1); err == nil {
			v := int64(1)
			for _, d := range shape {
				v *= int64(d)
			}
			row += v
		}
	}
	for _, in := range f.Inputs {
		add(in.Type.Shape)
	}
	for _, out := range f.Outputs {
		add(out.Value.Type.Shape)
	}
	if row > 0 && int64(n) > math.MaxInt64/8/row {
		return math.MaxInt64 / 2, nil
	}
	plan, err := runtime.FuncMemory(f, n)
	if err != nil {
		return math.MaxInt64 / 2, nil // beyond what the plan can count
	}
	return 4*row*int64(n) + min(plan, math.MaxInt64/4), nil
}

// CheckGeneratedMemory refuses, before anything is generated, a train block whose
// generated graph source (sbm, cycles) alone would hold more than limit bytes
// (data.GeneratedBytes); a graph model's full estimate needs the graph's sizes, and is
// made once it is loaded.
func CheckGeneratedMemory(spec *ir.TrainSpec, limit int64) error {
	for _, d := range []*ir.DataSpec{&spec.Data, spec.Test} {
		if d == nil {
			continue
		}
		if b, what, ok := data.GeneratedBytes(*d); ok && b > limit {
			return fmt.Errorf("%s: %s holds an estimated %s once generated, more than --max-memory %s; generate a smaller graph, or raise the limit",
				d.Pos, what, runtime.FormatBytes(b), runtime.FormatBytes(limit))
		}
	}
	return nil
}

// DataFiles lists the files the train block's data sets read (data.Files): those of the
// training set, then the test set's.
func DataFiles(spec *ir.TrainSpec, o DataOptions) []string {
	files := data.Files(spec.Data, o)
	if spec.Test != nil {
		files = append(files, data.Files(*spec.Test, o)...)
	}
	return files
}
