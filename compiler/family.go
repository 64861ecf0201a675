package compiler

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// Lower builds the module: a function for each block of the main file that can stand alone,
// the functions of each family block, and the train spec.
func (p *Program) Lower() (*ir.Module, error) {
	m := &ir.Module{}
	for _, d := range p.Main.Decls {
		// Blocks that other blocks call are helpers, generic in their shapes; they are
		// checked through their calls. The others are entry points.
		if d.Block == nil || p.blocks[d.Block.Name] != d.Block || p.called[d.Block.Name] {
			continue
		}
		if d.Block.Kind == "layer" {
			return nil, lang.Errorf(d.Block.Pos, "%s: message-passing layers are not supported yet", d.Block.Name)
		}
		f, ok, err := p.entry(d.Block)
		if err != nil {
			return nil, err
		}
		if ok {
			m.Funcs = append(m.Funcs, f)
		}
	}
	for _, file := range p.Files {
		for _, d := range file.Decls {
			if d.Family != nil {
				if err := p.lowerFamily(m, d.Family); err != nil {
					return nil, err
				}
			}
		}
	}
	if len(p.trains) > 1 {
		return nil, lang.Errorf(p.trains[1].Pos, "train: a file has at most one train block (first at %s)", shortPos(p.trains[0].Pos))
	}
	if len(p.trains) == 1 {
		if err := p.lowerTrain(m, p.trains[0]); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// familyBlock returns the block bound to a family parameter, checking its kind.
func (p *Program) familyBlock(f *lang.Family, prm *lang.Param, kind string) (*lang.Block, error) {
	b, ok := p.blocks[prm.Type.Named]
	if !ok || prm.Type.Named == "" {
		return nil, lang.Errorf(prm.Type.Pos, "%s: %s has type %s, want the name of %s %s block", f.Name, prm.Name, typeString(prm.Type), article(kind), kind)
	}
	if b.Kind != kind {
		return nil, lang.Errorf(prm.Type.Pos, "%s: %s is %s %s, want %s %s block", f.Name, prm.Name, b.Kind, b.Name, article(kind), kind)
	}
	return b, nil
}

func typeString(t *lang.TypeExpr) string {
	if t.Shape != nil {
		return shapeString(t.Shape)
	}
	return t.Named
}

// autoencoder is the meaning of an autoencoder family block.
type autoencoder struct {
	enc, dec *lang.Block
	loss     string
	l2       float64
	lossPos  lexer.Position // where the loss is declared: the loss ops' position
}

func (p *Program) lowerFamily(m *ir.Module, f *lang.Family) error {
	if f.Kind != "autoencoder" {
		return lang.Errorf(f.Pos, "%s: %s family blocks are not supported yet", f.Name, f.Kind)
	}
	ae, err := p.autoencoderOf(f)
	if err != nil {
		return err
	}
	for _, mode := range []string{"loss", "step", "reconstruct"} {
		fn, err := p.autoencoderFunc(f, ae, mode)
		if err != nil {
			return err
		}
		m.Funcs = append(m.Funcs, fn)
	}
	return nil
}

func (p *Program) autoencoderOf(f *lang.Family) (*autoencoder, error) {
	if len(f.Params) != 2 {
		return nil, lang.Errorf(f.Pos, "%s: an autoencoder takes (enc: Encoder, dec: Decoder), got %d parameters", f.Name, len(f.Params))
	}
	enc, err := p.familyBlock(f, f.Params[0], "encoder")
	if err != nil {
		return nil, err
	}
	dec, err := p.familyBlock(f, f.Params[1], "decoder")
	if err != nil {
		return nil, err
	}
	ae := &autoencoder{enc: enc, dec: dec, loss: "bce", lossPos: f.Pos}
	seen := map[string]bool{}
	for _, s := range f.Settings {
		if seen[s.Name] {
			return nil, lang.Errorf(s.Pos, "%s: %s set twice", f.Name, s.Name)
		}
		seen[s.Name] = true
		switch s.Name {
		case "loss":
			name := bareIdent(s.Value)
			if name != "bce" && name != "mse" && name != "l1" {
				return nil, lang.Errorf(s.Value.Pos, "%s: loss = %s, want bce, mse or l1", f.Name, exprString(s.Value))
			}
			ae.loss, ae.lossPos = name, s.Value.Pos
		case "penalty":
			c := bareCall(s.Value)
			if c == nil || c.Func != "l2" || len(c.Args) != 1 {
				return nil, lang.Errorf(s.Value.Pos, "%s: penalty = %s, want l2(lambda)", f.Name, exprString(s.Value))
			}
			v, err := (&lowerer{p: p}).eval(newScope("", ""), c.Args[0].Value)
			if err != nil {
				return nil, err
			}
			if (v.kind != kFloat && v.kind != kInt) || v.num < 0 {
				return nil, lang.Errorf(c.Args[0].Pos, "%s: l2 weight %s, want a number ≥ 0", f.Name, v)
			}
			ae.l2 = v.num
		default:
			return nil, lang.Errorf(s.Pos, "%s: unknown autoencoder setting %s (want loss, penalty)", f.Name, s.Name)
		}
	}
	return ae, nil
}

// autoencoderFunc lowers dec(enc(x)) and, for "loss" and "step", its loss against x.
func (p *Program) autoencoderFunc(f *lang.Family, ae *autoencoder, mode string) (*ir.Func, error) {
	l := p.newLowerer(f.Name + "." + mode)
	top := newScope("", f.Pos.Filename)
	sc := newScope(ae.enc.Name, ae.enc.Pos.Filename)
	ins, ok, err := l.bindEntryParams(ae.enc, sc)
	if err != nil {
		return nil, err
	}
	if !ok || len(ins) != 1 {
		return nil, lang.Errorf(ae.enc.Pos, "%s: an autoencoder's encoder takes one tensor and hyperparameters with defaults", ae.enc.Name)
	}
	x := ins[0]
	codes, err := l.body(ae.enc, sc)
	if err != nil {
		return nil, err
	}
	if len(codes) != 1 {
		return nil, lang.Errorf(ae.enc.Pos, "%s: returns %d values, want one code", ae.enc.Name, len(codes))
	}
	top.names["z"] = codes[0]
	top.prefix = ""
	recon, err := l.instantiateTop(top, ae.dec, codes[0], f.Params[1].Pos)
	if err != nil {
		return nil, err
	}
	if !recon.Type.Shape.Equal(x.Type.Shape) {
		return nil, lang.Errorf(f.Params[1].Pos, "%s: decoder %s returns %v, want the encoder's input shape %v", f.Name, ae.dec.Name, recon.Type.Shape, x.Type.Shape)
	}
	if mode == "reconstruct" {
		l.b.F.Outputs = []ir.Output{{Name: "out", Value: recon}}
		return l.b.F, nil
	}
	lossV, err := builtins[ae.loss].lower(l, &lang.Call{Pos: ae.lossPos, Func: ae.loss}, []value{tensorVal(recon), tensorVal(x)})
	if err != nil {
		return nil, err
	}
	loss := lossV.op
	params := uniqueParams(l.b.F)
	if ae.l2 > 0 {
		if loss, err = l.l2Penalty(ae.lossPos, loss, params, ae.l2); err != nil {
			return nil, err
		}
	}
	l.b.F.Outputs = []ir.Output{{Name: "loss", Value: loss}}
	if mode == "loss" && ae.loss != "mse" {
		// The family's own metric: the reconstruction's mean squared error per element,
		// comparable across losses (and the usual anomaly score).
		mse, err := builtins["mse"].lower(l, &lang.Call{Pos: ae.lossPos, Func: "mse"}, []value{tensorVal(recon), tensorVal(x)})
		if err != nil {
			return nil, err
		}
		l.b.F.Outputs = append(l.b.F.Outputs, ir.Output{Name: "metric:mse", Value: mse.op})
	}
	if mode == "step" {
		grads, err := ir.Grad(l.b.F, loss, params)
		if err != nil {
			return nil, lang.Errorf(f.Pos, "%s: %v", f.Name, err)
		}
		for i, prm := range params {
			l.b.F.Outputs = append(l.b.F.Outputs, ir.Output{Name: "grad:" + prm.Attrs.String("name"), Value: grads[i]})
		}
	}
	return l.b.F, nil
}

// instantiateTop lowers a block called with one tensor at the top level of a family, so
// that its parameters are named after the block itself (Dec.dense0.weight).
func (l *lowerer) instantiateTop(top *scope, b *lang.Block, arg value, at lexer.Position) (*ir.Op, error) {
	sc := newScope(b.Name, b.Pos.Filename)
	tensors := 0
	for _, prm := range b.Params {
		if prm.Type.Shape == nil {
			if prm.Default == nil {
				return nil, lang.Errorf(prm.Pos, "%s: hyperparameter %s needs a default to be used in a family block", b.Name, prm.Name)
			}
			v, err := l.eval(sc, prm.Default)
			if err != nil {
				return nil, err
			}
			if v, err = l.checkKind(prm, v, b.Name, prm.Default.Pos); err != nil {
				return nil, err
			}
			sc.names[prm.Name] = v
			continue
		}
		tensors++
		if err := l.unify(sc, prm.Type.Shape, arg.op.Type.Shape, b.Name+": "+prm.Name, at); err != nil {
			return nil, err
		}
		sc.names[prm.Name] = arg
	}
	if tensors != 1 {
		return nil, lang.Errorf(b.Pos, "%s: takes %d tensors, want one", b.Name, tensors)
	}
	rets, err := l.body(b, sc)
	if err != nil {
		return nil, err
	}
	if len(rets) != 1 {
		return nil, lang.Errorf(b.Pos, "%s: returns %d values, want one", b.Name, len(rets))
	}
	return rets[0].op, nil
}

// uniqueParams returns the func's parameters, one per name, in order of appearance.
func uniqueParams(f *ir.Func) []*ir.Op {
	seen := map[string]bool{}
	var out []*ir.Op
	for _, o := range f.Params() {
		if n := o.Attrs.String("name"); !seen[n] {
			seen[n] = true
			out = append(out, o)
		}
	}
	return out
}

// l2Penalty adds lambda·Σ‖W‖² over the weight matrices (not the biases) to the loss.
func (l *lowerer) l2Penalty(pos lexer.Position, loss *ir.Op, params []*ir.Op, lambda float64) (*ir.Op, error) {
	l.setPos(pos)
	total := loss
	var sum *ir.Op
	for _, w := range params {
		if len(w.Type.Shape) < 2 {
			continue
		}
		s := l.b.Op("sum", ir.Attrs{"axes": []int{}, "keepdims": false}, l.b.Op("square", nil, w))
		if sum == nil {
			sum = s
		} else {
			sum = l.b.Op("add", nil, sum, s)
		}
	}
	if sum != nil {
		total = l.b.Op("add", nil, loss, l.b.Op("mul", nil, sum, l.b.Const(lambda)))
	}
	if l.b.Err != nil {
		return nil, lang.Errorf(pos, "penalty: %v", l.b.Err)
	}
	return total, nil
}

// lowerTrain fills the module's train spec from the train block.
func (p *Program) lowerTrain(m *ir.Module, t *lang.Train) error {
	spec := &ir.TrainSpec{
		Optimizer: ir.OptSpec{Name: "adam", Args: map[string]float64{"lr": 1e-3}, Pos: irPos(t.Pos)},
		Batch:     32, Epochs: 1, Seed: 1, Shuffle: true,
		Pos: irPos(t.Pos),
	}
	fam, isFamily := p.families[t.Target]
	block, isBlock := p.blocks[t.Target]
	switch {
	case isFamily:
		spec.Family, spec.Step, spec.Eval = fam.Kind, fam.Name+".step", fam.Name+".loss"
		spec.Inputs = []string{"x"} // the encoder's input is fed the data's samples
		spec.Extra = map[string]string{"reconstruct": fam.Name + ".reconstruct"}
	case isBlock && block.Kind != "layer":
		spec.Family, spec.Step, spec.Eval = "model", block.Name+".step", block.Name+".loss"
		spec.Inputs = []string{"x", "y"} // samples and their targets
	default:
		var cands []string
		for n := range p.families {
			cands = append(cands, n)
		}
		for n, b := range p.blocks {
			if !p.std[b] {
				cands = append(cands, n)
			}
		}
		if s := nearest(t.Target, cands); s != "" {
			return lang.Errorf(t.Pos, "train: undefined: %s (did you mean %s?)", t.Target, s)
		}
		return lang.Errorf(t.Pos, "train: undefined: %s", t.Target)
	}
	var loss *lang.Setting
	seen := map[string]bool{}
	hasData := false
	for _, s := range t.Settings {
		if seen[s.Name] {
			return lang.Errorf(s.Pos, "train: %s set twice", s.Name)
		}
		seen[s.Name] = true
		switch s.Name {
		case "data", "test":
			d, err := p.dataSpec(s)
			if err != nil {
				return err
			}
			if s.Name == "data" {
				spec.Data, hasData = d, true
			} else {
				spec.Test = &d
			}
		case "optimizer":
			c := bareCall(s.Value)
			if c == nil {
				return lang.Errorf(s.Value.Pos, "train: optimizer = %s, want a call such as adam(lr: 1e-3)", exprString(s.Value))
			}
			o := ir.OptSpec{Name: c.Func, Args: map[string]float64{}, Pos: irPos(c.Pos)}
			for _, a := range c.Args {
				if a.Name == "" {
					return lang.Errorf(a.Pos, "train: %s arguments are named (lr: 1e-3)", c.Func)
				}
				v, err := (&lowerer{p: p}).eval(newScope("", ""), a.Value)
				if err != nil {
					return err
				}
				if v.kind != kInt && v.kind != kFloat && v.kind != kBool {
					return lang.Errorf(a.Value.Pos, "train: %s: %s is %s, want a number", c.Func, a.Name, v)
				}
				o.Args[a.Name] = v.num
			}
			spec.Optimizer = o
		case "batch", "epochs", "seed":
			v, err := (&lowerer{p: p}).eval(newScope("", ""), s.Value)
			if err != nil {
				return err
			}
			if v.kind != kInt || v.num < 0 || (v.num == 0 && s.Name != "seed") {
				want := "a positive int"
				if s.Name == "seed" {
					want = "an int ≥ 0"
				}
				return lang.Errorf(s.Value.Pos, "train: %s = %s, want %s", s.Name, v, want)
			}
			switch s.Name {
			case "batch":
				spec.Batch = int(v.num)
			case "epochs":
				spec.Epochs = int(v.num)
			default:
				spec.Seed = int64(v.num)
			}
		case "shuffle":
			switch bareIdent(s.Value) {
			case "true":
				spec.Shuffle = true
			case "false":
				spec.Shuffle = false
			default:
				return lang.Errorf(s.Value.Pos, "train: shuffle = %s, want true or false", exprString(s.Value))
			}
		case "loss":
			if isFamily {
				return lang.Errorf(s.Pos, "train: the loss of %s %s is set in its own block", fam.Kind, fam.Name)
			}
			loss = s
		default:
			return lang.Errorf(s.Pos, "train: unknown setting %s (want data, test, optimizer, batch, epochs, seed, shuffle, loss)", s.Name)
		}
	}
	if !hasData {
		return lang.Errorf(t.Pos, "train: missing data = …")
	}
	if isBlock {
		if loss == nil {
			return lang.Errorf(t.Pos, "train: missing loss = … (training model %s needs one: %s)", block.Name, strings.Join(supervisedLosses, ", "))
		}
		if err := p.lowerSupervised(m, block, loss); err != nil {
			return err
		}
	}
	m.Train = spec
	return nil
}

// dataSpec reads `data = mnist(split: "train")` or `csv(path: "…")` or `npy(x: "…")`.
func (p *Program) dataSpec(s *lang.Setting) (ir.DataSpec, error) {
	c := bareCall(s.Value)
	if c == nil {
		return ir.DataSpec{}, lang.Errorf(s.Value.Pos, "train: %s = %s, want a data source such as mnist(split: \"train\")", s.Name, exprString(s.Value))
	}
	known := map[string][]string{"mnist": {"split"}, "csv": {"path", "label", "target"}, "npy": {"x", "y"}}
	allowed, ok := known[c.Func]
	if !ok {
		return ir.DataSpec{}, lang.Errorf(c.Pos, "train: unknown data source %s (want mnist, csv, npy)", c.Func)
	}
	d := ir.DataSpec{Source: c.Func, Args: map[string]string{}, Pos: irPos(c.Pos)}
	for _, a := range c.Args {
		valid := false
		for _, k := range allowed {
			valid = valid || k == a.Name
		}
		if !valid {
			return ir.DataSpec{}, lang.Errorf(a.Pos, "train: %s: unknown argument %q (want %v)", c.Func, a.Name, allowed)
		}
		v, err := (&lowerer{p: p}).eval(newScope("", ""), a.Value)
		if err != nil {
			return ir.DataSpec{}, err
		}
		switch v.kind {
		case kString:
			d.Args[a.Name] = v.str
			// Data paths, like imports, are relative to the .dl file that names them.
			if a.Name == "path" || a.Name == "x" || a.Name == "y" {
				if v.str != "" && !filepath.IsAbs(v.str) {
					d.Args[a.Name] = filepath.Join(filepath.Dir(c.Pos.Filename), v.str)
				}
			}
		case kInt:
			d.Args[a.Name] = strconv.Itoa(int(v.num))
		default:
			return ir.DataSpec{}, lang.Errorf(a.Value.Pos, "train: %s: %s is %s, want a string or an int", c.Func, a.Name, v)
		}
	}
	if t, ok := d.Args["target"]; ok && t != "class" && t != "value" {
		return ir.DataSpec{}, lang.Errorf(c.Pos, "train: csv: target = %s, want \"class\" (one-hot class indices) or \"value\" (a real number)", strconv.Quote(t))
	}
	if c.Func == "mnist" {
		if sp := d.Args["split"]; sp != "train" && sp != "test" {
			return ir.DataSpec{}, lang.Errorf(c.Pos, "train: mnist: split = %s, want \"train\" or \"test\"", strconv.Quote(sp))
		}
	}
	return d, nil
}

// ParamInfo describes one trained parameter of a module.
type ParamInfo struct {
	Name  string
	Shape ir.Shape
	Init  string
	Count int
}

// Params lists the module's parameters, one per name, sorted by first appearance across
// functions.
func Params(m *ir.Module) []ParamInfo {
	seen := map[string]bool{}
	var out []ParamInfo
	for _, f := range m.Funcs {
		for _, o := range f.Params() {
			n := o.Attrs.String("name")
			if seen[n] {
				continue
			}
			seen[n] = true
			out = append(out, ParamInfo{Name: n, Shape: o.Type.Shape, Init: o.Attrs.String("init"), Count: o.Type.Shape.NumElements().Coef})
		}
	}
	return out
}

func article(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}
