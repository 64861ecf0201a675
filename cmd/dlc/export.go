package main

import (
	"fmt"
	"strings"

	"github.com/dlc-lang/dlc/export"
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/train"
	"github.com/spf13/pflag"
)

type exportFlags struct {
	init, to, out, block string
}

func (f *exportFlags) declare(fs *pflag.FlagSet) {
	addInit(fs, &f.init, "the weights `FILE` to export (from dlc run --save; default: the train block's initialisation at its seed)")
	fs.StringVar(&f.to, "to", "torch", "what to export to: `torch` (a Python package: model.py, train.py, weights.safetensors) or onnx (an evaluation-mode function as an ONNX model, opset 17)")
	addOutput(fs, &f.out, "", "the directory `DIR` to write the package into (torch), or the .onnx file (onnx)")
	fs.StringVar(&f.block, "block", "", "onnx: the function `NAME` to write (a block, a family function or a role: encode, sample, …); default: every role's function, each to OUT.ROLE.onnx")
}

func (s *session) export(_ *pflag.FlagSet, file string, f exportFlags) error {
	if f.to != "torch" && f.to != "onnx" {
		return usagef("--to %s: want torch or onnx", f.to)
	}
	if f.block != "" && f.to != "onnx" {
		return usagef("--block is for --to onnx; the torch package holds every block")
	}
	if f.out == "" {
		return usagef("want -o DIR, the directory of the Python package")
	}
	if train.SameFile(f.out, file) || (f.init != "" && train.SameFile(f.out, f.init)) {
		return usagef("-o %s names one of the inputs; refusing to overwrite it", f.out)
	}
	// The lowered IR, not the optimised one: its ops are the op table's plain kinds.
	m, err := s.compileFile(file, false)
	if err != nil {
		return err
	}
	if m.Train == nil {
		return fmt.Errorf("%s: no train block: dlc export needs the model a train block trains", file)
	}
	tr, err := train.NewTrainer(m)
	if err != nil {
		return err
	}
	if err := train.StartVars(tr, f.init, m.Train.Seed); err != nil {
		return err
	}
	vars := map[string]export.Tensor{}
	for n, v := range tr.Vars {
		vars[n] = export.Tensor{Shape: v.Shape, Data: v.Data}
	}
	if f.to == "onnx" {
		return s.exportONNX(m, vars, file, f)
	}
	t := &export.Torch{Module: m, Vars: vars, Source: file}
	wrote, err := t.Write(f.out)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "wrote %s\n", strings.Join(wrote, ", "))
	if t.Note != "" {
		fmt.Fprintf(s.stdout, "note: %s\n", t.Note)
	}
	return nil
}

// exportONNX writes --block's function, or every role's, as ONNX models.
func (s *session) exportONNX(m *ir.Module, vars map[string]export.Tensor, file string, f exportFlags) error {
	type job struct{ fn, path string }
	var jobs []job
	if f.block != "" {
		fn := f.block
		if role, ok := ir.ParseRole(fn); m.Func(fn) == nil && ok {
			rf, has := m.Train.Role(role)
			if !has {
				return fmt.Errorf("--block %s: %s has no function for the role %s", f.block, file, role)
			}
			fn = rf
		}
		if m.Func(fn) == nil {
			return usagef("--block %s: no such function in %s", f.block, file)
		}
		jobs = append(jobs, job{fn, f.out})
	} else {
		base := strings.TrimSuffix(f.out, ".onnx")
		for _, r := range m.Train.Roles {
			if r.Role == ir.RoleShow {
				continue // the pictures' rows, not a function to serve
			}
			if export.Draws(m.Func(r.Func)) {
				fmt.Fprintf(s.stdout, "skipped %s (@%s draws random numbers; name it with --block to see the op)\n", r.Role, r.Func)
				continue
			}
			jobs = append(jobs, job{r.Func, base + "." + r.Role.String() + ".onnx"})
		}
	}
	for _, j := range jobs {
		b, err := export.ONNX(m, j.fn, vars, file)
		if err != nil {
			return err
		}
		if err := writeFileAtomic(j.path, b); err != nil {
			return err
		}
		fmt.Fprintf(s.stdout, "wrote %s (@%s, opset 17)\n", j.path, j.fn)
	}
	return nil
}
