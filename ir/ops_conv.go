package ir

import "fmt"

// Image ops, NCHW: convolution, transposed convolution, max pooling and upsampling, with
// the ops their gradients are written in.
//
// A convolution's gradients are convolutions again. For y = conv2d(x, w), the input
// gradient is the transposed convolution of dy with the same w, and the weight gradient
// correlates x with dy (conv2d_weight_grad). A transposed convolution swaps the two roles:
// its input gradient is conv2d(dy, w) and its weight gradient conv2d_weight_grad(dy, x).
//
// The shape rule refuses a convolution whose windows do not tile the padded input exactly,
// so that no input row is silently dropped. A transposed convolution's output_pad breaks
// that tiling on purpose: its output is output_pad rows and columns longer than the windows
// of its adjoint cover. So conv2d and conv2d_weight_grad take an optional attribute slack,
// 0 ≤ slack < stride, the number of trailing rows and columns of the padded input that no
// window reaches. The compiler never sets it; gradients do, with slack = output_pad, and a
// conv2d with slack s has as input gradient a transposed convolution with output_pad s.
//
// Strides and padding are one int each, the same on both axes; kernels may be rectangular.
// Spatial sizes and channels must be constants; the batch may be symbolic.

// ConvOut returns the output length of a window of size k moved by stride over an axis of
// length n padded by pad on both sides: (n + 2·pad − k)/stride + 1. It is an error when
// that is not a whole number ≥ 1, and the message names every number.
func ConvOut(n, k, stride, pad int) (int, error) {
	switch {
	case k < 1:
		return 0, fmt.Errorf("kernel %d, want ≥ 1", k)
	case stride < 1:
		return 0, fmt.Errorf("stride %d, want ≥ 1", stride)
	case pad < 0:
		return 0, fmt.Errorf("pad %d, want ≥ 0", pad)
	}
	span := n + 2*pad - k
	if span < 0 {
		return 0, fmt.Errorf("kernel %d does not fit in %d + 2·%d: the output is empty", k, n, pad)
	}
	if span%stride != 0 {
		return 0, fmt.Errorf("(%d + 2·%d − %d)/%d + 1 = %.4g is not a whole number: kernel %d, stride %d and pad %d do not tile %d",
			n, pad, k, stride, float64(span)/float64(stride)+1, k, stride, pad, n)
	}
	return span/stride + 1, nil
}

// checkWindow reports a kernel, stride or pad out of range, before any axis is looked at.
func checkWindow(k, stride, pad int) error {
	switch {
	case k < 1:
		return fmt.Errorf("kernel %d, want ≥ 1", k)
	case stride < 1:
		return fmt.Errorf("stride %d, want ≥ 1", stride)
	case pad < 0:
		return fmt.Errorf("pad %d, want ≥ 0", pad)
	}
	return nil
}

// ConvTransposeOut returns the output length of a transposed convolution over an axis of
// length n: (n − 1)·stride − 2·pad + k + outputPad, PyTorch's ConvTranspose2d.
func ConvTransposeOut(n, k, stride, pad, outputPad int) (int, error) {
	switch {
	case k < 1:
		return 0, fmt.Errorf("kernel %d, want ≥ 1", k)
	case stride < 1:
		return 0, fmt.Errorf("stride %d, want ≥ 1", stride)
	case pad < 0:
		return 0, fmt.Errorf("pad %d, want ≥ 0", pad)
	case outputPad < 0 || outputPad >= stride:
		return 0, fmt.Errorf("output_pad %d, want 0 ≤ output_pad < stride %d", outputPad, stride)
	}
	out := (n-1)*stride - 2*pad + k
	if n < 1 || out < 1 {
		return 0, fmt.Errorf("(%d − 1)·%d − 2·%d + %d = %d: the output is empty", n, stride, pad, k, out)
	}
	return out + outputPad, nil
}

// intAttr returns the int attribute k of a, which must be present and an int: a shape rule
// that fell back to a default for a mistyped attribute would compute another op.
func intAttr(a Attrs, k string) (int, error) {
	v, ok := a[k]
	if !ok {
		return 0, fmt.Errorf("missing attribute %s", k)
	}
	n, ok := v.(int)
	if !ok {
		return 0, fmt.Errorf("attribute %s is %v, want an int", k, v)
	}
	return n, nil
}

