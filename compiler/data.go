package compiler

import (
	"path/filepath"
	"strconv"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
	"github.com/dlc-lang/dlc/lang"
)

// dataSpec reads `data = mnist(split: "train")` or `csv(path: "…")` or `npy(x: "…")`.
// Which sources exist and what each takes is the table schema.DataSources, which
// runtime/data keys its loaders by; this function checks the call against it and stores
// the arguments as written, in the strings the IR keeps.
func (p *Program) dataSpec(s *lang.Setting) (ir.DataSpec, error) {
	c, args, err := p.readCall(s.Name, s.Value, "data source", "a data source such as mnist(split: \"train\")", schema.DataSources)
	if err != nil {
		return ir.DataSpec{}, err
	}
	d := ir.DataSpec{Source: c.Func, Args: map[string]string{}, Pos: irPos(c.Pos)}
	for name, a := range args {
		if a.given() {
			d.Args[name] = dataArg(a, c.Pos.Filename)
		}
	}
	return d, nil
}

// dataArg writes a data source's argument as the IR stores it: a number in Go's shortest
// form, a string as it is, a path relative to the .dl file that names it, like imports.
func dataArg(a setting, file string) string {
	switch v := a.val; {
	case v.kind == kFloat:
		return strconv.FormatFloat(v.num, 'g', -1, 64)
	case v.kind == kInt:
		return strconv.Itoa(int(v.num))
	case a.spec.Kind == schema.Path && !filepath.IsAbs(v.str):
		return filepath.Join(filepath.Dir(file), v.str)
	}
	return a.val.str
}
