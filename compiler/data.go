package compiler

import (
	"path/filepath"
	"strconv"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
	"github.com/dlc-lang/dlc/runtime/data"
)

// dataSpec reads `data = mnist(split: "train")` or `csv(path: "…")` or `npy(x: "…")`.
// Which sources exist and what each takes is runtime/data's table; this
// function only evaluates the arguments and places data.Validate's verdict
// at the argument (or call) it concerns.
func (p *Program) dataSpec(s *lang.Setting) (ir.DataSpec, error) {
	c := bareCall(s.Value)
	if c == nil {
		return ir.DataSpec{}, lang.Errorf(s.Value.Pos, "train: %s = %s, want a data source such as mnist(split: \"train\")", s.Name, exprString(s.Value))
	}
	src, ok := data.Lookup(c.Func)
	if !ok {
		return ir.DataSpec{}, lang.Errorf(c.Pos, "train: unknown data source %s (want %s)", c.Func, data.SourceNames())
	}
	d := ir.DataSpec{Source: c.Func, Args: map[string]string{}, Pos: irPos(c.Pos)}
	argPos := map[string]*lang.Arg{}
	for _, a := range c.Args {
		if a.Name == "" && len(src.Args) == 0 {
			return ir.DataSpec{}, lang.Errorf(a.Pos, "train: %s takes no arguments", c.Func)
		}
		if a.Name == "" {
			return ir.DataSpec{}, lang.Errorf(a.Pos, "train: %s: arguments are named, want %s: …", c.Func, src.Args[0].Name)
		}
		spec, ok := src.Arg(a.Name)
		if !ok {
			return ir.DataSpec{}, lang.Errorf(a.Pos, "train: %s: unknown argument %q (want %s)", c.Func, a.Name, src.ArgNames())
		}
		if argPos[a.Name] != nil {
			return ir.DataSpec{}, lang.Errorf(a.Pos, "train: %s: argument %s given twice", c.Func, a.Name)
		}
		argPos[a.Name] = a
		v, err := p.evalConst(a.Value)
		if err != nil {
			return ir.DataSpec{}, err
		}
		isFloat := v.kind == kFloat && spec.Kind == data.KindFloat
		if !isFloat && ((v.kind != kString && v.kind != kInt) || !spec.Kind.Allows(v.kind == kInt)) {
			return ir.DataSpec{}, lang.Errorf(a.Value.Pos, "train: %s: %s is %s, want %s", c.Func, a.Name, v, spec.Kind)
		}
		if isFloat {
			d.Args[a.Name] = strconv.FormatFloat(v.num, 'g', -1, 64)
			continue
		}
		if v.kind == kInt {
			d.Args[a.Name] = strconv.Itoa(int(v.num))
			continue
		}
		d.Args[a.Name] = v.str
		// Data paths, like imports, are relative to the .dl file that names them.
		if spec.Path && v.str != "" && !filepath.IsAbs(v.str) {
			d.Args[a.Name] = filepath.Join(filepath.Dir(c.Pos.Filename), v.str)
		}
	}
	if err := data.Validate(c.Func, d.Args); err != nil {
		pos := c.Pos
		if ae, ok := err.(*data.ArgError); ok && argPos[ae.Arg] != nil {
			pos = argPos[ae.Arg].Value.Pos
		}
		return ir.DataSpec{}, lang.Errorf(pos, "train: %s", err)
	}
	return d, nil
}
