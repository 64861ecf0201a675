package data

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dlc-lang/dlc/ir"
)

// The data sources a train block can name, in one table: each source's
// arguments (kind, required or default, allowed values, a line of doc)
// and its loader. The compiler checks a `data = csv(…)` setting with
// Validate against this table, so its diagnostics and the loader never
// disagree about what a source takes; Load runs the loader.

// Kind is the kind of value an argument takes in a .dl file.
type Kind int

const (
	KindString      Kind = iota // a string literal
	KindInt                     // an integer
	KindStringOrInt             // either, e.g. a CSV column by name or index
	KindFloat                   // a number, int or float
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "a string"
	case KindInt:
		return "an int"
	case KindFloat:
		return "a number"
	}
	return "a string or an int"
}

// Allows reports whether a value of the kind the compiler evaluated (an
// int when isInt, else a string) fits. A float value fits KindFloat only.
func (k Kind) Allows(isInt bool) bool {
	return k == KindStringOrInt || (k == KindInt || k == KindFloat) == isInt
}

// Arg describes one argument of a data source.
type Arg struct {
	Name     string
	Kind     Kind
	Required bool
	Default  string   // the value when absent and not required
	Choices  []string // the allowed values; nil allows any
	// Path marks a file path: the compiler resolves it relative to the
	// .dl file that names it, and an empty one is refused.
	Path bool
	// Signed allows a negative number (a pixel range's low end).
	Signed bool
	// Max is the largest value of a KindFloat argument (a share: 1); 0
	// for no bound.
	Max float64
	// Check, when set, tests a value further than its kind, and Want then
	// says what it accepts, for messages.
	Check func(v string) bool
	Want  string
	Doc   string
}

// Source describes one data source. It gives samples (load), one graph
// (graph) or a set of small graphs (graphs): exactly one loader is set.
type Source struct {
	Name   string
	Args   []Arg
	Doc    string
	load   func(src *Source, args map[string]string, o Options) (*Set, error)
	graph  func(src *Source, args map[string]string) (*Graph, error)
	graphs func(src *Source, args map[string]string) (*GraphSet, error)
}

// Arg returns the source's argument called name.
func (s *Source) Arg(name string) (Arg, bool) {
	for _, a := range s.Args {
		if a.Name == name {
			return a, true
		}
	}
	return Arg{}, false
}

// ArgNames lists the source's arguments, comma-separated, for messages.
func (s *Source) ArgNames() string {
	if len(s.Args) == 0 {
		return "no arguments"
	}
	names := make([]string, len(s.Args))
	for i, a := range s.Args {
		names[i] = a.Name
	}
	return strings.Join(names, ", ")
}

// value returns the argument's value, or its default when absent.
func (s *Source) value(args map[string]string, name string) string {
	if v, ok := args[name]; ok {
		return v
	}
	a, _ := s.Arg(name)
	return a.Default
}

