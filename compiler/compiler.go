// Package compiler turns parsed .dl files into an IR module.
//
// It works in three steps. Load parses the main file, the standard prelude (std/nn) and
// every import, and collects the declarations into one table. Resolve walks every block once
// and reports undefined names (with the nearest defined one as a suggestion) before anything
// is lowered, so a mistake in a block nobody calls is still caught. Lowering then
// instantiates blocks the way a call would: it binds each argument to its parameter, unifies
// tensor shapes with the parameter's declared shape (binding symbolic dimensions such as B
// and F), folds hyperparameters and dimension arithmetic at compile time, and emits IR ops
// through ir.Builder, whose shape rules check every op. Nested block calls are inlined; each
// instance's parameters are named by the path of calls that made it (Enc.dense0.weight).
//
// The family blocks (autoencoder, gan) and the train block then assemble the functions that
// the runtime needs and the typed train spec that says how to use them: one function per
// top-level block, and for what is trained its loss (Eval), its gradient steps, one per
// training phase (built with ir.Grad), and the functions of its roles (the model's predict;
// an autoencoder's reconstruct, encode, decode, score and corrupt; a gan's sample). A train
// block that names a plain model trains it as a supervised model (supervised.go) or, when it
// takes a graph, as a node-, graph- or edge-level graph task (graphtask.go).
//
// Every error is a *lang.Error naming file:line:col; compilation stops at the first one.
package compiler

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
	"github.com/dlc-lang/dlc/stdlib"
)

// Options control compilation.
type Options struct {
	// Optimize runs ir.DefaultPasses on the module.
	Optimize bool
	// ReadFile reads an imported file; nil means os.ReadFile.
	ReadFile func(path string) ([]byte, error)
	// Overrides replace settings of the train block, in order (dlc run --set;
	// overrides.go).
	Overrides []Override
	// Values names inner values (Club.h, Club.gcn0.aggregated) to make outputs of every
	// function that computes them (values.go).
	Values []string
}

// Program is a set of loaded files and their declarations.
type Program struct {
	Main     *lang.File
	Files    []*lang.File
	Sources  map[string][]byte // by file name, for rendering diagnostics
	blocks   map[string]*lang.Block
	families map[string]*lang.Family
	trains   []*lang.Train
	std      map[*lang.Block]bool
	bound    map[*ir.Func]map[string]*ir.Op // each function's values by name (values.go)
	called   map[string]bool                // blocks called by some block: helpers, not entry points
	streams  int                            // draw ops numbered so far, for their stream attributes
	plans    map[string]*plan               // by family (or trained block) name
	// blockParams holds the parameters of blocks lowered alone for a reference
	// Block.path.name to one of them (see paramRef); nil while one is being lowered.
	blockParams map[*lang.Block]map[string]*ir.Op
	// expansions holds, by family name, the train block with phases a family written in
	// the language stands for (expand.go).
	expansions map[string]string
	// values, set by Analyze, records the value of each expression and binding (query.go).
	values *valueTable
	// monitors are the train block's monitors, checked once its metrics are known
	// (loop_settings.go).
	monitors  []monitorAt
	overrides []Override
	// calls are the block calls lowered so far, one per instance name, in the order they
	// were lowered (summary.go).
	calls    []blockCall
	callSeen map[string]bool
}

// nextStream numbers a draw op: unique across the module, and the same for the same source.
func (p *Program) nextStream() int {
	p.streams++
	return p.streams
}

// Source returns the text of a loaded file, for lang.Render.
func (p *Program) Source(file string) []byte { return p.Sources[file] }

// Load parses filename (whose text is src), the standard prelude and every import. On an
// error the Program it returns holds the sources read so far, so that a caller can show
// the line of the file the error is in, an import's as well as the main file's.
func Load(filename string, src []byte, opts Options) (*Program, error) {
	p := &Program{
		Sources:   map[string][]byte{},
		blocks:    map[string]*lang.Block{},
		families:  map[string]*lang.Family{},
		std:       map[*lang.Block]bool{},
		called:    map[string]bool{},
		plans:     map[string]*plan{},
		overrides: opts.Overrides,
	}
	ld := &loader{p: p, read: opts.ReadFile, loaded: map[string]bool{}}
	if ld.read == nil {
		ld.read = os.ReadFile
	}
	std, _ := stdlib.Source("std/nn")
	if err := ld.load("std/nn", std, true, false); err != nil {
		return nil, fmt.Errorf("std/nn: %w", err)
	}
	if err := ld.load(filename, src, false, true); err != nil {
		return p, err
	}
	return p, nil
}

