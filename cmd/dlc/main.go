// Command dlc checks, compiles and trains .dl models.
//
//	dlc check FILE                 report diagnostics; exit 1 if there are any
//	dlc compile FILE [-o OUT]      print the IR (--show before|after|both)
//	dlc params FILE                list each parameter's name, shape and count
//	dlc run FILE [flags]           train per the file's train block
//
// Exit codes: 0 on success, 1 on diagnostics or a failed run, 2 on a usage error, 130 when
// an interrupt (Ctrl-C) stopped a run.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/atomicfile"
	dlctrain "github.com/dlc-lang/dlc/runtime/train"
)

const usage = `usage: dlc <command> FILE [flags]

commands:
  check FILE     report diagnostics; exit 1 if there are any
  compile FILE   print the IR of FILE (flags: -o OUT, --show before|after|both)
  params FILE    list each trained parameter's name, shape and count
  run FILE       train per FILE's train block (dlc run -h lists the flags)
  apply FILE     run one block on data: --block NAME --init W (--in X.npy | --data test) --out Y.npy [--grid G.png]
  sample FILE    draw from a trained generator: --init W [-n 64] [-o grid.png] [--label K]
  score FILE     classify a generator's samples: --init W --classifier C.dl --classifier-init CW [-n 10000]
  embed FILE     an autoencoder's codes and their 2-D map: --init W [--data test] [--pca] [-o codes.npy]
  anomaly FILE   flag samples by reconstruction error: --init W [--percentile 99 | --threshold V] [-o PREFIX]
`

// exitInterrupted is the exit code of a run stopped by SIGINT, as a shell reports 128+2.
const exitInterrupted = 130

// errUsage marks a usage error: exit code 2.
var errUsage = errors.New("usage")

func main() {
	os.Exit(mainErr(os.Args[1:], os.Stdout, os.Stderr))
}

func mainErr(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "check":
		err = cmdCheck(args[1:], stdout, stderr)
	case "compile":
		err = cmdCompile(args[1:], stdout, stderr)
	case "params":
		err = cmdParams(args[1:], stdout, stderr)
	case "run":
		err = cmdRun(args[1:], stdout, stderr)
	case "apply":
		err = cmdApply(args[1:], stdout, stderr)
	case "sample":
		err = cmdSample(args[1:], stdout, stderr)
	case "score":
		err = cmdScore(args[1:], stdout, stderr)
	case "embed":
		err = cmdEmbed(args[1:], stdout, stderr)
	case "anomaly":
		err = cmdAnomaly(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "dlc: unknown command %q\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errReported):
		return 1
	case errors.Is(err, dlctrain.ErrInterrupted):
		return exitInterrupted
	}
	var oe *runtime.OpError
	if errors.As(err, &oe) && oe.Pos.IsValid() && loaded != nil {
		// A fault at run time is shown like a compile error: the op's line with a caret.
		le := &lang.Error{Pos: lang.Pos{Filename: oe.Pos.File, Line: oe.Pos.Line, Column: oe.Pos.Col}, Msg: oe.Kind + ": " + oe.Msg}
		context := strings.TrimSuffix(strings.TrimSuffix(err.Error(), oe.Error()), ": ")
		if context != "" {
			context += ": "
		}
		fmt.Fprintf(stderr, "dlc: %sruntime error\n%s", context, lang.Render(le, loaded.Source(oe.Pos.File)))
		return 1
	}
	fmt.Fprintf(stderr, "dlc: %v\n", err)
	return 1
}

// loaded is the program compileFile last compiled, whose sources render runtime errors.
var loaded *compiler.Program

// parseArgs parses flags that may come before or after the one FILE argument.
func parseArgs(fs *flag.FlagSet, args []string, stderr io.Writer) (string, error) {
	fs.SetOutput(stderr)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "dlc %s: want one FILE, got %d arguments\n", fs.Name(), len(pos))
		return "", errUsage
	}
	if pos[0] == "" {
		fmt.Fprintf(stderr, "dlc %s: FILE is an empty string, want the path of a .dl file\n", fs.Name())
		return "", errUsage
	}
	if err := checkCounts(fs, stderr); err != nil {
		return "", err
	}
	return pos[0], nil
}

// minCount is the least value of an integer flag given on the command line: a count of
// samples or rows is at least 1; every other (epochs, steps, seed) at least 0. A default
// below it (-1: "as the train block says") can only be had by leaving the flag out.
var minCount = map[string]int64{"n": 1, "batch": 1}

// checkCounts refuses an integer flag set below its least value, which would otherwise
// be read as "no limit" or "the default" and silently do something else.
func checkCounts(fs *flag.FlagSet, stderr io.Writer) error {
	var err error
	fs.Visit(func(fl *flag.Flag) {
		g, ok := fl.Value.(flag.Getter)
		if !ok || err != nil {
			return
		}
		var v int64
		switch x := g.Get().(type) {
		case int:
			v = int64(x)
		case int64:
			v = x
		default:
			return
		}
		if least := minCount[fl.Name]; v < least {
			dash := "--"
			if len(fl.Name) == 1 {
				dash = "-"
			}
			fmt.Fprintf(stderr, "dlc %s: %s%s %d, want an integer >= %d\n", fs.Name(), dash, fl.Name, v, least)
			err = errUsage
		}
	})
	return err
}

