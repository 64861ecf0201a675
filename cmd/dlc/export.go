package main

import (
	"fmt"
	"strings"

	"github.com/dlc-lang/dlc/export"
	"github.com/dlc-lang/dlc/runtime/train"
	"github.com/spf13/pflag"
)

type exportFlags struct {
	init, to, out, block string
}

func (f *exportFlags) declare(fs *pflag.FlagSet) {
	addInit(fs, &f.init, "the weights `FILE` to export (from dlc run --save; default: the train block's initialisation at its seed)")
	fs.StringVar(&f.to, "to", "torch", "what to export to: `torch` (a Python package: model.py, train.py, weights.safetensors)")
	addOutput(fs, &f.out, "", "the directory `DIR` to write the package into")
}

func (s *session) export(_ *pflag.FlagSet, file string, f exportFlags) error {
	if f.to != "torch" {
		return usagef("--to %s: want torch", f.to)
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
