package export

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dlc-lang/dlc/ir"
)

// The translation of one IR function into the body of a Python function.
//
// Each op becomes one assignment (v12 = torch.relu(v11)), in the function's order, except
// the sources: an input is its argument, a constant a Python number, a parameter or state
// the attribute of the module that owns it (self.dense0.weight). A dense layer's product
// and bias, matmul(x, W) then add(·, b) with W and b one torch Linear's, become one call of
// that layer (self.dense0(x)). Only the ops the wanted outputs depend on are written, so
// the gradient half of a step function is left out: torch's autograd takes its place.

// pyFunc is what a function body refers to: how a variable's owner is reached.
type pyFunc struct {
	f      *ir.Func
	lay    Layouts
	root   func(owner string) string // the Python expression of the module that owns a variable
	lines  []string
	expr   map[*ir.Op]string
	lit    map[*ir.Op]bool // expr is a Python number, not a tensor
	bound  map[string]bool
	inputs map[string]string
}

// errOp is the error of an op the exporter cannot write.
func errOp(o *ir.Op, target string) error {
	where := ""
	if o.Pos.IsValid() {
		where = o.Pos.String() + ": "
	}
	return fmt.Errorf("%sexport: op %s has no %s translation", where, o.Kind, target)
}

// needed returns the ops the outputs depend on, in the function's order.
func needed(f *ir.Func, outs []ir.Output) []*ir.Op {
	keep := map[*ir.Op]bool{}
	var visit func(o *ir.Op)
	visit = func(o *ir.Op) {
		if keep[o] {
			return
		}
		keep[o] = true
		for _, a := range o.Args {
			visit(a)
		}
	}
	for _, o := range outs {
		visit(o.Value)
	}
	var ops []*ir.Op
	for _, o := range f.Ops {
		if keep[o] {
			ops = append(ops, o)
		}
	}
	return ops
}

