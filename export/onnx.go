package export

import (
	"fmt"
	"slices"

	"github.com/dlc-lang/dlc/ir"
)

// ONNX writes one evaluation-mode function of a module (a block, or a role's function:
// sample, encode, decode, reconstruct, predict, …) as an ONNX model of opset 17. Its
// inputs keep their names and their symbolic dimensions (the batch B stays dynamic); its
// weights are initializers under dlc's names, in dlc's layout (x·W is a MatMul). Each op
// of the lowered function becomes one node or a few; an op without a rule is an error
// naming it and its .dl line.
func ONNX(m *ir.Module, fn string, vars map[string]Tensor, source string) ([]byte, error) {
	f := m.Func(fn)
	if f == nil {
		return nil, fmt.Errorf("export: no function %s", fn)
	}
	g := &onnxGraph{f: f, vars: vars, names: map[*ir.Op]string{}, inits: map[string]bool{}}
	for _, in := range f.Inputs {
		if in.Type.DType != ir.DTypeF32 {
			return nil, fmt.Errorf("export: %s: input %s is %s; ONNX export takes float inputs only (graph models are not exported to ONNX yet)", fn, in.Attrs.String("name"), in.Type.DType)
		}
		dims, sizes := onnxDims(in.Type.Shape)
		g.inputs = append(g.inputs, valueInfo(in.Attrs.String("name"), onnxFloat, dims, sizes))
	}
	for _, o := range needed(f, f.Outputs) {
		if err := g.op(o); err != nil {
			return nil, err
		}
	}
	var outs []pb
	for _, o := range f.Outputs {
		// An output is its own name: an Identity from the value that computes it.
		g.node("Identity", []string{g.names[o.Value]}, o.Name, nil)
		dims, sizes := onnxDims(o.Value.Type.Shape)
		outs = append(outs, valueInfo(o.Name, onnxFloat, dims, sizes))
	}
	var graph pb
	for _, n := range g.nodes {
		graph.Msg(1, n.encode())
	}
	graph.String(2, fn)
	for _, t := range g.initializers {
		graph.Msg(5, t)
	}
	graph.String(10, fmt.Sprintf("dlc's function @%s of %s, in evaluation mode", fn, source))
	for _, in := range g.inputs {
		graph.Msg(11, in)
	}
	for _, o := range outs {
		graph.Msg(12, o)
	}
	var opset pb
	opset.String(1, "")
	opset.Int(2, 17)
	var model pb
	model.Int(1, 8) // IR version 8 goes with opset 17
	model.String(2, "dlc")
	model.Msg(7, graph)
	model.Msg(8, opset)
	return model, nil
}

// onnxDims writes a shape: a symbolic dimension by its name, a constant by its size.
func onnxDims(s ir.Shape) ([]string, []int) {
	dims, sizes := make([]string, len(s)), make([]int, len(s))
	for i, d := range s {
		if d.IsConst() {
			sizes[i] = d.Coef
		} else {
			dims[i] = d.String()
		}
	}
	return dims, sizes
}

type onnxGraph struct {
	f            *ir.Func
	vars         map[string]Tensor
	names        map[*ir.Op]string
	nodes        []onnxNode
	initializers []pb
	inits        map[string]bool
	inputs       []pb
	n            int
}

func (g *onnxGraph) fresh() string {
	g.n++
	return fmt.Sprintf("t%d", g.n)
}

// node appends a node and returns its output's name (out, or a fresh one when empty).
func (g *onnxGraph) node(op string, in []string, out string, attrs []onnxAttr) string {
	if out == "" {
		out = g.fresh()
	}
	g.nodes = append(g.nodes, onnxNode{op: op, inputs: in, outputs: []string{out}, name: fmt.Sprintf("n%d_%s", len(g.nodes), op), attrs: attrs})
	return out
}

func (g *onnxGraph) floatConst(v float32) string {
	name := fmt.Sprintf("c_%g", v)
	if !g.inits[name] {
		g.inits[name] = true
		g.initializers = append(g.initializers, tensorProto(name, nil, []float32{v}, nil))
	}
	return name
}

func (g *onnxGraph) intsConst(vs ...int64) string {
	name := fmt.Sprintf("i_%v", vs)
	if !g.inits[name] {
		g.inits[name] = true
		g.initializers = append(g.initializers, tensorProto(name, []int{len(vs)}, nil, vs))
	}
	return name
}

func ints(name string, vs ...int) onnxAttr {
	a := onnxAttr{name: name, kind: attrInts}
	for _, v := range vs {
		a.ints = append(a.ints, int64(v))
	}
	return a
}

