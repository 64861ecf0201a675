// Command dlc checks, compiles and trains .dl models.
//
//	dlc check FILE                 report diagnostics; exit 1 if there are any
//	dlc compile FILE [-o OUT]      print the IR (--show before|after|both)
//	dlc params FILE                list each parameter's name, shape and count
//	dlc run FILE [flags]           train per the file's train block
//	dlc help COMMAND               a command's flags (also dlc COMMAND --help)
//
// and apply, sample, score, embed and anomaly, which use a trained checkpoint.
//
// The command only wires: each command is one file (check.go, run.go, …) whose body
// parses its flags (the shared ones are declared once, in flags.go) and calls the
// library. The command line is github.com/spf13/cobra's, with GNU-style flags.
//
// Exit codes: 0 on success, 1 on diagnostics or a failed run, 2 on a usage error (an
// output that would overwrite an input is one), 130 when an interrupt (Ctrl-C) stopped a
// run, 128+N when signal N ended another command (after removing its temporary files).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
	"github.com/dlc-lang/dlc/runtime/guard"
	"github.com/dlc-lang/dlc/runtime/train"
)

// exitInterrupted is the exit code of a run stopped by SIGINT, as a shell reports 128+2.
const exitInterrupted = 130

func main() {
	os.Exit(mainErr(os.Args[1:], os.Stdout, os.Stderr))
}

// session is one command line's run: where it writes, and the program it compiled, whose
// sources render a fault at run time with its line.
type session struct {
	stdout, stderr io.Writer
	prog           *compiler.Program
	signals        *signals
	data           train.DataOptions // where the data lies (--data-dir), for the guard's record
	values         []string          // inner values to expose when compiling (compiler.Options.Values)
}

// mainErr runs the command line args and returns its exit code.
func mainErr(args []string, stdout, stderr io.Writer) int {
	s := &session{stdout: stdout, stderr: stderr}
	// The files the command reads and writes are guarded (runtime/guard), and a signal
	// leaves none half-written (signals.go), from here to the end.
	guard.Begin()
	defer guard.End()
	var release func()
	s.signals, release = catchSignals(stderr)
	defer release()
	root := newRoot(s)
	if len(args) == 0 {
		root.SetOut(stderr)
		printUsage(stderr, root)
		return 2
	}
	if err := checkCommand(root, args[0]); err != nil {
		return s.exitCode(err)
	}
	root.SetArgs(args)
	return s.exitCode(root.Execute())
}

// exitCode prints err as the user should see it and returns the exit code it stands for.
func (s *session) exitCode(err error) int {
	var ue *usageError
	var re *runError
	var clash *guard.Clash
	switch {
	case err == nil:
		return 0
	case errors.As(err, &clash):
		// Outputs that name an input, or each other: the command line's mistake.
		fmt.Fprintf(s.stderr, "dlc: %v\n", err)
		return 2
	case errors.As(err, &ue):
		if ue.msg != "" {
			fmt.Fprintln(s.stderr, ue.msg)
		}
		return 2
	case !errors.As(err, &re):
		// The command line never reached a command's body: cobra's own refusal.
		fmt.Fprintf(s.stderr, "dlc: %v\n", err)
		return 2
	case errors.Is(err, errReported):
		return 1
	case errors.Is(err, train.ErrInterrupted):
		return exitInterrupted
	}
	var f sourceFault
	if errors.As(err, &f) && f.SourcePos().IsValid() && s.prog != nil {
		// A fault at run time is shown like a compile error: the op's line with a caret.
		pos := f.SourcePos()
		le := &lang.Error{Pos: lang.Pos{Filename: pos.File, Line: pos.Line, Column: pos.Col}, Msg: f.Fault()}
		context := strings.TrimSuffix(strings.TrimSuffix(err.Error(), f.Error()), ": ")
		if context != "" {
			context += ": "
		}
		fmt.Fprintf(s.stderr, "dlc: %sruntime error\n%s", context, lang.Render(le, s.prog.Source(pos.File)))
		return 1
	}
	fmt.Fprintf(s.stderr, "dlc: %v\n", err)
	return 1
}

// sourceFault is an error at a .dl line when the program ran: an op's fault at run time
// (runtime.OpError, which cmd does not name).
type sourceFault interface {
	error
	SourcePos() ir.Pos // the zero Pos when the op has none
	Fault() string     // the error without its position
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

// errReported marks an error already printed as a diagnostic.
var errReported = errors.New("reported")

// usageError is a bad command line (exit 2): msg is printed as it is.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef is a usage error of a command's body; wire prefixes it with "dlc CMD: ".
func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// runError marks an error that a command's body returned, as opposed to one of the command
// line that cobra refused before calling it.
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }
