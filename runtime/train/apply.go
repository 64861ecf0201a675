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
// images to logits. A function of several inputs is ApplyRows'.
func (t *Trainer) ApplyBlock(fn string, x *runtime.Tensor, batch int) (*runtime.Tensor, error) {
	f, err := t.blockFunc(fn)
	if err != nil {
		return nil, err
	}
	if len(f.Inputs) != 1 {
		return nil, fmt.Errorf("%s takes %s; this feeds one", fn, inputList(f))
	}
	return t.ApplyRows(fn, []Rows{{Input: f.Inputs[0].Name, From: "the input", T: x}}, batch)
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
	fn, err := t.RoleFunc(role)
	if err != nil {
		return nil, err
	}
	y, err := t.ApplyBlock(fn, x, batch)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	return y, nil
}

// ApplyRoleSet runs the function the train spec names for role on every sample of set (the
// which set, for messages), each input fed as training fed it: the samples, and for a
// conditional autoencoder's (x, y) the targets too.
func (t *Trainer) ApplyRoleSet(role ir.Role, set *data.Set, which string, batch int) (*runtime.Tensor, error) {
	fn, err := t.RoleFunc(role)
	if err != nil {
		return nil, err
	}
	if f := t.Module.Func(fn); f == nil || len(f.Inputs) == 1 {
		return t.ApplyRole(role, SetTensor(set), batch)
	}
	rs, err := t.setFuncRows(fn, set, which, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	y, err := t.ApplyRows(fn, rs, batch)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	return y, nil
}

// RoleFunc returns the function the train spec names for role, or an error that says what
// has one and which roles this model has.
func (t *Trainer) RoleFunc(role ir.Role) (string, error) {
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
		return "", errors.New(msg)
	}
	return fn, nil
}

// SetTensor is the samples of a data set as one tensor [N, …], sharing its array.
func SetTensor(set *data.Set) *runtime.Tensor {
	return &runtime.Tensor{Shape: set.XShape, Data: set.X}
}