func intAttr(name string, v int) onnxAttr { return onnxAttr{name: name, kind: attrInt, i: int64(v)} }

var onnxUnary = map[string]string{"neg": "Neg", "exp": "Exp", "log": "Log", "sqrt": "Sqrt", "abs": "Abs", "sign": "Sign",
	"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "stop_gradient": "Identity"}

var onnxBinary = map[string]string{"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "maximum": "Max", "minimum": "Min"}

func (g *onnxGraph) op(o *ir.Op) error {
	a := make([]string, len(o.Args))
	for i, x := range o.Args {
		a[i] = g.names[x]
	}
	set := func(n string) { g.names[o] = n }
	switch o.Kind {
	case "input":
		set(o.Attrs.String("name"))
		return nil
	case "param", "state":
		n := o.Attrs.String("name")
		t, ok := g.vars[n]
		if !ok {
			return fmt.Errorf("export: no weights for %s", n)
		}
		if !g.inits[n] {
			g.inits[n] = true
			g.initializers = append(g.initializers, tensorProto(n, t.Shape, t.Data, nil))
		}
		set(n)
		return nil
	case "const":
		set(g.floatConst(float32(o.Attrs.Float("value", 0))))
		return nil
	}
	if op, ok := onnxUnary[o.Kind]; ok {
		set(g.node(op, a, "", nil))
		return nil
	}
	if op, ok := onnxBinary[o.Kind]; ok {
		set(g.node(op, a, "", nil))
		return nil
	}
	switch o.Kind {
	case "square":
		set(g.node("Mul", []string{a[0], a[0]}, "", nil))
	case "leaky_relu":
		set(g.node("LeakyRelu", a, "", []onnxAttr{{name: "alpha", kind: attrFloat, f: float32(o.Attrs.Float("alpha", 0.01))}}))
	case "eq":
		e := g.node("Equal", a, "", nil)
		set(g.node("Cast", []string{e}, "", []onnxAttr{intAttr("to", onnxFloat)}))
	case "bce_logits": // max(z, 0) − z·t + log(1 + exp(−|z|))
		z, t := a[0], a[1]
		sp := g.node("Softplus", []string{g.node("Neg", []string{g.node("Abs", []string{z}, "", nil)}, "", nil)}, "", nil)
		set(g.node("Add", []string{g.node("Sub", []string{g.node("Relu", []string{z}, "", nil), g.node("Mul", []string{z, t}, "", nil)}, "", nil), sp}, "", nil))
	case "bce": // −(t·max(log p, −100) + (1−t)·max(log(1−p), −100))
		p, t := a[0], a[1]
		one, floor := g.floatConst(1), g.floatConst(-100)
		lp := g.node("Max", []string{g.node("Log", []string{p}, "", nil), floor}, "", nil)
		lq := g.node("Max", []string{g.node("Log", []string{g.node("Sub", []string{one, p}, "", nil)}, "", nil), floor}, "", nil)
		s := g.node("Add", []string{g.node("Mul", []string{t, lp}, "", nil), g.node("Mul", []string{g.node("Sub", []string{one, t}, "", nil), lq}, "", nil)}, "", nil)
		set(g.node("Neg", []string{s}, "", nil))
	case "sum", "mean":
		axes, err := ir.ReduceAxes(o.Attrs.Ints("axes"), len(o.Args[0].Type.Shape))
		if err != nil {
			return err
		}
		keep := 0
		if o.Attrs.Bool("keepdims") {
			keep = 1
		}
		if o.Kind == "sum" { // opset 13: ReduceSum takes its axes as an input
			ax := make([]int64, len(axes))
			for i, v := range axes {
				ax[i] = int64(v)
			}
			set(g.node("ReduceSum", []string{a[0], g.intsConst(ax...)}, "", []onnxAttr{intAttr("keepdims", keep)}))
		} else {
			set(g.node("ReduceMean", a, "", []onnxAttr{ints("axes", axes...), intAttr("keepdims", keep)}))
		}
	case "matmul":
		x, y := a[0], a[1]
		if o.Attrs.Bool("ta") {
			x = g.node("Transpose", []string{x}, "", []onnxAttr{ints("perm", 1, 0)})
		}
		if o.Attrs.Bool("tb") {
			y = g.node("Transpose", []string{y}, "", []onnxAttr{ints("perm", 1, 0)})
		}
		set(g.node("MatMul", []string{x, y}, "", nil))
	case "reshape":
		s := o.Attrs.Shape("shape")
		dims := make([]int64, len(s))
		free := 0
		for i, d := range s {
			if d.IsConst() {
				dims[i] = int64(d.Coef)
			} else {
				dims[i] = -1
				free++
			}
		}
		if free > 1 {
			return fmt.Errorf("%s: export: reshape to %v has %d symbolic dimensions; ONNX export takes one (the batch)", o.Pos, s, free)
		}
		set(g.node("Reshape", []string{a[0], g.intsConst(dims...)}, "", nil))
	case "transpose":
		set(g.node("Transpose", a, "", []onnxAttr{ints("perm", o.Attrs.Ints("perm")...)}))
	case "concat":
		set(g.node("Concat", a, "", []onnxAttr{intAttr("axis", o.Attrs.Int("axis", -1))}))
	case "slice":
		ax, s, e := int64(o.Attrs.Int("axis", 0)), int64(o.Attrs.Int("start", 0)), int64(o.Attrs.Int("end", 0))
		set(g.node("Slice", []string{a[0], g.intsConst(s), g.intsConst(e), g.intsConst(ax)}, "", nil))
	case "argmax":
		am := g.node("ArgMax", a, "", []onnxAttr{intAttr("axis", o.Attrs.Int("axis", -1)), intAttr("keepdims", 0)})
		set(g.node("Cast", []string{am}, "", []onnxAttr{intAttr("to", onnxFloat)}))
	case "softmax":
		set(g.node("Softmax", a, "", []onnxAttr{intAttr("axis", o.Attrs.Int("axis", -1))}))
	case "log_softmax":
		set(g.node("LogSoftmax", a, "", []onnxAttr{intAttr("axis", o.Attrs.Int("axis", -1))}))
	case "conv2d":
		if o.Attrs.Int("slack", 0) != 0 {
			return errOp(o, "ONNX")
		}
		s, p := o.Attrs.Int("stride", 1), o.Attrs.Int("pad", 0)
		set(g.node("Conv", a, "", []onnxAttr{ints("strides", s, s), ints("pads", p, p, p, p)}))
	case "conv_transpose2d":
		s, p, op := o.Attrs.Int("stride", 1), o.Attrs.Int("pad", 0), o.Attrs.Int("output_pad", 0)
		set(g.node("ConvTranspose", a, "", []onnxAttr{ints("strides", s, s), ints("pads", p, p, p, p), ints("output_padding", op, op)}))
	case "max_pool2d":
		k, s, p := o.Attrs.Int("kernel", 1), o.Attrs.Int("stride", 1), o.Attrs.Int("pad", 0)
		set(g.node("MaxPool", a, "", []onnxAttr{ints("kernel_shape", k, k), ints("strides", s, s), ints("pads", p, p, p, p)}))
	case "upsample2d":
		sc := float32(o.Attrs.Int("scale", 2))
		var scales pb
		name := fmt.Sprintf("scales_%g", sc)
		if !g.inits[name] {
			g.inits[name] = true
			scales = tensorProto(name, []int{4}, []float32{1, 1, sc, sc}, nil)
			g.initializers = append(g.initializers, scales)
		}
		attrs := []onnxAttr{{name: "mode", kind: attrString, s: "nearest"}, {name: "coordinate_transformation_mode", kind: attrString, s: "asymmetric"},
			{name: "nearest_mode", kind: attrString, s: "floor"}}
		if o.Attrs.String("mode") == "bilinear" {
			attrs = []onnxAttr{{name: "mode", kind: attrString, s: "linear"}, {name: "coordinate_transformation_mode", kind: attrString, s: "half_pixel"}}
		}
		set(g.node("Resize", []string{a[0], "", name}, "", attrs))
	case "broadcast_like":
		x := a[0]
		if axes := o.Attrs.Ints("axes"); !o.Attrs.Bool("keepdims") && len(axes) > 0 && len(o.Args[0].Type.Shape) != len(o.Args[1].Type.Shape) {
			ax, err := ir.ReduceAxes(axes, len(o.Args[1].Type.Shape))
			if err != nil {
				return err
			}
			ax = slices.Clone(ax)
			slices.Sort(ax)
			ax64 := make([]int64, len(ax))
			for i, v := range ax {
				ax64[i] = int64(v)
			}
			x = g.node("Unsqueeze", []string{x, g.intsConst(ax64...)}, "", nil)
		}
		set(g.node("Expand", []string{x, g.node("Shape", []string{a[1]}, "", nil)}, "", nil))
	default:
		return errOp(o, "ONNX")
	}
	return nil
}

// Draws reports whether f draws random numbers (a denoising autoencoder's corrupt).
func Draws(f *ir.Func) bool {
	if f == nil {
		return false
	}
	for _, o := range f.Ops {
		if d, ok := ir.Lookup(o.Kind); ok && d.Class == ir.Random {
			return true
		}
	}
	return false
}
