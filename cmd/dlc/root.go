package main

import (
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// newRoot builds the command tree of one command line, each command writing through s.
func newRoot(s *session) *cobra.Command {
	cobra.EnableCommandSorting = false // the order below: by what a user does first
	root := &cobra.Command{
		Use:               "dlc",
		Short:             "check, compile and train .dl models",
		Version:           version(),
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		RunE: func(c *cobra.Command, _ []string) error {
			printUsage(s.stderr, c) // dlc with flags but no command
			return usagef("")
		},
	}
	root.SetOut(s.stdout)
	root.SetErr(s.stderr)
	root.SetHelpFunc(func(c *cobra.Command, _ []string) { printUsage(c.OutOrStdout(), c) })
	root.SetUsageFunc(func(c *cobra.Command) error { printUsage(c.OutOrStderr(), c); return nil })
	root.SetFlagErrorFunc(flagError)
	root.SetHelpCommand(newHelpCmd())
	root.Flags().BoolP("version", "v", false, "print dlc's version (and the revision it was built from)")
	root.Flags().BoolP("help", "h", false, "print this help")
	root.AddCommand(
		newCheckCmd(s),
		newCompileCmd(s),
		newParamsCmd(s),
		newSummaryCmd(s),
		commandWith[runFlags]("run FILE", s.run),
		commandWith[applyFlags]("apply FILE", s.apply),
		newSampleCmd(s),
		newScoreCmd(s),
		commandWith[embedFlags]("embed FILE", s.embed),
		newTraverseCmd(s),
		commandWith[anomalyFlags]("anomaly FILE", s.anomaly),
		newFmtCmd(s),
		newLSPCmd(s),
		commandWith[exportFlags]("export FILE", s.export),
		commandWith[importFlags]("import FILE", s.importTorch),
	)
	root.InitDefaultHelpCmd() // now, not at Execute: checkCommand and the usage list it
	return root
}

// command is what every dlc command shares: its help (docs.go), one FILE argument, the
// least values of its counts checked before its body runs, and its body's errors marked
// as its own (a usage error prefixed with "dlc NAME: ").
func command(use string, run func(c *cobra.Command, file string) error) *cobra.Command {
	name, _, _ := strings.Cut(use, " ")
	return &cobra.Command{
		Use:   use,
		Short: docs[name].short,
		Long:  docs[name].long,
		Args:  oneFile,
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkCounts(c.Flags()); err != nil {
				return prefixUsage(c, err)
			}
			if err := run(c, args[0]); err != nil {
				return prefixUsage(c, &runError{err})
			}
			return nil
		},
	}
}

// flagStruct is a command's flags as a struct F whose pointer declares them.
type flagStruct[F any] interface {
	*F
	declare(fs *pflag.FlagSet)
}

// commandWith is command for a command whose flags are the struct F: its body gets them
// parsed, and the flag set to ask which were given.
func commandWith[F any, P flagStruct[F]](use string, run func(fs *pflag.FlagSet, file string, f F) error) *cobra.Command {
	var f F
	c := command(use, func(c *cobra.Command, file string) error { return run(c.Flags(), file, f) })
	P(&f).declare(c.Flags())
	return c
}

// prefixUsage names the command in a usage error's message.
func prefixUsage(c *cobra.Command, err error) error {
	var ue *usageError
	if errors.As(err, &ue) && ue.msg != "" && !strings.HasPrefix(ue.msg, "dlc ") {
		ue.msg = commandName(c) + ": " + ue.msg
	}
	return err
}

// commandName is how messages name c: "dlc run", or "dlc" for the root.
func commandName(c *cobra.Command) string {
	if !c.HasParent() {
		return "dlc"
	}
	return "dlc " + c.Name()
}

// oneFile accepts exactly one FILE argument, a path that is not empty.
func oneFile(c *cobra.Command, args []string) error {
	switch {
	case len(args) != 1:
		return usagef("dlc %s: want one FILE, got %d arguments", c.Name(), len(args))
	case args[0] == "":
		return usagef("dlc %s: FILE is an empty string, want the path of a .dl file", c.Name())
	}
	return nil
}

// checkCommand refuses a first argument that is neither a flag nor a command, suggesting
// the command it is likely a typo of.
func checkCommand(root *cobra.Command, name string) error {
	if strings.HasPrefix(name, "-") {
		return nil
	}
	var names []string
	for _, c := range root.Commands() {
		if c.Name() == name || slices.Contains(c.Aliases, name) {
			return nil
		}
		names = append(names, c.Name())
	}
	hint := ""
	if near := ir.Nearest(name, names); near != "" {
		hint = " (did you mean " + near + "?)"
	}
	return usagef("dlc: unknown command %q%s\nrun 'dlc help' for the commands", name, hint)
}

// newHelpCmd is dlc help [COMMAND], which prints the usage of dlc or of COMMAND.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]",
		Short: "the flags of COMMAND (also dlc COMMAND --help)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			root := c.Root()
			if len(args) == 0 {
				printUsage(c.OutOrStdout(), root)
				return nil
			}
			if err := checkCommand(root, args[0]); err != nil || args[0] == "help" {
				if err == nil {
					printUsage(c.OutOrStdout(), c)
				}
				return err
			}
			sub, _, _ := root.Find(args)
			printUsage(c.OutOrStdout(), sub)
			return nil
		},
	}
}

// flagError turns pflag's refusal of a flag into a short usage error that names the
// command, suggests the flag meant, and says where the flags are listed.
func flagError(c *cobra.Command, err error) error {
	var msg string
	var ne *pflag.NotExistError
	var ve *pflag.InvalidValueError
	var re *pflag.ValueRequiredError
	switch {
	case errors.As(err, &ne) && ne.GetSpecifiedShortnames() != "":
		msg = "unknown flag -" + ne.GetSpecifiedName()
		if short := ne.GetSpecifiedShortnames(); short != ne.GetSpecifiedName() {
			msg += " in -" + short
			if name, _, _ := strings.Cut(short, "="); c.Flags().Lookup(name) != nil {
				msg += " (did you mean --" + name + "?)" // Go's flag package took -epochs
			}
		}
	case errors.As(err, &ne):
		name := ne.GetSpecifiedName()
		msg = "unknown flag --" + name
		var names []string
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden {
				names = append(names, f.Name)
			}
		})
		if near := ir.Nearest(name, names); near != "" {
			msg += " (did you mean " + flagName(c.Flags().Lookup(near)) + "?)"
		}
	case errors.As(err, &ve):
		msg = fmt.Sprintf("%s %q: want %s", flagName(ve.GetFlag()), ve.GetValue(), wantOf(ve.GetFlag()))
	case errors.As(err, &re):
		msg = fmt.Sprintf("%s needs a value", flagName(re.GetFlag()))
	default:
		msg = err.Error()
	}
	help := "dlc help"
	if c.HasParent() {
		help += " " + c.Name()
	}
	return usagef("%s: %s\nrun '%s' for the flags", commandName(c), msg, help)
}

// wantOf says what a flag's value must be, by its type.
func wantOf(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "int", "int64", "uint64":
		return "an integer"
	case "float64":
		return "a number"
	case "bool":
		return "true or false"
	}
	return "a " + f.Value.Type()
}

// version is dlc's module version, which for a build from a checkout is a pseudo-version
// naming the revision (with +dirty when the work tree had changes); where the go command
// stamped no version ("(devel)", e.g. in a git worktree) the revision is added from the
// VCS settings when there are any; then the Go version.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown version)"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "(devel)"
		vcs := map[string]string{}
		for _, s := range bi.Settings {
			vcs[s.Key] = s.Value
		}
		if rev := vcs["vcs.revision"]; rev != "" {
			v += " " + rev[:min(len(rev), 12)]
			if vcs["vcs.modified"] == "true" {
				v += "+changes"
			}
			if t := vcs["vcs.time"]; t != "" {
				v += " " + t
			}
		}
	}
	return v + " " + bi.GoVersion
}