// errReported marks an error already printed as a diagnostic.
var errReported = errors.New("reported")

// compileFile reads and compiles a .dl file, printing diagnostics with their source line.
func compileFile(file string, optimize bool, stderr io.Writer) (*ir.Module, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", file, unwrap(err))
	}
	m, p, err := compiler.Compile(file, src, compiler.Options{Optimize: optimize})
	loaded = p
	if err != nil {
		fmt.Fprintln(stderr, render(err, p, file, src))
		return nil, errReported
	}
	return m, nil
}

// render prints a diagnostic with the line of whichever loaded file it points into.
func render(err error, p *compiler.Program, file string, src []byte) string {
	var le *lang.Error
	if errors.As(err, &le) {
		text := src
		if p != nil && le.Pos.Filename != file {
			text = p.Source(le.Pos.Filename)
		}
		return strings.TrimRight(lang.Render(le, text), "\n")
	}
	return err.Error()
}

func unwrap(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func cmdCheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	file, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	if _, err := compileFile(file, false, stderr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok\n", file)
	return nil
}

func cmdCompile(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("compile", flag.ContinueOnError)
	out := fs.String("o", "", "write the IR to this file instead of standard output")
	show := fs.String("show", "after", "which IR to print: before (as lowered), after (optimised) or both")
	file, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	if *show != "before" && *show != "after" && *show != "both" {
		fmt.Fprintf(stderr, "dlc compile: --show %q, want before, after or both\n", *show)
		return errUsage
	}
	var sb strings.Builder
	m, err := compileFile(file, false, stderr)
	if err != nil {
		return err
	}
	if *show != "after" {
		if *show == "both" {
			sb.WriteString("# before optimisation\n")
		}
		sb.WriteString(m.String())
	}
	if *show != "before" {
		if err := ir.Optimize(m, ir.DefaultPasses()...); err != nil {
			return err
		}
		if *show == "both" {
			sb.WriteString("\n# after optimisation\n")
		}
		sb.WriteString(m.String())
		if m.Train != nil {
			// What a run of this IR holds, as a comment the IR reader skips.
			e, err := runtime.EstimateMemory(m, 0)
			if err != nil {
				return err
			}
			sb.WriteString("# " + memoryLine(e) + "\n")
		}
	}
	if *out == "" {
		_, err := io.WriteString(stdout, sb.String())
		return err
	}
	if dlctrain.SameFile(*out, file) {
		return fmt.Errorf("-o %s is the source file; refusing to overwrite it", *out)
	}
	return writeFileAtomic(*out, []byte(sb.String()))
}

func cmdParams(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("params", flag.ContinueOnError)
	file, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	m, err := compileFile(file, false, stderr)
	if err != nil {
		return err
	}
	ps := m.Params()
	width := len("name")
	for _, p := range ps {
		width = max(width, len(p.Attrs.String("name")))
	}
	fmt.Fprintf(stdout, "%-*s  %-14s  %10s  %s\n", width, "name", "shape", "count", "init")
	total := 0
	for _, p := range ps {
		n := p.Type.Shape.NumElements().Coef
		fmt.Fprintf(stdout, "%-*s  %-14s  %10d  %s\n", width, p.Attrs.String("name"), p.Type.Shape, n, p.Attrs.String("init"))
		total += n
	}
	fmt.Fprintf(stdout, "%-*s  %-14s  %10d\n", width, "total", "", total)
	if m.Train == nil {
		return nil
	}
	// The estimate follows what dlc run executes: the optimised IR.
	if err := ir.Optimize(m, ir.DefaultPasses()...); err != nil {
		return err
	}
	e, err := runtime.EstimateMemory(m, 0)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, memoryLine(e))
	return nil
}

// memoryLine describes a training run's memory estimate in one line.
func memoryLine(e runtime.MemoryEstimate) string {
	if e.Graph {
		return fmt.Sprintf("memory before the data: parameters %s, state %s, optimiser %s; the activations grow with the graph's nodes and edges, and dlc run reports them once the graph is loaded",
			runtime.FormatBytes(e.Params), runtime.FormatBytes(e.State), runtime.FormatBytes(e.Optim))
	}
	return fmt.Sprintf("memory at batch %d: %s (parameters %s, state %s, optimiser %s, activations %s), before the data",
		e.Batch, runtime.FormatBytes(e.Total()), runtime.FormatBytes(e.Params), runtime.FormatBytes(e.State),
		runtime.FormatBytes(e.Optim), runtime.FormatBytes(e.Activ))
}

// writeFileAtomic replaces path with b all at once (runtime/atomicfile), so that a reader
// never sees a half-written file and a failed write keeps the old one.
func writeFileAtomic(path string, b []byte) error {
	return atomicfile.WriteFile(path, b, 0o644)
}