var sources = []*Source{
	{
		Name: "mnist",
		Doc:  "the MNIST digits: X [N, 784] in [0, 1], one-hot labels [N, 10]",
		Args: []Arg{
			{Name: "split", Kind: KindString, Required: true, Choices: []string{"train", "test"},
				Doc: "\"train\" (60000 images) or \"test\" (10000)"},
			{Name: "low", Kind: KindInt, Signed: true, Default: "0", Doc: "the value of a black pixel"},
			{Name: "high", Kind: KindInt, Signed: true, Default: "1", Doc: "the value of a white pixel"},
			{Name: "digits", Kind: KindString, Default: "", Check: validDigits,
				Want: "digits 0-9 separated by commas, e.g. \"0\" or \"1,7\"",
				Doc:  "keep only these digits, e.g. \"0\" (one-class training) or \"1,7\"; \"\" keeps all"},
		},
		load: func(src *Source, args map[string]string, o Options) (*Set, error) {
			lo, _ := strconv.Atoi(src.value(args, "low"))
			hi, _ := strconv.Atoi(src.value(args, "high"))
			if lo >= hi {
				return nil, fmt.Errorf("mnist: low = %d, high = %d, want low < high", lo, hi)
			}
			s, err := MNIST(args["split"], o.MNISTDir)
			if err != nil {
				return nil, err
			}
			if d := args["digits"]; d != "" {
				s = keepDigits(s, parseDigits(d))
			}
			if lo == 0 && hi == 1 {
				return s, nil
			}
			// In place: MNIST returns a set of the caller's own arrays (freshly decoded, or
			// copied out of the cache: verifyBlocks), so the process holds the pixels once.
			a, b := float32(hi-lo), float32(lo)
			for i, v := range s.X {
				s.X[i] = a*v + b
			}
			return s, nil
		},
	},
	{
		Name: "csv",
		Doc:  "a numeric CSV file: X holds the non-label columns",
		Args: []Arg{
			{Name: "path", Kind: KindString, Required: true, Path: true, Doc: "the CSV file"},
			{Name: "label", Kind: KindStringOrInt, Default: "-1",
				Doc: "the target column, a header name or a 0-based index; -1 or \"\" for none"},
			{Name: "target", Kind: KindString, Default: "class", Choices: []string{"class", "value"},
				Doc: "\"class\" (class indices, one-hot encoded) or \"value\" (a real number)"},
			{Name: "classes", Kind: KindInt, Default: "0",
				Doc: "the class count K for target \"class\"; 0 infers the largest label plus one"},
		},
		load: func(src *Source, args map[string]string, o Options) (*Set, error) {
			k, _ := strconv.Atoi(src.value(args, "classes"))
			return CSV(args["path"], CSVOptions{
				LabelColumn: src.value(args, "label"),
				Regression:  src.value(args, "target") == "value",
				Classes:     k,
			})
		},
	},
	{
		Name: "npy",
		Doc:  "NumPy .npy arrays: samples [N, ...] and optional targets",
		Args: []Arg{
			{Name: "x", Kind: KindString, Required: true, Path: true, Doc: "the samples, [N, ...]"},
			{Name: "y", Kind: KindString, Path: true,
				Doc: "the targets, [N, ...]; a 1-d integer array holds class indices (one-hot encoded)"},
			{Name: "classes", Kind: KindInt, Default: "0",
				Doc: "the class count K for integer targets; 0 infers the largest label plus one"},
		},
		load: func(src *Source, args map[string]string, o Options) (*Set, error) {
			k, _ := strconv.Atoi(src.value(args, "classes"))
			return NPYSetClasses(args["x"], args["y"], k)
		},
	},
}

// Sources returns the data sources in the order the language reference
// lists them.
func Sources() []*Source { return sources }

// Lookup returns the source called name.
func Lookup(name string) (*Source, bool) {
	for _, s := range sources {
		if s.Name == name {
			return s, true
		}
	}
	return nil, false
}

