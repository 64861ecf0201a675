package compiler

import (
	"path/filepath"
	"strconv"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// dataSpec reads `data = mnist(split: "train")` or `csv(path: "…")` or `npy(x: "…")`.
func (p *Program) dataSpec(s *lang.Setting) (ir.DataSpec, error) {
	c := bareCall(s.Value)
	if c == nil {
		return ir.DataSpec{}, lang.Errorf(s.Value.Pos, "train: %s = %s, want a data source such as mnist(split: \"train\")", s.Name, exprString(s.Value))
	}
	known := map[string][]string{"mnist": {"split", "low", "high"}, "csv": {"path", "label", "target"}, "npy": {"x", "y"}}
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
