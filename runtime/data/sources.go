package data

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
)

// The data sources a train block can name: their arguments are the table
// ir/schema.DataSources (kind, required or default, allowed values, a line
// of doc), which the compiler checks a `data = csv(…)` setting against;
// here each name gets its loader, and Validate checks a spec against the
// same table again before Load runs the loader, for a module read from a
// .ir file.

// Source is one data source: its schema entry, and the loader of samples
// (load), of one graph (graph) or of a set of small graphs (graphs):
// exactly one is set, or join.
type Source struct {
	*schema.Call
	load func(src *Source, args map[string]string, o Options) (*Set, error)
	// join loads a combination of other sources (concat), which needs their specs.
	join   func(src *Source, spec ir.DataSpec, o Options) (*Set, error)
	graph  func(src *Source, args map[string]string) (*Graph, error)
	graphs func(src *Source, args map[string]string) (*GraphSet, error)
}

// ArgNames lists the source's arguments, comma-separated, for messages.
func (s *Source) ArgNames() string {
	if len(s.Args) == 0 {
		return "no arguments"
	}
	return strings.Join(s.Call.ArgNames(), ", ")
}

// value returns the argument's value, or its default when absent; "" for an argument
// the source does not have (a loader shared by several sources may ask each for one that
// only some take, as the samples checks ask any source for classes).
func (s *Source) value(args map[string]string, name string) string {
	if v, ok := args[name]; ok {
		return v
	}
	if a, ok := s.Arg(name); ok {
		return a.Default
	}
	return ""
}

// loaders holds each source's loader under its schema name.
var loaders = map[string]Source{
	"mnist": {load: func(src *Source, args map[string]string, o Options) (*Set, error) {
		lo, hi, err := pixelRange(src, args)
		if err != nil {
			return nil, err
		}
		s, err := MNIST(args["split"], o.MNISTDir)
		if err != nil {
			return nil, err
		}
		if d := args["digits"]; d != "" {
			s = keepDigits(s, parseDigits(d))
		}
		s = firstSamples(s, src.value(args, "count"))
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
	}},
	"mnist_pairs": {load: func(src *Source, args map[string]string, o Options) (*Set, error) {
		lo, hi, err := pixelRange(src, args)
		if err != nil {
			return nil, err
		}
		s, err := MNIST(args["split"], o.MNISTDir)
		if err != nil {
			return nil, err
		}
		s = firstSamples(s, src.value(args, "count"))
		return MNISTPairs(s, args["input"], src.value(args, "target"), float32(lo), float32(hi))
	}},
	"csv": {load: func(src *Source, args map[string]string, o Options) (*Set, error) {
		k, _ := strconv.Atoi(src.value(args, "classes"))
		return CSV(args["path"], CSVOptions{
			LabelColumn: src.value(args, "label"),
			Regression:  src.value(args, "target") == "value",
			Classes:     k,
		})
	}},
	"npy": {load: func(src *Source, args map[string]string, o Options) (*Set, error) {
		k, _ := strconv.Atoi(src.value(args, "classes"))
		return NPYSetClasses(args["x"], args["y"], k)
	}},
}

// concat's loader reads the other sources (through load, which reads this table), so it is
// set once the table exists.
func init() {
	src, _ := Lookup("concat")
	src.join = loadConcat
	loaders["concat"] = *src
}

// sources pairs the schema's entries with their loaders, in the schema's
// order; a name without a loader has none (TestEverySourceLoads).
var sources = func() []*Source {
	out := make([]*Source, 0, len(schema.DataSources))
	for _, c := range schema.DataSources {
		src, ok := loaders[c.Name]
		if !ok {
			src = graphLoaders[c.Name]
		}
		src.Call = c
		out = append(out, &src)
	}
	return out
}()

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
	for i := range src.Args {
		a := &src.Args[i]
		if a.Kind == schema.CallOf {
			continue // a combination's part: a spec of its own (DataSpec.Parts), validated by Load
		}
		v, present := args[a.Name]
		if !present {
			if a.Required {
				return &ArgError{Source: source,
					Msg: fmt.Sprintf("%s: missing argument %s, want %s", source, a.Name, a.Wants())}
			}
			continue
		}
		if !a.Fits(v) {
			return &ArgError{Source: source, Arg: a.Name, Msg: a.Problem(source, v)}
		}
	}
	return nil
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
	if src.join != nil {
		return src.join(src, spec, o)
	}
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
