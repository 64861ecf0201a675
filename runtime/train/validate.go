package train

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlc-lang/dlc/ir"
)

// maxParamElements bounds one parameter's size, so that a typo such as dense(x, 1000000)
// twice over is a message, not an attempt to allocate terabytes.
const maxParamElements = 1 << 30

// Validate checks what the compiler leaves to the runtime before anything runs: every
// parameter's initialiser and the optimiser of the train spec. Errors name the source
// position of the parameter or optimiser, so `dlc check` reports them like diagnostics.
func Validate(m *ir.Module) error {
	rng := rand.New(rand.NewPCG(0, 0))
	for _, o := range m.Params() {
		if n := o.Type.Shape.NumElements(); !n.IsConst() || n.Coef > maxParamElements {
			return fmt.Errorf("%s: param %s has shape %v (%v elements), more than the runtime's limit of %d elements (4 GiB) per tensor",
				o.Pos, o.Attrs.String("name"), o.Type.Shape, n, maxParamElements)
		}
		// A one-element draw runs every check InitTensor makes on the name and argument.
		if _, err := InitTensor(o.Attrs.String("init"), []int{1}, rng); err != nil {
			return fmt.Errorf("%s: param %s: %v", o.Pos, o.Attrs.String("name"), err)
		}
	}
	for _, f := range m.Funcs {
		for _, in := range f.Inputs {
			if len(in.Type.Shape) == 0 {
				return fmt.Errorf("%s: input %s of %s is a scalar, want a tensor with a batch dimension", in.Pos, in.Name, f.Name)
			}
		}
	}
	if m.Train != nil {
		for _, ph := range m.Train.Phases {
			if _, err := NewOptimizer(ph.Optimizer); err != nil {
				return err
			}
		}
	}
	return nil
}
