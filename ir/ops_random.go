package ir

import "fmt"

// Random draws, gradient stops and training state.
//
// A draw op (random_normal, random_uniform, random_bernoulli) has no operands: its shape is
// an attribute, which may hold symbolic dimensions that the run binds (B from the batch).
// Each carries a "stream" attribute that the compiler numbers uniquely across the module,
// and the runtime draws its values from a generator keyed by the run's seed, the stream and
// the number of the run of the function (a fresh draw at every step), so a draw depends on
// neither the order in which ops execute nor on which other ops the passes removed: the
// same seed gives the same numbers, bit for bit. Draws are impure, so CSE never merges two
// of them; dead-code elimination may drop an unused one, which changes no other draw.
//
// A state op is a tensor that training updates without an optimiser: batch norm's running
// mean and variance. Like a param it is read by name; a step function returns its new value
// as the output "state:NAME", which the runtime stores after the step.

// Random is the class of the draw ops.
const Random Class = Fused + 1

func drawShape(args []Type, a Attrs) (Shape, error) {
	s := a.Shape("shape")
	for _, d := range s {
		if d.Coef <= 0 {
			return nil, fmt.Errorf("shape %v: want positive dimensions", s)
		}
	}
	return s, nil
}

func init() {
	stream := AttrDef{Name: "stream", Type: AttrInt}
	shape := AttrDef{Name: "shape", Type: AttrShape}
	shapeParam := attrParam("shape", AttrShape, nil)
	def(&OpDef{Kind: "random_normal", Arity: 0, Class: Random, Shape: drawShape, NoGrad: true, Impure: true,
		Attrs:   []AttrDef{shape, {Name: "mean", Type: AttrFloat}, {Name: "std", Type: AttrFloat}, stream},
		Builtin: builtin("normal", "→ shape", shapeParam, attrParam("mean", AttrFloat, 0.0), attrParam("std", AttrFloat, 1.0)),
		Doc:     "a fresh draw from N(mean, std²) at every run"})
	def(&OpDef{Kind: "random_uniform", Arity: 0, Class: Random, Shape: drawShape, NoGrad: true, Impure: true,
		Attrs:   []AttrDef{shape, {Name: "low", Type: AttrFloat}, {Name: "high", Type: AttrFloat}, stream},
		Builtin: builtin("uniform", "→ shape", shapeParam, attrParam("low", AttrFloat, 0.0), attrParam("high", AttrFloat, 1.0)),
		Doc:     "a fresh draw from U[low, high) at every run"})
	def(&OpDef{Kind: "random_bernoulli", Arity: 0, Class: Random, Shape: drawShape, NoGrad: true, Impure: true,
		Attrs:   []AttrDef{shape, {Name: "p", Type: AttrFloat}, stream},
		Builtin: builtin("bernoulli", "→ shape", shapeParam, attrParam("p", AttrFloat, 0.5)),
		Doc:     "a fresh mask at every run: 1 with probability p, else 0"})

	def(&OpDef{Kind: "stop_gradient", Arity: 1, Class: Movement, Shape: sameAsFirst, NoGrad: true,
		Builtin: builtin("stop_gradient", "s → s", unaryX...),
		Doc:     "x, passing no gradient: what a frozen network feeds its adversary"})

	def(&OpDef{Kind: "state", Arity: 0, Class: Source, Shape: fromAttr, NoGrad: true,
		Attrs:  []AttrDef{{Name: "name", Type: AttrString}, {Name: "init", Type: AttrString}},
		IROnly: "made by batchnorm", Doc: "a tensor training updates without an optimiser (running statistics); saved with the parameters"})
}
