// Package schema declares, as tables, everything a .dl file writes as `name = value` or
// `name(args)` that is not an op: the data sources, the optimisers, the initialisers, and
// the settings of layer blocks and of the autoencoder family. A table entry says what a
// setting or argument is called, the kind of value it takes, the values or range it
// allows, its default, whether it is required, and one line of doc.
//
// The tables are data, read by three parties that must never disagree: the compiler
// checks a file's settings against them with one routine (compiler/settings.go), so every
// mistake is a diagnostic at the setting's position; the runtime keys its loaders and
// optimisers by the same names; and spec.md's settings tables are generated from them
// (go test ./compiler -update). This is go/types' universe, where predeclared names are
// tables checked by one routine, applied to settings.
//
// The package is a leaf: it imports only ir (for its Markdown table), and knows nothing of
// syntax or tensors.
package schema

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Kind is the kind of value a setting or argument takes.
type Kind int

const (
	Int         Kind = iota // an integer within Range
	Ints                    // a list of integers, each within Range: nodes([0, 33])
	Float                   // a number, int or float, within Range
	Bool                    // true or false; where a number is stored, 1 or 0 too
	String                  // a string literal, among Values when they are set
	Path                    // a string naming a file, relative to the .dl file; not empty
	StringOrInt             // a string or an int: a CSV column by header name or index
	Word                    // an identifier among Values, bare or quoted: aggregate = mean
	CallOf                  // a call of one of Calls, its arguments checked: penalty = l2(1e-4)
	Expr                    // an expression the caller lowers; a bare word must be among Values when set
)

func (k Kind) String() string {
	return [...]string{"an int", "a list of ints", "a number", "true or false", "a string", "a file path", "a string or an int", "a word", "a call", "an expression"}[k]
}

// Range bounds a number (each number of an Ints). The zero Range allows any finite number; no Range allows NaN or
// an infinity.
type Range struct {
	Min, Max         float64
	HasMin, HasMax   bool
	MinOpen, MaxOpen bool // the bound itself is excluded
}

// AtLeast is [x, ∞); Above is (x, ∞).
func AtLeast(x float64) Range { return Range{Min: x, HasMin: true} }
func Above(x float64) Range   { return Range{Min: x, HasMin: true, MinOpen: true} }

// Closed is [lo, hi], Open (lo, hi), HalfOpen [lo, hi) and OpenClosed (lo, hi].
func Closed(lo, hi float64) Range { return Range{Min: lo, Max: hi, HasMin: true, HasMax: true} }
func Open(lo, hi float64) Range {
	return Range{Min: lo, Max: hi, HasMin: true, HasMax: true, MinOpen: true, MaxOpen: true}
}
func HalfOpen(lo, hi float64) Range {
	return Range{Min: lo, Max: hi, HasMin: true, HasMax: true, MaxOpen: true}
}
func OpenClosed(lo, hi float64) Range {
	return Range{Min: lo, Max: hi, HasMin: true, HasMax: true, MinOpen: true}
}

// Contains reports whether x is finite and within the range.
func (r Range) Contains(x float64) bool {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return false
	case r.HasMin && (x < r.Min || r.MinOpen && x == r.Min):
		return false
	case r.HasMax && (x > r.Max || r.MaxOpen && x == r.Max):
		return false
	}
	return true
}

// String writes the range after a noun: "≥ 0", "in (0, 1]", or "" for any number.
func (r Range) String() string {
	num := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	switch {
	case r.HasMin && r.HasMax:
		lo, hi := "[", "]"
		if r.MinOpen {
			lo = "("
		}
		if r.MaxOpen {
			hi = ")"
		}
		return "in " + lo + num(r.Min) + ", " + num(r.Max) + hi
	case r.HasMin && r.MinOpen:
		return "> " + num(r.Min)
	case r.HasMin:
		return "≥ " + num(r.Min)
	case r.HasMax:
		return "≤ " + num(r.Max)
	}
	return ""
}

// Setting is one setting of a block, or one argument of a call.
type Setting struct {
	Name string
	Kind Kind
	// Values are the words a Word or an Expr may be, or the strings a String may be; nil
	// allows any string (a Word needs them).
	Values []string
	Range  Range   // Int, Float: the numbers allowed
	Calls  []*Call // CallOf: the calls allowed
	// CallsIn, for a CallOf whose calls have a table of their own (the data sources, the
	// optimisers), names that table; the reference then points at it instead of listing
	// the calls again.
	CallsIn string
	// Noun, for a CallOf, is what one of its calls is called in messages ("data source":
	// "unknown data source parquet"); without it a call not in Calls is a wrong value.
	Noun string
	// Default is the value when the setting is absent, as a .dl file writes it but without
	// a string's quotes; "" when there is none (or it is the empty string). A CallOf's
	// default is for the reference only: its reader supplies it.
	Default  string
	Required bool
	// Check, when set, tests a String further than Values (mnist's digits).
	Check func(v string) bool
	// Want, when set, says what a valid value is, for messages and the reference, in place
	// of the phrase the kind and range make.
	Want string
	Doc  string
}