// pyIdent reports whether s can be a Python attribute or argument name.
func pyIdent(s string) bool {
	if s == "" || pyKeywords[s] {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

var pyKeywords = map[string]bool{}

func init() {
	for _, k := range strings.Fields("False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield self nets torch nn F dev") {
		pyKeywords[k] = true
	}
}

// pyArg is the Python name of an input.
func pyArg(name string) string {
	if pyIdent(name) {
		return name
	}
	return "in_" + strings.Map(func(r rune) rune {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, name)
}

// translate writes the body that computes outs of f. The lines are unindented; the last
// ones bind each output to the name out_<i>.
func translate(f *ir.Func, outs []ir.Output, lay Layouts, root func(string) string) (*pyFunc, error) {
	p := &pyFunc{f: f, lay: lay, root: root, expr: map[*ir.Op]string{}, lit: map[*ir.Op]bool{},
		bound: map[string]bool{}, inputs: map[string]string{}}
	ops := needed(f, outs)
	uses := map[*ir.Op]int{}
	users := map[*ir.Op]*ir.Op{}
	for _, o := range ops {
		for _, a := range o.Args {
			uses[a]++
			users[a] = o
		}
	}
	for _, o := range outs {
		uses[o.Value]++
	}
	// The symbols the shapes use, bound from the inputs' shapes.
	dev := ""
	for _, in := range f.Inputs {
		name := pyArg(in.Attrs.String("name"))
		p.inputs[in.Attrs.String("name")] = name
		if in.Type.DType == ir.DTypeI32 {
			p.lines = append(p.lines, fmt.Sprintf("%s = %s.long()", name, name))
		} else if dev == "" {
			dev = name + ".device"
		}
		for i, d := range in.Type.Shape {
			if len(d.Syms) == 1 && d.Coef == 1 && !p.bound[d.Syms[0]] {
				p.bound[d.Syms[0]] = true
				p.lines = append(p.lines, fmt.Sprintf("%s = %s.shape[%d]", pyDimName(d.Syms[0]), name, i))
			}
		}
	}
	if dev == "" && len(f.Inputs) > 0 {
		dev = pyArg(f.Inputs[0].Attrs.String("name")) + ".device"
	}
	usesDev := false
	for _, o := range ops {
		if strings.HasPrefix(o.Kind, "random_") || o.Kind == "segment_count" {
			usesDev = true
		}
	}
	if usesDev {
		if dev == "" {
			dev = "_device()"
		}
		p.lines = append(p.lines, "dev = "+dev)
	}
	absorbed := map[*ir.Op]bool{}
	for _, o := range ops {
		if err := p.op(o, uses, users, absorbed); err != nil {
			return nil, err
		}
	}
	for i, o := range outs {
		e := p.expr[o.Value]
		if p.lit[o.Value] {
			e = fmt.Sprintf("torch.tensor(%s)", e)
		}
		p.lines = append(p.lines, fmt.Sprintf("out_%d = %s", i, e))
	}
	return p, nil
}

// pyDimName is the Python name of a dimension symbol.
func pyDimName(s string) string {
	if pyIdent(s) {
		return s
	}
	return "dim_" + s
}

// dim writes a dimension as a Python expression.
func (p *pyFunc) dim(d ir.Dim) (string, error) {
	parts := []string{}
	if d.Coef != 1 || len(d.Syms) == 0 {
		parts = append(parts, strconv.Itoa(d.Coef))
	}
	for _, s := range d.Syms {
		if !p.bound[s] {
			return "", fmt.Errorf("export: dimension %s is not the size of an input of %s", s, p.f.Name)
		}
		parts = append(parts, pyDimName(s))
	}
	return strings.Join(parts, " * "), nil
}

func (p *pyFunc) shape(s ir.Shape) (string, error) {
	parts := make([]string, len(s))
	for i, d := range s {
		v, err := p.dim(d)
		if err != nil {
			return "", err
		}
		parts[i] = v
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)", nil
	}
	return "(" + strings.Join(parts, ", ") + ")", nil
}

// pyFloat writes v as the shortest decimal that reads back as the same float32.
func pyFloat(v float64) string {
	s := strconv.FormatFloat(float64(float32(v)), 'g', -1, 32)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	switch s {
	case "+Inf":
		return "float('inf')"
	case "-Inf":
		return "float('-inf')"
	case "NaN":
		return "float('nan')"
	}
	return s
}

// varRef is the Python expression of a parameter or state in dlc's layout.
func (p *pyFunc) varRef(name string) (string, error) {
	owner, rest, ok := strings.Cut(name, ".")
	if !ok {
		return "", fmt.Errorf("export: variable %s has no block prefix", name)
	}
	for _, c := range strings.Split(rest, ".") {
		if !pyIdent(c) {
			return "", fmt.Errorf("export: variable %s: %q is not a Python name", name, c)
		}
	}
	e := p.root(owner) + "." + rest
	if p.lay[name] == LayoutLinear {
		e += ".t()"
	}
	return e, nil
}

// linearRef is the torch Linear that holds weight name, for a product x·W.
func (p *pyFunc) linearRef(name string) string {
	owner, rest, _ := strings.Cut(name, ".")
	return p.root(owner) + "." + strings.TrimSuffix(rest, ".weight")
}

func (p *pyFunc) arg(o *ir.Op) string { return p.expr[o] }

// tensorArg is an operand as a tensor (a Python number is wrapped).
func (p *pyFunc) tensorArg(o *ir.Op) string {
	if p.lit[o] {
		return fmt.Sprintf("torch.tensor(%s, device=%s)", p.expr[o], p.deviceOf())
	}
	return p.expr[o]
}

// deviceOf is an expression of the device the function computes on.
func (p *pyFunc) deviceOf() string {
	for _, in := range p.f.Inputs {
		if in.Type.DType == ir.DTypeF32 {
			return p.inputs[in.Attrs.String("name")] + ".device"
		}
	}
	return "_device()"
}

func (p *pyFunc) assign(o *ir.Op, e string) {
	v := fmt.Sprintf("v%d", o.ID)
	p.lines = append(p.lines, v+" = "+e)
	p.expr[o] = v
}

// op writes one op.
func (p *pyFunc) op(o *ir.Op, uses map[*ir.Op]int, users map[*ir.Op]*ir.Op, absorbed map[*ir.Op]bool) error {
	a := o.Args
	switch o.Kind {
	case "input":
		p.expr[o] = p.inputs[o.Attrs.String("name")]
		return nil
	case "param", "state":
		e, err := p.varRef(o.Attrs.String("name"))
		p.expr[o] = e
		return err
	case "const":
		p.expr[o] = pyFloat(o.Attrs.Float("value", 0))
		p.lit[o] = true
		return nil
	case "matmul":
		if w := a[1]; w.Kind == "param" && p.lay[w.Attrs.String("name")] == LayoutLinear && !o.Attrs.Bool("tb") {
			x := p.arg(a[0])
			if o.Attrs.Bool("ta") {
				x += ".t()"
			}
			lin := p.linearRef(w.Attrs.String("name"))
			if u := users[o]; uses[o] == 1 && p.hasBias(w) && u.Kind == "add" && (u.Args[0] == o) != (u.Args[1] == o) && biasArg(u, o) == biasOf(w.Attrs.String("name")) {
				absorbed[o] = true // the add that follows calls the layer
				p.expr[o] = x
				return nil
			}
			p.assign(o, fmt.Sprintf("F.linear(%s, %s.weight)", x, lin))
			return nil
		}
		x, y := p.arg(a[0]), p.arg(a[1])
		if o.Attrs.Bool("ta") {
			x += ".t()"
		}
		if o.Attrs.Bool("tb") {
			y += ".t()"
		}
		p.assign(o, x+" @ "+y)
		return nil
	case "add":
		for i := range 2 {
			mm, b := a[i], a[1-i]
			if absorbed[mm] && b.Kind == "param" && b.Attrs.String("name") == biasOf(mm.Args[1].Attrs.String("name")) {
				p.assign(o, fmt.Sprintf("%s(%s)", p.linearRef(mm.Args[1].Attrs.String("name")), p.expr[mm]))
				return nil
			}
		}
		return p.binary(o, "+")
	case "sub":
		return p.binary(o, "-")
	case "mul":
		return p.binary(o, "*")
	case "div":
		return p.binary(o, "/")
	}
	for _, x := range a {
		if absorbed[x] {
			return fmt.Errorf("export: internal: a dense product is used by %s", o.Kind)
		}
	}
	if fn, ok := unaryPy[o.Kind]; ok {
		p.assign(o, fmt.Sprintf(fn, p.tensorArg(a[0])))
		return nil
	}
	t := p.tensorArg
	switch o.Kind {
	case "maximum", "minimum":
		p.assign(o, fmt.Sprintf("torch.%s(%s, %s)", o.Kind, t(a[0]), t(a[1])))
	case "eq":
		p.assign(o, fmt.Sprintf("(%s == %s).float()", t(a[0]), p.arg(a[1])))
	case "leaky_relu":
		p.assign(o, fmt.Sprintf("F.leaky_relu(%s, %s)", t(a[0]), pyFloat(o.Attrs.Float("alpha", 0.01))))
	case "bce":
		p.assign(o, fmt.Sprintf("F.binary_cross_entropy(%s, %s, reduction=\"none\")", t(a[0]), t(a[1])))
	case "bce_logits":
		p.assign(o, fmt.Sprintf("F.binary_cross_entropy_with_logits(%s, %s, reduction=\"none\")", t(a[0]), t(a[1])))
	case "sum", "mean":
		axes, err := ir.ReduceAxes(o.Attrs.Ints("axes"), len(a[0].Type.Shape))
		if err != nil {
			return err
		}
		keep := o.Attrs.Bool("keepdims")
		if len(axes) == len(a[0].Type.Shape) && !keep {
			p.assign(o, fmt.Sprintf("%s.%s()", t(a[0]), o.Kind))
		} else {
			p.assign(o, fmt.Sprintf("%s.%s(dim=%s, keepdim=%s)", t(a[0]), o.Kind, pyTuple(axes), pyBool(keep)))
		}
	case "reshape":
		s, err := p.shape(o.Attrs.Shape("shape"))
		if err != nil {
			return err
		}
		p.assign(o, fmt.Sprintf("%s.reshape%s", t(a[0]), s))
	case "transpose":
		p.assign(o, fmt.Sprintf("%s.permute%s", t(a[0]), pyTuple(o.Attrs.Ints("perm"))))
	case "concat":
		xs := make([]string, len(a))
		for i, x := range a {
			xs[i] = t(x)
		}
		p.assign(o, fmt.Sprintf("torch.cat([%s], dim=%d)", strings.Join(xs, ", "), o.Attrs.Int("axis", -1)))
	case "slice":
		start, end := o.Attrs.Int("start", 0), o.Attrs.Int("end", 0)
		p.assign(o, fmt.Sprintf("%s.narrow(%d, %d, %d)", t(a[0]), o.Attrs.Int("axis", 0), start, end-start))
	case "argmax":
		p.assign(o, fmt.Sprintf("torch.argmax(%s, dim=%d).float()", t(a[0]), o.Attrs.Int("axis", -1)))
	case "softmax", "log_softmax":
		p.assign(o, fmt.Sprintf("torch.%s(%s, dim=%d)", o.Kind, t(a[0]), o.Attrs.Int("axis", -1)))
	case "conv2d":
		if o.Attrs.Int("slack", 0) != 0 {
			return errOp(o, "torch")
		}
		p.assign(o, fmt.Sprintf("F.conv2d(%s, %s, stride=%d, padding=%d)", t(a[0]), t(a[1]), o.Attrs.Int("stride", 1), o.Attrs.Int("pad", 0)))
	case "conv_transpose2d":
		p.assign(o, fmt.Sprintf("F.conv_transpose2d(%s, %s, stride=%d, padding=%d, output_padding=%d)", t(a[0]), t(a[1]),
			o.Attrs.Int("stride", 1), o.Attrs.Int("pad", 0), o.Attrs.Int("output_pad", 0)))
	case "max_pool2d":
		p.assign(o, fmt.Sprintf("F.max_pool2d(%s, %d, stride=%d, padding=%d)", t(a[0]), o.Attrs.Int("kernel", 1), o.Attrs.Int("stride", 1), o.Attrs.Int("pad", 0)))
	case "upsample2d":
		mode := o.Attrs.String("mode")
		extra := ""
		if mode == "bilinear" {
			extra = ", align_corners=False"
		} else if mode != "nearest" {
			return fmt.Errorf("%s: export: upsample mode %q has no torch translation", o.Pos, mode)
		}
		p.assign(o, fmt.Sprintf("F.interpolate(%s, scale_factor=%d, mode=%q%s)", t(a[0]), o.Attrs.Int("scale", 2), mode, extra))
	case "gather":
		p.assign(o, fmt.Sprintf("%s.index_select(0, %s)", t(a[0]), p.arg(a[1])))
	case "segment_sum", "segment_mean", "segment_max", "segment_min", "segment_count":
		n, err := ir.SegmentCount(o.Attrs)
		if err != nil {
			return err
		}
		ns, err := p.dim(n)
		if err != nil {
			return err
		}
		fn := map[string]string{"segment_sum": "segment_sum", "segment_mean": "segment_mean", "segment_max": "segment_amax",
			"segment_min": "segment_amin", "segment_count": "segment_count"}[o.Kind]
		if o.Kind == "segment_count" {
			p.assign(o, fmt.Sprintf("segment_count(%s, %s, dev)", p.arg(a[0]), ns))
		} else {
			p.assign(o, fmt.Sprintf("%s(%s, %s, %s)", fn, t(a[0]), p.arg(a[1]), ns))
		}
	case "random_normal", "random_uniform", "random_bernoulli":
		s, err := p.shape(o.Attrs.Shape("shape"))
		if err != nil {
			return err
		}
		switch o.Kind {
		case "random_normal":
			p.assign(o, fmt.Sprintf("torch.randn(%s, device=dev) * %s + %s", s, pyFloat(o.Attrs.Float("std", 1)), pyFloat(o.Attrs.Float("mean", 0))))
		case "random_uniform":
			lo, hi := o.Attrs.Float("low", 0), o.Attrs.Float("high", 1)
			p.assign(o, fmt.Sprintf("torch.rand(%s, device=dev) * %s + %s", s, pyFloat(hi-lo), pyFloat(lo)))
		default:
			p.assign(o, fmt.Sprintf("(torch.rand(%s, device=dev) < %s).float()", s, pyFloat(o.Attrs.Float("p", 0.5))))
		}
	case "broadcast_like":
		x, like := t(a[0]), a[1]
		if axes := o.Attrs.Ints("axes"); !o.Attrs.Bool("keepdims") && len(axes) > 0 && len(a[0].Type.Shape) != len(like.Type.Shape) {
			ax, err := ir.ReduceAxes(axes, len(like.Type.Shape))
			if err != nil {
				return err
			}
			ax = slices.Clone(ax)
			slices.Sort(ax)
			for _, i := range ax {
				x += fmt.Sprintf(".unsqueeze(%d)", i)
			}
		}
		p.assign(o, fmt.Sprintf("%s.expand_as(%s)", x, t(like)))
	case "sum_to":
		p.assign(o, fmt.Sprintf("sum_to(%s, %s.shape)", t(a[0]), t(a[1])))
	case "count":
		axes, err := ir.ReduceAxes(o.Attrs.Ints("axes"), len(a[0].Type.Shape))
		if err != nil {
			return err
		}
		n := ir.Const(1)
		for _, i := range axes {
			n = n.Mul(a[0].Type.Shape[i])
		}
		d, err := p.dim(n)
		if err != nil {
			return err
		}
		p.expr[o] = "float(" + d + ")"
		p.lit[o] = true
	case "stop_gradient":
		p.assign(o, t(a[0])+".detach()")
	default:
		return errOp(o, "torch")
	}
	return nil
}

var unaryPy = map[string]string{
	"neg": "-%s", "exp": "torch.exp(%s)", "log": "torch.log(%s)", "sqrt": "torch.sqrt(%s)",
	"square": "torch.square(%s)", "abs": "torch.abs(%s)", "sign": "torch.sign(%s)",
	"relu": "torch.relu(%s)", "sigmoid": "torch.sigmoid(%s)", "tanh": "torch.tanh(%s)",
}

func (p *pyFunc) binary(o *ir.Op, sym string) error {
	x, y := o.Args[0], o.Args[1]
	if p.lit[x] && p.lit[y] {
		p.expr[o] = fmt.Sprintf("(%s %s %s)", p.expr[x], sym, p.expr[y])
		p.lit[o] = true
		return nil
	}
	p.assign(o, fmt.Sprintf("%s %s %s", p.expr[x], sym, p.expr[y]))
	return nil
}

// hasBias reports whether the Linear of weight w has a bias.
func (p *pyFunc) hasBias(w *ir.Op) bool {
	_, ok := p.lay[biasOf(w.Attrs.String("name"))]
	return ok && p.lay[biasOf(w.Attrs.String("name"))] == LayoutLinearBias
}

// biasArg is the name of the parameter add u adds to mm, or "".
func biasArg(u, mm *ir.Op) string {
	b := u.Args[0]
	if b == mm {
		b = u.Args[1]
	}
	if b.Kind != "param" {
		return ""
	}
	return b.Attrs.String("name")
}

// biasOf is the name of the bias beside weight name: Enc.dense0.weight → Enc.dense0.bias.
func biasOf(name string) string { return strings.TrimSuffix(name, "weight") + "bias" }

func pyTuple(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	if len(s) == 1 {
		return "(" + s[0] + ",)"
	}
	return "(" + strings.Join(s, ", ") + ")"
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
