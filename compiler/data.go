package compiler

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
	"github.com/dlc-lang/dlc/lang"
)

// dataSpec reads `data = mnist(split: "train")` or `csv(path: "…")` or `npy(x: "…")`.
// Which sources exist and what each takes is the table schema.DataSources, which
// runtime/data keys its loaders by; this function checks the call against it. A reader
// of the whole train block through checkSettings takes the spec from the checked setting:
// got["data"].dataSpec().
func (p *Program) dataSpec(s *lang.Setting) (ir.DataSpec, error) {
	st, err := p.trainSettingValue(s.Name, s.Value) // data or test
	return st.dataSpec(), err
}

// dataSpec is the data source a checked data or test setting names, its arguments as
// written, in the strings the IR keeps.
func (st setting) dataSpec() ir.DataSpec {
	if st.call == nil {
		return ir.DataSpec{}
	}
	file := st.call.Pos.Filename
	if strings.HasPrefix(file, setPrefix) {
		file = "" // a --set value's paths are the working directory's
	}
	d := ir.DataSpec{Source: st.fn.Name, Args: map[string]string{}, Pos: irPos(st.call.Pos)}
	for _, spec := range st.fn.Args {
		switch a := st.args[spec.Name]; {
		case !a.given():
		case spec.Kind == schema.CallOf: // a part of a combination: concat(a: mnist(…), b: npy(…))
			d.Parts = append(d.Parts, a.dataSpec())
		default:
			d.Args[spec.Name] = dataArg(a, file)
		}
	}
	return d
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
