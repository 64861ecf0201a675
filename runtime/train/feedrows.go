package train

import (
	"fmt"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/data"
)

// The rows dlc apply and dlc sample feed a function of a trained model. Every tensor input
// gets rows [N, …]: from a .npy file given for it by name (--in NAME=FILE.npy), or from one
// of the train block's data sets, fed as training fed the input of that name (the train
// spec's feeds: the samples, the targets or one-hot labels, the samples drawn in an order
// of their own, here the evaluation's). A function of one input takes a file without a
// name, and a data set's samples whatever its input is called, as it always has. Every
// input is checked before anything runs (given once, by a name the function has, with as
// many rows as the others and rows of its width), and each error names the input and
// where its rows came from.

// InputFile is a .npy file given for one input of a function; Name is "" for a file given
// without one (--in FILE.npy), which only a function of one input takes.
type InputFile struct{ Name, Path string }

// ParseInputFile reads one --in value: NAME=FILE when what stands before the first = is
// an identifier, else FILE.
func ParseInputFile(s string) InputFile {
	name, path, ok := strings.Cut(s, "=")
	if !ok || !isIdent(name) {
		return InputFile{Path: s}
	}
	return InputFile{Name: name, Path: path}
}

func isIdent(s string) bool {
	for i, c := range s {
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

// String is the file as --in takes it.
func (f InputFile) String() string {
	if f.Name == "" {
		return "--in " + f.Path
	}
	return "--in " + f.Name + "=" + f.Path
}

// RowFeed says where the rows of a function's inputs come from.
type RowFeed struct {
	Files  []InputFile // the files given, at most one an input
	Which  string      // the data set feeding every input no file is given for: "train", "test" or "" (none)
	N      int         // only the first N rows of each, when N > 0
	Source string      // the .dl file, for messages
	Data   data.Options
}

// Rows are the rows fed to one input of a function, and where they came from (for
// messages: "--in y=y.npy", "the test set's targets").
type Rows struct {
	Input string
	From  string
	T     *runtime.Tensor
}

// FuncRows returns the rows of each tensor input of function fn, in its inputs' order,
// from the files and the data set o names; an input that neither gives, an input given
// twice, a file for an input fn lacks, and rows that do not fit are errors.
func (t *Trainer) FuncRows(fn string, o RowFeed) ([]Rows, error) {
	f, err := t.blockFunc(fn)
	if err != nil {
		return nil, err
	}
	files, err := inputFiles(f, o.Files)
	if err != nil {
		return nil, err
	}
	var set *data.Set
	out := make([]Rows, len(f.Inputs))
	for i, in := range f.Inputs {
		out[i].Input = in.Name
		if file, ok := files[in.Name]; ok {
			if out[i].T, err = ReadNPY(file.Path); err != nil {
				return nil, err
			}
			out[i].From = file.String()
			continue
		}
		if o.Which == "" {
			return nil, fmt.Errorf("%s takes %s; input %s is not given: add --in %s=FILE.npy (or --data train|test for the inputs the data feeds)", fn, inputList(f), in.Name, in.Name)
		}
		if set == nil {
			if set, err = LoadSplit(t.Spec, o.Source, o.Which, o.Data); err != nil {
				return nil, err
			}
		}
		if out[i], err = t.setRows(f, in.Name, set, o.Which); err != nil {
			return nil, err
		}
	}
	if o.Which != "" && set == nil {
		return nil, fmt.Errorf("--data %s feeds nothing: every input of %s is given with --in", o.Which, fn)
	}
	for i := range out {
		out[i].T = firstRows(out[i].T, o.N)
	}
	return out, checkRows(fn, f, out)
}

// firstRows is x's first n rows, or x when n ≤ 0 or x has no more.
func firstRows(x *runtime.Tensor, n int) *runtime.Tensor {
	if n <= 0 || len(x.Shape) == 0 || n >= x.Shape[0] {
		return x
	}
	row := len(x.Data) / x.Shape[0]
	return &runtime.Tensor{Shape: append([]int{n}, x.Shape[1:]...), Data: x.Data[:n*row]}
}

// setFuncRows are the first n rows of set (the which set) for every input of fn, fed as
// setRows says: what an end-of-run picture runs a function of several inputs on.
func (t *Trainer) setFuncRows(fn string, set *data.Set, which string, n int) ([]Rows, error) {
	f, err := t.blockFunc(fn)
	if err != nil {
		return nil, err
	}
	out := make([]Rows, len(f.Inputs))
	for i, in := range f.Inputs {
		r, err := t.setRows(f, in.Name, set, which)
		if err != nil {
			return nil, err
		}
		r.T = firstRows(r.T, n)
		out[i] = r
	}
	return out, nil
}

// blockFunc returns function fn, or an error listing the module's functions.
func (t *Trainer) blockFunc(fn string) (*ir.Func, error) {
	if f := t.Module.Func(fn); f != nil {
		return f, nil
	}
	var names []string
	for _, g := range t.Module.Funcs {
		names = append(names, g.Name)
	}
	return nil, fmt.Errorf("no block function %s (have %v)", fn, names)
}

// inputFiles returns the files by the input each is for: a file without a name is the
// input of a one-input function.
func inputFiles(f *ir.Func, given []InputFile) (map[string]InputFile, error) {
	out := map[string]InputFile{}
	for _, file := range given {
		if file.Name == "" {
			if len(f.Inputs) != 1 {
				return nil, fmt.Errorf("%s: %s takes %s; name the input each file is for: --in NAME=FILE.npy", file, f.Name, inputList(f))
			}
			file.Name = f.Inputs[0].Name
		}
		if !hasInput(f, file.Name) {
			return nil, fmt.Errorf("%s: %s has no input %s; it takes %s", file, f.Name, file.Name, inputList(f))
		}
		if prev, ok := out[file.Name]; ok {
			return nil, fmt.Errorf("%s and %s: input %s of %s given twice", prev, file, file.Name, f.Name)
		}
		out[file.Name] = file
	}
	return out, nil
}

func hasInput(f *ir.Func, name string) bool {
	for _, in := range f.Inputs {
		if in.Name == name {
			return true
		}
	}
	return false
}

// setRows are the rows of set that feed input of f: a one-input function's are the
// samples; else those the train spec feeds the input of that name in training.
func (t *Trainer) setRows(f *ir.Func, input string, set *data.Set, which string) (Rows, error) {
	kind, ok := t.Spec.Feed(input)
	if len(f.Inputs) == 1 {
		kind, ok = ir.FeedSamples, true
	}
	r := Rows{Input: input}
	switch {
	case ok && kind == ir.FeedSamples:
		r.From, r.T = fmt.Sprintf("the %s set's samples", which), SetTensor(set)
	case ok && kind == ir.FeedTargets:
		if set.Y == nil {
			return r, fmt.Errorf("input %s of %s takes the data's targets, and the %s set has none", input, f.Name, which)
		}
		r.From, r.T = fmt.Sprintf("the %s set's targets", which), &runtime.Tensor{Shape: set.YShape, Data: set.Y}
	case ok && kind == ir.FeedDraw:
		x, _ := set.Batch(nil, nil, t.evalPerm(set.Len()))
		r.From, r.T = fmt.Sprintf("the %s set's samples drawn in the evaluation's order", which), &runtime.Tensor{Shape: set.XShape, Data: x}
	default:
		return r, fmt.Errorf("%s takes %s, and the data feeds no input %s (the train spec feeds %s): add --in %s=FILE.npy", f.Name, inputList(f), input, feedList(t.Spec), input)
	}
	return r, nil
}

// checkRows checks that every input has rows, as many as the others, of its width.
func checkRows(fn string, f *ir.Func, rs []Rows) error {
	for i, r := range rs {
		x, in := r.T, f.Inputs[i]
		if len(x.Shape) == 0 || x.Shape[0] == 0 {
			return fmt.Errorf("%s: no rows (shape %s) for input %s of %s", r.From, runtime.ShapeString(x.Shape), in.Name, fn)
		}
		if n := rs[0].T.Shape[0]; x.Shape[0] != n {
			return fmt.Errorf("%s has %d rows and %s %d: every input of %s needs one row per output row (-n N takes the first N of each)", rs[0].From, n, r.From, x.Shape[0], fn)
		}
		shape, err := sampleShape(in.Type.Shape, 1)
		if err != nil {
			return fmt.Errorf("input %s of %s: %v", in.Name, fn, err)
		}
		if want, row := runtime.NumElements(shape), len(x.Data)/x.Shape[0]; row != want {
			return fmt.Errorf("%s: %d values a row, but input %s of %s wants %v (%d values a row)", r.From, row, in.Name, fn, in.Type.Shape, want)
		}
	}
	return nil
}

// inputList names a function's tensor inputs with their shapes: "z [B, 3] and y [B, 2]".
func inputList(f *ir.Func) string {
	parts := make([]string, len(f.Inputs))
	for i, in := range f.Inputs {
		parts[i] = fmt.Sprintf("%s %v", in.Name, in.Type.Shape)
	}
	if len(parts) == 1 {
		return "one tensor, " + parts[0]
	}
	return fmt.Sprintf("%d tensors, ", len(parts)) + strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// feedList says what the train spec feeds each input: "x (samples), y (targets)".
func feedList(spec *ir.TrainSpec) string {
	parts := make([]string, len(spec.Feeds))
	for i, fd := range spec.Feeds {
		parts[i] = fmt.Sprintf("%s (%s)", fd.Input, fd.Kind)
	}
	return strings.Join(parts, ", ")
}

// ApplyRows runs function fn on the rows of its inputs (FuncRows, in its inputs' order) in
// batches, and returns its output "out" for all rows, [N, …].
func (t *Trainer) ApplyRows(fn string, rs []Rows, batch int) (*runtime.Tensor, error) {
	f, err := t.blockFunc(fn)
	if err != nil {
		return nil, err
	}
	if len(rs) != len(f.Inputs) {
		return nil, fmt.Errorf("%s takes %s; %d fed", fn, inputList(f), len(rs))
	}
	if err := checkRows(fn, f, rs); err != nil {
		return nil, err
	}
	p, err := t.Program(fn)
	if err != nil {
		return nil, err
	}
	n := rs[0].T.Shape[0]
	var out *runtime.Tensor
	for lo := 0; lo < n; lo += batch {
		m := min(batch, n-lo)
		ins := make(map[string]*runtime.Tensor, len(rs))
		for i, r := range rs {
			shape, err := sampleShape(f.Inputs[i].Type.Shape, m)
			if err != nil {
				return nil, fmt.Errorf("input %s of %s: %v", r.Input, fn, err)
			}
			row := len(r.T.Data) / n
			if runtime.NumElements(shape) != m*row {
				return nil, fmt.Errorf("%s: %d values a row, but input %s of %s wants %v (%d values a row)", r.From, row, r.Input, fn, f.Inputs[i].Type.Shape, runtime.NumElements(shape)/m)
			}
			ins[r.Input] = &runtime.Tensor{Shape: shape, Data: r.T.Data[lo*row : (lo+m)*row]}
		}
		res, err := p.Run(ins, t.Vars)
		if err != nil {
			return nil, err
		}
		y := res[t.result()]
		if y == nil {
			return nil, fmt.Errorf("%s has no output %s", fn, t.result())
		}
		if out == nil {
			out = runtime.NewTensor(append([]int{n}, y.Shape[1:]...)...)
		}
		copy(out.Data[lo*(len(out.Data)/n):], y.Data)
	}
	return out, nil
}
