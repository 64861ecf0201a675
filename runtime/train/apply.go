package train

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/data"
)

// ApplyBlock runs function fn, a block's standalone function with one tensor input, on the
// rows of x (shape [N, …]) in batches, and returns its output "out" for all rows, [N, …].
// It is how an encoder maps data to codes, a decoder codes to images, a discriminator
// images to logits.
func (t *Trainer) ApplyBlock(fn string, x *runtime.Tensor, batch int) (*runtime.Tensor, error) {
	f := t.Module.Func(fn)
	if f == nil {
		var names []string
		for _, g := range t.Module.Funcs {
			names = append(names, g.Name)
		}
		return nil, fmt.Errorf("no block function %s (have %v)", fn, names)
	}
	if len(f.Inputs) != 1 {
		return nil, fmt.Errorf("%s takes %d tensors; apply feeds one", fn, len(f.Inputs))
	}
	if len(x.Shape) == 0 || x.Shape[0] == 0 {
		return nil, fmt.Errorf("the input holds no rows (shape %s)", runtime.ShapeString(x.Shape))
	}
	p, err := t.Program(fn)
	if err != nil {
		return nil, err
	}
	n := x.Shape[0]
	row := len(x.Data) / n
	in := f.Inputs[0]
	var out *runtime.Tensor
	for lo := 0; lo < n; lo += batch {
		m := min(batch, n-lo)
		shape, err := sampleShape(in.Type.Shape, m)
		if err != nil {
			return nil, fmt.Errorf("input %s of %s: %v", in.Name, fn, err)
		}
		if runtime.NumElements(shape) != m*row {
			return nil, fmt.Errorf("rows of %d values, but input %s of %s wants %v (%d values a row)",
				row, in.Name, fn, in.Type.Shape, runtime.NumElements(shape)/m)
		}
		res, err := p.Run(map[string]*runtime.Tensor{in.Name: {Shape: shape, Data: x.Data[lo*row : (lo+m)*row]}}, t.Vars)
		if err != nil {
			return nil, err
		}
		y := res["out"]
		if y == nil {
			return nil, fmt.Errorf("%s has no output out", fn)
		}
		if out == nil {
			s := append([]int{n}, y.Shape[1:]...)
			out = runtime.NewTensor(s...)
		}
		copy(out.Data[lo*(len(out.Data)/n):], y.Data)
	}
	return out, nil
}

// familyRoles says what each role's function does and which models have one, for the
// message when a command needs one the model lacks.
var familyRoles = map[ir.Role]struct{ does, who string }{
	ir.RolePredict:     {"samples → predictions", "a model trained with a loss"},
	ir.RoleReconstruct: {"x → its reconstruction", "an autoencoder"},
	ir.RoleEncode:      {"x → its code", "an autoencoder"},
	ir.RoleDecode:      {"a code → its reconstruction", "an autoencoder"},
	ir.RoleCorrupt:     {"x → x with the training noise", "a denoising autoencoder (corrupt = mask(q) or gaussian(σ))"},
	ir.RoleScore:       {"x → each sample's reconstruction error", "an autoencoder"},
	ir.RoleSample:      {"noise → a sample", "a GAN, a variational or an adversarial autoencoder"},
}

// HasRole reports whether the model has a function for role.
func (t *Trainer) HasRole(role ir.Role) bool {
	_, ok := t.Spec.Role(role)
	return ok
}

// ApplyRole runs the function the train spec names for role (an autoencoder's encode,
// score, corrupt, …) on the rows of x, as ApplyBlock does.
func (t *Trainer) ApplyRole(role ir.Role, x *runtime.Tensor, batch int) (*runtime.Tensor, error) {
	fn, ok := t.Spec.Role(role)
	if !ok {
		var have []string
		for _, r := range t.Spec.Roles {
			have = append(have, r.Role.String())
		}
		r := familyRoles[role]
		msg := fmt.Sprintf("this model has no %s function (%s): %s has one", role, r.does, r.who)
		if len(have) > 0 {
			msg += "; this one has " + strings.Join(have, ", ")
		}
		return nil, errors.New(msg)
	}
	y, err := t.ApplyBlock(fn, x, batch)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	return y, nil
}

// SetTensor is the samples of a data set as one tensor [N, …], sharing its array.
func SetTensor(set *data.Set) *runtime.Tensor {
	return &runtime.Tensor{Shape: set.XShape, Data: set.X}
}