// Call is something written as a call: a data source, an optimiser, an initialiser, or a
// setting's value such as l2(1e-4).
type Call struct {
	Name    string
	Args    []Setting
	Aliases []string // other names of the same call: xavier_uniform for glorot_uniform
	// Positional allows the arguments to be given in order, unnamed: mask(0.3). Otherwise
	// they are named: adam(lr: 1e-3).
	Positional bool
	// Check, when set, tests numeric arguments together, with the defaults filled in (a
	// Word argument given as its index in Values); it returns the argument at fault and
	// what is wrong, or "", "".
	Check func(args map[string]float64) (arg, msg string)
	Doc   string
}

// Arg returns the call's argument called name.
func (c *Call) Arg(name string) (*Setting, bool) { return Lookup(c.Args, name) }

// ArgNames lists the call's arguments in order.
func (c *Call) ArgNames() []string { return Names(c.Args) }

// Signature writes the call with its arguments: mask(q), adam(lr, beta1, …).
func (c *Call) Signature() string { return c.Name + "(" + strings.Join(c.ArgNames(), ", ") + ")" }

// Lookup returns the setting of table called name.
func Lookup(table []Setting, name string) (*Setting, bool) {
	for i := range table {
		if table[i].Name == name {
			return &table[i], true
		}
	}
	return nil, false
}

// Names lists the settings of table, in order.
func Names(table []Setting) []string {
	names := make([]string, len(table))
	for i, s := range table {
		names[i] = s.Name
	}
	return names
}

// Find returns the call of calls called name, or of which name is an alias.
func Find(calls []*Call, name string) (*Call, bool) {
	for _, c := range calls {
		if c.Name == name || slices.Contains(c.Aliases, name) {
			return c, true
		}
	}
	return nil, false
}

// CallNames lists the calls' names, in order, without aliases.
func CallNames(calls []*Call) []string {
	names := make([]string, len(calls))
	for i, c := range calls {
		names[i] = c.Name
	}
	return names
}

// OrList writes a, b or c.
func OrList(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// Wants says what values the setting takes, for messages: "a number in [0, 1]",
// "sum, mean, max or min", "l1(lambda) or kl(rho, beta)".
func (s *Setting) Wants() string {
	switch {
	case s.Want != "":
		return s.Want
	case s.Kind == String && s.Values != nil:
		q := make([]string, len(s.Values))
		for i, v := range s.Values {
			q[i] = strconv.Quote(v)
		}
		return OrList(q)
	case s.Kind == Word || s.Kind == Expr && s.Values != nil:
		return OrList(s.Values)
	case s.Kind == CallOf:
		sigs := make([]string, len(s.Calls))
		for i, c := range s.Calls {
			sigs[i] = c.Signature()
		}
		return OrList(sigs)
	case (s.Kind == Int || s.Kind == Ints || s.Kind == Float) && s.Range != Range{}:
		return s.Kind.String() + " " + s.Range.String()
	}
	return s.Kind.String()
}

// Fits reports whether v, a value as the IR stores a data source's argument (an int in
// decimal, a number as Go formats a float64, a string as it is), is valid for the setting.
func (s *Setting) Fits(v string) bool {
	switch s.Kind {
	case Int:
		n, err := strconv.Atoi(v)
		return err == nil && s.Range.Contains(float64(n))
	case Float:
		f, err := strconv.ParseFloat(v, 64)
		return err == nil && s.Range.Contains(f)
	case Bool:
		return v == "true" || v == "false"
	case Path:
		return strings.TrimSpace(v) != ""
	case String, Word:
		return s.FitsString(v)
	}
	return true
}

// FitsString reports whether v is among the setting's Values (when it has any) and passes
// its Check (when it has one).
func (s *Setting) FitsString(v string) bool {
	return (s.Values == nil || slices.Contains(s.Values, v)) && (s.Check == nil || s.Check(v))
}

// Shown writes a value of the setting as a .dl file would: strings quoted.
func (s *Setting) Shown(v string) string {
	if s.Kind == String || s.Kind == Path || s.Kind == StringOrInt && !isInt(v) {
		return strconv.Quote(v)
	}
	return v
}

func isInt(v string) bool {
	_, err := strconv.Atoi(v)
	return err == nil
}

// Problem is a setting's value the table refuses, for readers that have no positions (the
// runtime's check of a data source).
func (s *Setting) Problem(call, v string) string {
	return fmt.Sprintf("%s: %s = %s, want %s", call, s.Name, s.Shown(v), s.Wants())
}