// loader reads a program's files, each once: the main file, the standard files and the
// imports, which name files relative to the file that imports them.
type loader struct {
	p      *Program
	read   func(string) ([]byte, error)
	loaded map[string]bool
}

// load parses one file and declares what it holds; std marks a standard file, main the
// file given to Load.
func (ld *loader) load(name string, src []byte, std, main bool) error {
	p := ld.p
	ld.loaded[name] = true
	p.Sources[name] = src
	f, err := lang.Parse(name, src)
	if err != nil {
		return err
	}
	if main {
		p.Main = f
	}
	p.Files = append(p.Files, f)
	for _, d := range f.Decls {
		switch {
		case d.Import != nil:
			if err := ld.importFile(name, d.Import); err != nil {
				return err
			}
		case d.Block != nil:
			if err := p.declare(d.Block.Name, d.Block.Pos); err != nil {
				return err
			}
			p.blocks[d.Block.Name] = d.Block
			p.std[d.Block] = std
		case d.Family != nil:
			if err := p.declare(d.Family.Name, d.Family.Pos); err != nil {
				return err
			}
			p.families[d.Family.Name] = d.Family
		case d.Train != nil:
			if std || !main {
				return lang.Errorf(d.Train.Pos, "train: a train block belongs in the main file, not in an import")
			}
			p.trains = append(p.trains, d.Train)
		}
	}
	return nil
}

// importFile loads what file from imports: a standard file (std/…) or a file beside it.
func (ld *loader) importFile(from string, imp *lang.Import) error {
	path := imp.Path
	if strings.HasPrefix(path, "std/") {
		if ld.loaded[path] {
			return nil
		}
		text, ok := stdlib.Source(path)
		if !ok {
			return lang.Errorf(imp.Pos, "import: no standard file %q (have %s)", path, strings.Join(stdlib.Paths(), ", "))
		}
		return ld.load(path, text, true, false)
	}
	full := filepath.Join(filepath.Dir(from), path)
	if ld.loaded[full] {
		return nil
	}
	text, err := ld.read(full)
	if err != nil {
		return lang.Errorf(imp.Pos, "import: cannot read %s: %v", full, unwrapPathError(err))
	}
	return ld.load(full, text, false, false)
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func (p *Program) declare(name string, pos lang.Pos) error {
	if _, ok := builtins[name]; ok {
		return lang.Errorf(pos, "%s: cannot redefine builtin op %s", name, name)
	}
	if b, ok := p.blocks[name]; ok {
		if p.std[b] {
			delete(p.blocks, name) // a user block may shadow a standard one
			return nil
		}
		return lang.Errorf(pos, "%s redeclared (first declared at %s)", name, shortPos(b.Pos))
	}
	if f, ok := p.families[name]; ok {
		return lang.Errorf(pos, "%s redeclared (first declared at %s)", name, shortPos(f.Pos))
	}
	return nil
}

func shortPos(p lang.Pos) string { return fmt.Sprintf("%s:%d:%d", p.Filename, p.Line, p.Column) }

// Compile loads, resolves and lowers filename. It returns the module and the program (whose
// sources render diagnostics); on error the program may be nil when loading failed.
func Compile(filename string, src []byte, opts Options) (*ir.Module, *Program, error) {
	p, err := Load(filename, src, opts)
	if err != nil {
		return nil, p, err
	}
	if err := p.Resolve(); err != nil {
		return nil, p, err
	}
	m, err := p.Lower()
	if err != nil {
		return nil, p, err
	}
	if err := p.exposeValues(m, opts.Values); err != nil {
		return nil, p, err
	}
	if err := checkRunnable(m); err != nil {
		return nil, p, err
	}
	// The verifier is cheap; a failure here is a compiler bug, reported rather than run.
	if err := ir.Verify(m); err != nil {
		return nil, p, fmt.Errorf("internal error: lowered IR does not verify: %w", err)
	}
	if opts.Optimize {
		if err := Optimize(m); err != nil {
			return nil, p, err
		}
	}
	return m, p, nil
}

// Optimize runs the default passes over a compiled module and verifies the result: what
// Compile does with Options.Optimize, for a caller that also wants the IR as lowered.
func Optimize(m *ir.Module) error {
	if err := ir.Optimize(m, ir.DefaultPasses()...); err != nil {
		return err
	}
	if err := ir.Verify(m); err != nil {
		return fmt.Errorf("internal error: optimised IR does not verify: %w", err)
	}
	return nil
}

func irPos(p lang.Pos) ir.Pos { return ir.Pos{File: p.Filename, Line: p.Line, Col: p.Column} }