// ConvAttrs returns the stride and pad attributes of a convolution or pooling op.
func ConvAttrs(a Attrs) (stride, pad int, err error) {
	if stride, err = intAttr(a, "stride"); err != nil {
		return 0, 0, err
	}
	if pad, err = intAttr(a, "pad"); err != nil {
		return 0, 0, err
	}
	return stride, pad, nil
}

// Slack returns the optional slack attribute of conv2d and conv2d_weight_grad: 0 when
// absent, else an int in [0, stride).
func Slack(a Attrs, stride int) (int, error) {
	v, ok := a["slack"]
	if !ok {
		return 0, nil
	}
	n, ok := v.(int)
	if !ok || n < 0 || n >= stride {
		return 0, fmt.Errorf("attribute slack is %v, want an int in [0, stride %d)", v, stride)
	}
	return n, nil
}

// constDims returns the constant values of s[from:], or an error naming what is symbolic.
func constDims(what string, s Shape, from int) ([]int, error) {
	out := make([]int, 0, len(s)-from)
	for _, d := range s[from:] {
		if !d.IsConst() {
			return nil, fmt.Errorf("%s %v has symbolic dimension %v, want constants after the batch", what, s, d)
		}
		out = append(out, d.Coef)
	}
	return out, nil
}

// imageDims checks that s is [B, C, H, W] with constant C, H and W, and returns them.
func imageDims(what string, s Shape) (c, h, w int, err error) {
	if len(s) != 4 {
		return 0, 0, 0, fmt.Errorf("got %s %v, want [B, C, H, W]", what, s)
	}
	d, err := constDims(what, s, 1)
	if err != nil {
		return 0, 0, 0, err
	}
	return d[0], d[1], d[2], nil
}

// filterDims checks that s is a constant [A, B, kh, kw] filter bank.
func filterDims(s Shape) ([]int, error) {
	if len(s) != 4 {
		return nil, fmt.Errorf("got weight %v, want rank 4 [out, in, kh, kw]", s)
	}
	return constDims("weight", s, 0)
}

// OutSize applies ConvOut to the height and width less the slack, prefixing errors with
// the axis.
func OutSize(h, w, kh, kw, stride, pad, slack int) (ho, wo int, err error) {
	if err := checkWindow(min(kh, kw), stride, pad); err != nil {
		return 0, 0, err
	}
	if ho, err = ConvOut(h-slack, kh, stride, pad); err != nil {
		return 0, 0, fmt.Errorf("height: %v", err)
	}
	if wo, err = ConvOut(w-slack, kw, stride, pad); err != nil {
		return 0, 0, fmt.Errorf("width: %v", err)
	}
	return ho, wo, nil
}

// convSlack reads stride, pad and slack.
func convSlack(a Attrs) (stride, pad, slack int, err error) {
	if stride, pad, err = ConvAttrs(a); err != nil {
		return 0, 0, 0, err
	}
	slack, err = Slack(a, stride)
	return stride, pad, slack, err
}

// conv2d(x [B, C, H, W], w [O, C, kh, kw]){stride, pad} → [B, O, Ho, Wo].
func conv2dShape(args []Type, a Attrs) (Shape, error) {
	c, h, w, err := imageDims("input", args[0].Shape)
	if err != nil {
		return nil, err
	}
	f, err := filterDims(args[1].Shape)
	if err != nil {
		return nil, err
	}
	if f[1] != c {
		return nil, fmt.Errorf("input %v has %d channels, weight %v wants %d", args[0].Shape, c, args[1].Shape, f[1])
	}
	stride, pad, slack, err := convSlack(a)
	if err != nil {
		return nil, err
	}
	ho, wo, err := OutSize(h, w, f[2], f[3], stride, pad, slack)
	if err != nil {
		return nil, err
	}
	return Shape{args[0].Shape[0], Const(f[0]), Const(ho), Const(wo)}, nil
}

