package ir

import "fmt"

// Builder appends ops to a Func, running each op's shape rule. Pos is stamped on every op it
// emits. The first shape error is kept in Err and later emits become no-ops that return a
// placeholder, so a gradient rule can be written as straight-line code and checked once.
type Builder struct {
	F   *Func
	Pos Pos
	Err error
}

// NewBuilder returns a builder appending to f.
func NewBuilder(f *Func) *Builder { return &Builder{F: f} }

// NewFunc returns an empty function named name.
func NewFunc(name string) *Func { return &Func{Name: name} }

func (b *Builder) add(o *Op) *Op {
	o.ID = b.F.NewID()
	o.Pos = b.Pos
	b.F.Ops = append(b.F.Ops, o)
	return o
}

// Input appends an input named name of type t.
func (b *Builder) Input(name string, t Type) *Op {
	o := b.add(&Op{Kind: "input", Name: name, Type: t, Attrs: Attrs{"name": name}})
	b.F.Inputs = append(b.F.Inputs, o)
	return o
}

// Param appends the trained parameter name (e.g. Enc.dense0.weight) with initialiser init.
func (b *Builder) Param(name string, t Type, init string) *Op {
	return b.add(&Op{Kind: "param", Type: t, Attrs: Attrs{"name": name, "init": init}})
}

// State appends the training state name (e.g. G.batchnorm0.running_mean), initialised by
// init (zeros or ones).
func (b *Builder) State(name string, t Type, init string) *Op {
	return b.add(&Op{Kind: "state", Type: t, Attrs: Attrs{"name": name, "init": init}})
}

// Const appends the f32 scalar v.
func (b *Builder) Const(v float64) *Op {
	return b.add(&Op{Kind: "const", Type: F32(Shape{}), Attrs: Attrs{"value": v}})
}

// Emit appends an op of the given kind, after checking its arity and running its shape rule.
func (b *Builder) Emit(kind string, attrs Attrs, args ...*Op) (*Op, error) {
	def, ok := Lookup(kind)
	if !ok {
		return nil, fmt.Errorf("unknown op %q", kind)
	}
	t, err := def.TypeOf(args, attrs)
	if err != nil {
		return nil, err
	}
	return b.add(&Op{Kind: kind, Args: args, Attrs: attrs, Type: t}), nil
}

// Op is Emit for code that checks errors once: on failure it records the first error in
// b.Err and returns a placeholder op typed like its first argument.
func (b *Builder) Op(kind string, attrs Attrs, args ...*Op) *Op {
	if b.Err == nil {
		o, err := b.Emit(kind, attrs, args...)
		if err == nil {
			return o
		}
		b.Err = fmt.Errorf("%s: %w", kind, err)
	}
	t := F32(Shape{})
	if len(args) > 0 && args[0] != nil {
		t = args[0].Type
	}
	return &Op{Kind: kind, Args: args, Attrs: attrs, Type: t, Pos: b.Pos}
}
