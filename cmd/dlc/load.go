package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/guard"
	"github.com/dlc-lang/dlc/runtime/train"
)

// compileFile reads and compiles a .dl file, printing diagnostics with their source line.
func (s *session) compileFile(file string, optimize bool) (*ir.Module, error) {
	return s.compileWith(file, compiler.Options{Optimize: optimize})
}

// compileWith is compileFile with the compiler's options (dlc run's --set overrides).
func (s *session) compileWith(file string, opts compiler.Options) (*ir.Module, error) {
	src, err := readSource("the .dl source")(file)
	if _, ok := errors.AsType[*guard.Clash](err); ok {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", file, unwrap(err))
	}
	opts.ReadFile = readSource("an imported file")
	opts.Values = s.values
	m, p, err := compiler.Compile(file, src, opts)
	s.prog = p
	if err != nil {
		fmt.Fprintln(s.stderr, render(err, p, file, src))
		return nil, errReported
	}
	if m.Train != nil {
		// The model's data is an input of every command on it, loaded or not: dlc sample
		// must not write its PNG over the CSV the generator learnt from either.
		for _, path := range train.DataFiles(m.Train, s.data) {
			if err := guard.Read(path, "a data file"); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func unwrap(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// loadTrained compiles file and loads the checkpoint at init into a trainer; what names
// the command in messages.
func (s *session) loadTrained(file, init, what string) (*train.Trainer, error) {
	m, err := s.compileFile(file, true)
	if err != nil {
		return nil, err
	}
	if m.Train == nil {
		return nil, fmt.Errorf("%s: no train block: %s needs the family it trains", file, what)
	}
	tr, err := train.NewTrainer(m)
	if err != nil {
		return nil, err
	}
	if init == "" {
		return nil, usagef("--init CHECKPOINT is required (the weights dlc run --save wrote)")
	}
	if err := train.StartVars(tr, init, 0); err != nil {
		return nil, err
	}
	return tr, nil
}

// loadGenerator is loadTrained for a generator that is asked for the classes of label
// (--label 3 or 0,1,2).
func (s *session) loadGenerator(file, init, label, what string) (*train.Trainer, []int, error) {
	labels, err := parseLabels("--label", label)
	if err != nil {
		return nil, nil, err
	}
	tr, err := s.loadTrained(file, init, what)
	if err != nil || labels == nil {
		return tr, labels, err
	}
	// A generator whose sample function takes only its noise has no condition for the
	// labels to make: --label would be read and ignored.
	if fn, ok := tr.Spec.Role(ir.RoleSample); ok {
		if f := tr.Module.Func(fn); f != nil && len(f.Inputs) < 2 {
			names := make([]string, len(f.Inputs))
			for i, in := range f.Inputs {
				names[i] = in.Name
			}
			return nil, nil, usagef("--label %s: %s's generator is unconditional (%s takes only %s, no condition for a label); --label is for a conditional generator", label, file, fn, strings.Join(names, ", "))
		}
	}
	return tr, labels, nil
}

// writeFileAtomic replaces path with b all at once, so that a reader never sees a
// half-written file and a failed write keeps the old one.
func writeFileAtomic(path string, b []byte) error { return train.WriteFileAtomic(path, b) }

// writeNPYFile writes t as a .npy file, atomically.
func writeNPYFile(path string, t *train.Tensor) error { return train.WriteNPY(path, t) }