// conv_transpose2d(x [B, C, H, W], w [C, O, kh, kw]){stride, pad, output_pad} → [B, O, Hy, Wy].
func convTranspose2dShape(args []Type, a Attrs) (Shape, error) {
	c, h, w, err := imageDims("input", args[0].Shape)
	if err != nil {
		return nil, err
	}
	f, err := filterDims(args[1].Shape)
	if err != nil {
		return nil, err
	}
	if f[0] != c {
		return nil, fmt.Errorf("input %v has %d channels, weight %v [in, out, kh, kw] wants %d", args[0].Shape, c, args[1].Shape, f[0])
	}
	s, p, err := ConvAttrs(a)
	if err != nil {
		return nil, err
	}
	op, err := intAttr(a, "output_pad")
	if err != nil {
		return nil, err
	}
	if err := checkWindow(min(f[2], f[3]), s, p); err != nil {
		return nil, err
	}
	if op < 0 || op >= s {
		return nil, fmt.Errorf("output_pad %d, want 0 ≤ output_pad < stride %d", op, s)
	}
	hy, err := ConvTransposeOut(h, f[2], s, p, op)
	if err != nil {
		return nil, fmt.Errorf("height: %v", err)
	}
	wy, err := ConvTransposeOut(w, f[3], s, p, op)
	if err != nil {
		return nil, fmt.Errorf("width: %v", err)
	}
	return Shape{args[0].Shape[0], Const(f[1]), Const(hy), Const(wy)}, nil
}

// conv2d_weight_grad(x [B, C, H, W], dy [B, O, Ho, Wo]){stride, pad, kernel: [kh, kw]}
// → [O, C, kh, kw]: the gradient of conv2d's weight.
func conv2dWeightGradShape(args []Type, a Attrs) (Shape, error) {
	c, h, w, err := imageDims("input", args[0].Shape)
	if err != nil {
		return nil, err
	}
	o, hy, wy, err := imageDims("gradient", args[1].Shape)
	if err != nil {
		return nil, err
	}
	if !args[0].Shape[0].Equal(args[1].Shape[0]) {
		return nil, fmt.Errorf("input %v and gradient %v differ in batch", args[0].Shape, args[1].Shape)
	}
	k, ok := a["kernel"].([]int)
	if !ok || len(k) != 2 {
		return nil, fmt.Errorf("attribute kernel is %v, want [kh, kw]", a["kernel"])
	}
	stride, pad, slack, err := convSlack(a)
	if err != nil {
		return nil, err
	}
	ho, wo, err := OutSize(h, w, k[0], k[1], stride, pad, slack)
	if err != nil {
		return nil, err
	}
	if ho != hy || wo != wy {
		return nil, fmt.Errorf("input %v gives %d×%d outputs, gradient %v has %d×%d", args[0].Shape, ho, wo, args[1].Shape, hy, wy)
	}
	return constShape(o, c, k[0], k[1]), nil
}

// max_pool2d(x [B, C, H, W]){kernel, stride, pad} → [B, C, Ho, Wo].
func maxPool2dShape(args []Type, a Attrs) (Shape, error) {
	_, h, w, err := imageDims("input", args[0].Shape)
	if err != nil {
		return nil, err
	}
	k, err := intAttr(a, "kernel")
	if err != nil {
		return nil, err
	}
	stride, p, err := ConvAttrs(a)
	if err != nil {
		return nil, err
	}
	if k >= 1 && 2*p > k {
		return nil, fmt.Errorf("pad %d, want at most half the kernel %d, so that no window lies in the padding", p, k)
	}
	ho, wo, err := OutSize(h, w, k, k, stride, p, 0)
	if err != nil {
		return nil, err
	}
	s := args[0].Shape
	return Shape{s[0], s[1], Const(ho), Const(wo)}, nil
}

// max_pool2d_grad(dy, x){kernel, stride, pad} → x's shape.
func maxPool2dGradShape(args []Type, a Attrs) (Shape, error) {
	want, err := maxPool2dShape(args[1:], a)
	if err != nil {
		return nil, err
	}
	if !want.Equal(args[0].Shape) {
		return nil, fmt.Errorf("got gradient %v, want %v for input %v", args[0].Shape, want, args[1].Shape)
	}
	return args[1].Shape, nil
}

// upsampleAttrs checks the scale and mode of upsample2d and its gradient.
func upsampleAttrs(a Attrs) (int, error) {
	if m := a.String("mode"); m != "nearest" && m != "bilinear" {
		return 0, fmt.Errorf("mode %q, want \"nearest\" or \"bilinear\"", m)
	}
	s, err := intAttr(a, "scale")
	if err != nil {
		return 0, err
	}
	if s < 1 {
		return 0, fmt.Errorf("scale %d, want an int ≥ 1", s)
	}
	return s, nil
}

// upsample2d(x [B, C, H, W]){scale, mode} → [B, C, H·scale, W·scale].
func upsample2dShape(args []Type, a Attrs) (Shape, error) {
	s, err := upsampleAttrs(a)
	if err != nil {
		return nil, err
	}
	x := args[0].Shape
	if len(x) != 4 {
		return nil, fmt.Errorf("got input %v, want [B, C, H, W]", x)
	}
	return Shape{x[0], x[1], x[2].Mul(Const(s)), x[3].Mul(Const(s))}, nil
}