// SourceNames lists the sources, comma-separated, for messages.
func SourceNames() string {
	names := make([]string, len(sources))
	for i, s := range sources {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// ArgError is a problem with a data source's arguments. Arg names the
// argument at fault, "" when the problem is with the call as a whole (an
// unknown source, a missing argument), so the compiler can point at it.
type ArgError struct {
	Source, Arg, Msg string
}

func (e *ArgError) Error() string { return e.Msg }

// Validate checks a source's arguments, given as the strings the compiler
// stores (an int written in decimal), against the table: the source
// exists, every argument is known, required ones are present, ints parse,
// values are among the choices, paths are not empty. Messages read
// "csv: unknown argument \"pth\" (want path, label, target, classes)";
// the compiler adds "train: " and the position.
func Validate(source string, args map[string]string) error {
	src, ok := Lookup(source)
	if !ok {
		return &ArgError{Source: source, Msg: fmt.Sprintf("unknown data source %s (want %s)", source, SourceNames())}
	}
	names := make([]string, 0, len(args))
	for name := range args {
		names = append(names, name)
	}
	slices.Sort(names) // the first error is the same on every run
	for _, name := range names {
		if _, ok := src.Arg(name); !ok {
			return &ArgError{Source: source, Arg: name,
				Msg: fmt.Sprintf("%s: unknown argument %q (want %s)", source, name, src.ArgNames())}
		}
	}
	for _, a := range src.Args {
		v, present := args[a.Name]
		if !present {
			if a.Required {
				return &ArgError{Source: source,
					Msg: fmt.Sprintf("%s: missing argument %s, want %s", source, a.Name, a.want())}
			}
			continue
		}
		if !a.fits(v) {
			shown := v
			if a.Kind != KindInt && a.Kind != KindFloat {
				shown = strconv.Quote(v)
			}
			return &ArgError{Source: source, Arg: a.Name, Msg: fmt.Sprintf("%s: %s = %s, want %s", source, a.Name, shown, a.want())}
		}
	}
	return nil
}

// fits reports whether v is a valid value of the argument.
func (a Arg) fits(v string) bool {
	switch {
	case a.Kind == KindInt:
		if n, err := strconv.Atoi(v); err != nil || n < 0 && !a.Signed {
			return false
		}
	case a.Kind == KindFloat:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 && !a.Signed || a.Max != 0 && f > a.Max {
			return false
		}
	case a.Path && strings.TrimSpace(v) == "":
		return false
	case a.Check != nil && !a.Check(v):
		return false
	}
	return a.Choices == nil || slices.Contains(a.Choices, v)
}

// want says what values the argument takes, for messages.
func (a Arg) want() string {
	switch {
	case a.Want != "":
		return a.Want
	case a.Choices != nil:
		q := make([]string, len(a.Choices))
		for i, c := range a.Choices {
			q[i] = strconv.Quote(c)
		}
		return orList(q)
	case a.Path:
		return "a file path"
	case a.Kind == KindInt && a.Signed:
		return "an int"
	case a.Kind == KindInt:
		return "an int >= 0"
	case a.Kind == KindFloat && a.Max != 0:
		return fmt.Sprintf("a number in [0, %v]", a.Max)
	case a.Kind == KindFloat && !a.Signed:
		return "a number >= 0"
	}
	return a.Kind.String()
}

// orList writes a, b or c.
func orList(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// Options are what loading a data set takes besides its spec: what the
// command line says about where data lies. The zero value looks in the
// usual places.
type Options struct {
	// MNISTDir, when not empty, is the directory holding MNIST's four IDX
	// files (train-images-idx3-ubyte.gz and the rest, gzipped or not). It
	// is dlc's --data-dir, and wins over $DLC_MNIST_DIR.
	MNISTDir string
}

// Load validates a train block's data source and loads it as o says. Errors carry
// the source's .dl position when it has one. A set with no samples, or
// whose samples hold no values, is an error: training on it would
// report a loss of 0 and mean nothing.
func Load(spec ir.DataSpec, o Options) (*Set, error) {
	s, err := load(spec, o)
	if err != nil && spec.Pos.IsValid() {
		return nil, fmt.Errorf("%s: %w", spec.Pos, err)
	}
	return s, err
}

func load(spec ir.DataSpec, o Options) (*Set, error) {
	if err := Validate(spec.Source, spec.Args); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	src, _ := Lookup(spec.Source)
	if src.load == nil {
		return nil, fmt.Errorf("data: %s gives %s, want a source of samples", describe(src, spec.Args), src.Gives())
	}
	s, err := src.load(src, spec.Args, o)
	if err != nil {
		return nil, err
	}
	switch {
	case s.Len() == 0:
		return nil, fmt.Errorf("data: %s: no samples, want at least one", describe(src, spec.Args))
	case s.XRow() == 0:
		return nil, fmt.Errorf("data: %s: samples of shape %v hold no values", describe(src, spec.Args), s.XShape[1:])
	}
	return s, nil
}

// describe names a source by its call, e.g. csv(path: "a.csv").
func describe(src *Source, args map[string]string) string {
	var parts []string
	for _, a := range src.Args {
		if v, ok := args[a.Name]; ok {
			parts = append(parts, a.Name+": "+strconv.Quote(v))
		}
	}
	return src.Name + "(" + strings.Join(parts, ", ") + ")"
}
