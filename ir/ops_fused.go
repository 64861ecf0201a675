package ir

import (
	"fmt"
	"strings"
)

// Fused ops.
//
// A dense layer is y = act(x·W + b). Written as three ops it allocates three B×N buffers and,
// after the product, makes two more passes over memory: matmul writes z₀, add reads z₀ and
// writes z₁, the activation reads z₁ and writes y. The fused op `dense` has the kernel write
// x·W straight into y and then add the bias and apply the activation in one pass over y, in
// place, row by row: one buffer instead of three, one pass instead of two. Its gradient rule is
// written in ordinary ops, so a fused graph can still be differentiated; the activation's
// gradient is expressed through the output y, as every activation in ops.go is, which is why
// the pre-activation never has to be kept and the fusion is legal after autodiff too.
//
// The backward pass of the same layer, as autodiff emits it, is
//
//	g  = matmul(dz', W', tb)    the gradient arriving from the layer above
//	dz = relu_grad(g, y)        (or sigmoid_grad, tanh_grad, leaky_relu_grad)
//	db = sum_to(dz, b)          a column sum
//	dx = matmul(dz, W, tb)
//	dW = matmul(x, dz, ta)
//
// dz has three users, so it must exist in memory whatever we fuse: an op computing db
// straight from (g, y) would only read g and y a second time, and since every op has one
// result the column sum cannot ride along with the pass that produces dz either. What does
// pay is the mirror image of the forward fusion: `matmul_act_grad` computes act_grad(a·b, y)
// by letting the product write into dz and applying the activation's gradient there, in
// place. That removes g: a B×N allocation (which Go zeroes, and the collector later
// reclaims), and the step touches two B×N buffers instead of three. It applies to every
// hidden layer, because that is where the gradient arrives through a matmul; the top layer's
// gradient comes from the loss, not from a product, and is left alone. On the 784-256-64-
// 256-784 autoencoder step at batch 128 the two fusions together cut the bytes allocated
// per step by a third (6.5 MB to 4.4 MB); the time saved is small beside the Gemms.
//
// If the IR grows multi-result ops, the next step is the column sum in the same epilogue.

// actGrad appends the gradient of dense's activation act applied to (dy, y), or returns dy
// for "none". attrs are the fused op's, which carry the activation's own attributes.
func actGrad(b *Builder, act string, attrs Attrs, dy, y *Op) *Op {
	if act == "none" {
		return dy
	}
	d := opTable[act]
	return b.Op(d.Act.Grad, actAttrs(d, attrs), dy, y)
}

// actAttrs picks the activation d's attributes out of a fused op's attributes.
func actAttrs(d *OpDef, attrs Attrs) Attrs {
	var out Attrs
	for _, ad := range d.Attrs {
		if v, ok := attrs[ad.Name]; ok {
			if out == nil {
				out = Attrs{}
			}
			out[ad.Name] = v
		}
	}
	return out
}

// checkAct checks a fused op's act attribute and the activation's attributes it carries:
// act is "none" or an op marked Activation in the table.
func checkAct(a Attrs) error {
	act := a.String("act")
	d, ok := opTable[act]
	if act != "none" && (!ok || d.Act == nil) {
		return fmt.Errorf("unknown activation %q (want none, %s)", act, strings.Join(Activations(), ", "))
	}
	for _, k := range a.Keys() {
		if k == "act" || k == "ta" || k == "tb" || act != "none" && d.Attr(k) != nil {
			continue
		}
		return fmt.Errorf("unknown attribute %s for activation %s", k, act)
	}
	if act == "none" {
		return nil
	}
	if err := d.CheckAttrs(actAttrs(d, a)); err != nil {
		return fmt.Errorf("%s: %v", act, err)
	}
	return nil
}

// IsBiasShape reports whether b is a row bias for an [M, N] result: shape [N] or [1, N].
func IsBiasShape(b Shape, n Dim) bool {
	switch len(b) {
	case 1:
		return b[0].Equal(n)
	case 2:
		return b[0].Equal(Const(1)) && b[1].Equal(n)
	}
	return false
}

func init() {
	// dense(x, w, b){act, alpha, ta, tb} = act(op(x)·op(w) + b), b a row bias.
	fusedAttrs := append([]AttrDef{{Name: "act", Type: AttrString}}, transposeFlags...)
	def(&OpDef{Kind: "dense", Arity: 3, Class: Fused, Attrs: fusedAttrs, OpenAttrs: true,
		IROnly: "made by fusion; the layer is std/nn's dense", Doc: "(x, w, b): act(op(x)·op(w) + b), b a row bias; carries the activation's attributes",
		Shape: func(args []Type, a Attrs) (Shape, error) {
			if err := checkAct(a); err != nil {
				return nil, err
			}
			s, err := matmulShape(args[:2], a)
			if err != nil {
				return nil, err
			}
			if !IsBiasShape(args[2].Shape, s[1]) {
				return nil, fmt.Errorf("got bias %v, want [%v] or [1, %v]", args[2].Shape, s[1], s[1])
			}
			return s, nil
		},
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			x, w, bias := op.Args[0], op.Args[1], op.Args[2]
			dz := actGrad(b, op.Attrs.String("act"), op.Attrs, dy, op)
			mm := &Op{Kind: "matmul", Args: []*Op{x, w}, Type: op.Type,
				Attrs: Attrs{"ta": op.Attrs.Bool("ta"), "tb": op.Attrs.Bool("tb")}}
			g := opTable["matmul"].Grad(b, mm, dz, need[:2])
			if need[2] {
				g = append(g, unbroadcast(b, dz, bias))
			} else {
				g = append(g, nil)
			}
			return g
		}})

	// matmul_act_grad(a, b, y){act, alpha, ta, tb} = act_grad(op(a)·op(b), y): a gradient
	// helper, not differentiated, like the act_grad ops it fuses.
	def(&OpDef{Kind: "matmul_act_grad", Arity: 3, Class: Fused, Attrs: fusedAttrs, OpenAttrs: true, NoGrad: true,
		IROnly: "made by fusion", Doc: "(a, b, y): act_grad(op(a)·op(b), y)",
		Shape: func(args []Type, a Attrs) (Shape, error) {
			if err := checkAct(a); err != nil {
				return nil, err
			}
			s, err := matmulShape(args[:2], a)
			if err != nil {
				return nil, err
			}
			if !args[2].Shape.Equal(s) {
				return nil, fmt.Errorf("got y %v, want the product's shape %v", args[2].Shape, s)
			}
			return s, nil
		}})
}