// upsample2d_grad(dy [B, C, H·scale, W·scale]){scale, mode} → [B, C, H, W].
func upsample2dGradShape(args []Type, a Attrs) (Shape, error) {
	s, err := upsampleAttrs(a)
	if err != nil {
		return nil, err
	}
	y := args[0].Shape
	if len(y) != 4 {
		return nil, fmt.Errorf("got gradient %v, want [B, C, H·%d, W·%d]", y, s, s)
	}
	out := Shape{y[0], y[1]}
	for _, d := range y[2:] {
		if d.Coef%s != 0 {
			return nil, fmt.Errorf("gradient %v: %v is not a multiple of the scale %d", y, d, s)
		}
		out = append(out, Dim{Coef: d.Coef / s, Syms: d.Syms})
	}
	return out, nil
}

// constShape returns the constant shape of dims.
func constShape(dims ...int) Shape {
	s := make(Shape, len(dims))
	for i, d := range dims {
		s[i] = Const(d)
	}
	return s
}

// convAttrs copies stride and pad from a (checked by the shape rule of a's op), and slack
// when it is set.
func convAttrs(a Attrs) Attrs {
	c := Attrs{"stride": a.Int("stride", 1), "pad": a.Int("pad", 0)}
	if s := a.Int("slack", 0); s > 0 {
		c["slack"] = s
	}
	return c
}

// transposeAttrs is the transposed convolution that undoes a's windows: its output_pad
// restores the slack.
func transposeAttrs(a Attrs) Attrs {
	return Attrs{"stride": a.Int("stride", 1), "pad": a.Int("pad", 0), "output_pad": a.Int("slack", 0)}
}

// slackAttrs is the convolution whose windows a transposed convolution with attributes a
// is the adjoint of.
func slackAttrs(a Attrs) Attrs {
	return convAttrs(Attrs{"stride": a.Int("stride", 1), "pad": a.Int("pad", 0), "slack": a.Int("output_pad", 0)})
}

func withKernel(a Attrs, w *Op) Attrs {
	a["kernel"] = []int{w.Type.Shape[2].Coef, w.Type.Shape[3].Coef}
	return a
}

func conv2dGrad(b *Builder, op, dy *Op, need []bool) []*Op {
	x, w := op.Args[0], op.Args[1]
	g := make([]*Op, 2)
	if need[0] {
		g[0] = b.Op("conv_transpose2d", transposeAttrs(op.Attrs), dy, w)
	}
	if need[1] {
		g[1] = b.Op("conv2d_weight_grad", withKernel(convAttrs(op.Attrs), w), x, dy)
	}
	return g
}

func convTranspose2dGrad(b *Builder, op, dy *Op, need []bool) []*Op {
	x, w := op.Args[0], op.Args[1]
	g := make([]*Op, 2)
	if need[0] {
		g[0] = b.Op("conv2d", slackAttrs(op.Attrs), dy, w)
	}
	if need[1] {
		g[1] = b.Op("conv2d_weight_grad", withKernel(slackAttrs(op.Attrs), w), dy, x)
	}
	return g
}

// conv2dWeightGradGrad: conv2d_weight_grad(x, dy) is linear in each operand; against an
// incoming gradient G shaped like the filters, x receives the transposed convolution of dy
// with G, and dy the convolution of x with G.
func conv2dWeightGradGrad(b *Builder, op, dg *Op, need []bool) []*Op {
	x, dy := op.Args[0], op.Args[1]
	g := make([]*Op, 2)
	if need[0] {
		g[0] = b.Op("conv_transpose2d", transposeAttrs(op.Attrs), dy, dg)
	}
	if need[1] {
		g[1] = b.Op("conv2d", convAttrs(op.Attrs), x, dg)
	}
	return g
}

func init() {
	intDef := func(n string) AttrDef { return AttrDef{Name: n, Type: AttrInt} }
	convDefs := []AttrDef{intDef("stride"), intDef("pad"), {Name: "slack", Type: AttrInt, Optional: true}}
	convParams := []BuiltinParam{tensorParam("x"), tensorParam("w"), attrParam("stride", AttrInt, 1), attrParam("pad", AttrInt, 0)}
	def(&OpDef{Kind: "conv2d", Arity: 2, Class: Contract, Attrs: convDefs, Shape: conv2dShape, Grad: conv2dGrad,
		Builtin: builtin("conv2d", "[B, C, H, W], [O, C, kh, kw] → [B, O, (H + 2·pad − kh)/stride + 1, …]",
			convParams...),
		Doc: "(x, w): cross-correlation, NCHW; one stride and one zero padding for both axes; windows must tile the padded input exactly; " +
			"`slack` (gradients only): trailing rows and columns no window reaches"})
	def(&OpDef{Kind: "conv_transpose2d", Arity: 2, Class: Contract, Attrs: []AttrDef{intDef("stride"), intDef("pad"), intDef("output_pad")},
		Shape: convTranspose2dShape, Grad: convTranspose2dGrad,
		Builtin: builtin("conv_transpose2d", "[B, C, H, W], [C, O, kh, kw] → [B, O, (H − 1)·stride − 2·pad + kh + output_pad, …]",
			append(convParams, attrParam("output_pad", AttrInt, 0))...),
		Doc: "(x, w): PyTorch's ConvTranspose2d, weight [in, out, kh, kw]; 0 ≤ output_pad < stride"})
	def(&OpDef{Kind: "conv2d_weight_grad", Arity: 2, Class: Contract, Attrs: append(convDefs, AttrDef{Name: "kernel", Type: AttrInts}),
		Shape: conv2dWeightGradShape, Grad: conv2dWeightGradGrad,
		IROnly: "conv2d's weight gradient", Doc: "(x, dy) → [O, C, kh, kw]: Σ over the batch of dy correlated with x's windows"})
	// Max pooling's gradient routes dy to each window's arg-max (the first on ties); it is
	// recomputed from x rather than stored, since an op has one result.
	poolDefs := []AttrDef{intDef("kernel"), intDef("stride"), intDef("pad")}
	def(&OpDef{Kind: "max_pool2d", Arity: 1, Class: Reduce, Attrs: poolDefs, Shape: maxPool2dShape,
		Builtin: &Builtin{Name: "max_pool", Shapes: "[B, C, H, W] → [B, C, (H + 2·pad − kernel)/stride + 1, …]",
			Params: []BuiltinParam{tensorParam("x"), attrParam("kernel", AttrInt, nil), attrParam("stride", AttrInt, 0), attrParam("pad", AttrInt, 0)},
			Fill: func(args []Type, a Attrs) { // stride 0, the default, is the kernel
				if a.Int("stride", 0) == 0 {
					a["stride"] = a["kernel"]
				}
			}},
		Doc: "k×k windows, NCHW; the builtin's stride 0 (its default) means the kernel; padding never wins; pad ≤ kernel/2; windows must tile exactly",
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			return []*Op{b.Op("max_pool2d_grad", op.Attrs.Clone(), dy, op.Args[0])}
		}})
	def(&OpDef{Kind: "max_pool2d_grad", Arity: 2, Class: Reduce, Attrs: poolDefs, Shape: maxPool2dGradShape, NoGrad: true,
		IROnly: "a gradient helper", Doc: "(dy, x): each element of dy to its window's arg-max in x, the first on ties"})
	// Upsampling and its gradient are adjoint linear maps, so each is the other's gradient.
	upDefs := []AttrDef{intDef("scale"), {Name: "mode", Type: AttrString}}
	def(&OpDef{Kind: "upsample2d", Arity: 1, Class: Movement, Attrs: upDefs, Shape: upsample2dShape,
		Builtin: builtin("upsample", "[B, C, H, W] → [B, C, H·scale, W·scale]",
			tensorParam("x"), attrParam("scale", AttrInt, 2), attrParam("mode", AttrString, "nearest")),
		Doc: "by an integer scale, NCHW; mode `nearest` or `bilinear` (align_corners=False, as PyTorch)",
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			return []*Op{b.Op("upsample2d_grad", op.Attrs.Clone(), dy)}
		}})
	def(&OpDef{Kind: "upsample2d_grad", Arity: 1, Class: Reduce, Attrs: upDefs, Shape: upsample2dGradShape,
		IROnly: "upsample's gradient", Doc: "(dy): the adjoint of upsample2d, whose gradient it is in turn",
		Grad: func(b *Builder, op, dy *Op, need []bool) []*Op {
			return []*Op{b.Op("upsample2d", op.Attrs.Clone(), dy)}
		}})
}
