package compiler

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/dlc-lang/dlc/ir/schema"
	"github.com/dlc-lang/dlc/lang"
)

// Overrides of the train block from the command line (dlc run --set KEY=VALUE). A key is
// named as the train block's source names what it sets:
//
//	batch=256                     a setting of the train block (any of schema.TrainSettings)
//	optimizer=sgd(lr: 0.1)        a setting, whole
//	optimizer.lr=3e-4             an argument of a setting's call; lr alone is optimizer.lr
//	early_stopping.n=3            (the call must be written, or have a default, as
//	                              optimizer does)
//	d.lr=1e-4, d.optimizer=…      a phase's: a phase written in the train block has its own
//	d.schedule=…, d.clip=…        settings (optimizer, repeat, schedule, clip); a family's
//	                              phase d or g the train block's d_optimizer, d_schedule,
//	                              d_clip (d.lr: d_optimizer's lr, from optimizer when unset)
//
// The value is an expression as the train block would write it, parsed and then checked by
// the same routine as the file's settings, so a bad one gets the message the file would;
// the error is prefixed with the --set it came from, not a file position.

// Override is one --set: a key and the value's source text.
type Override struct{ Key, Value string }

// setPrefix starts the file name of every position in an override's value: "--set
// KEY=VALUE", at line 1, column 1, so that an error found later (a data file the runtime
// cannot open) names the flag; a compile error there is rewritten (overrideError).
const setPrefix = "--set "

// parseValue parses an override's value as a setting's expression.
func parseValue(o Override) (*lang.Expr, error) {
	src := "train T {\n    v = " + o.Value + "\n}\n"
	f, err := lang.Parse("--set", []byte(src))
	if err != nil || len(f.Decls) != 1 || f.Decls[0].Train == nil || len(f.Decls[0].Train.Settings) != 1 {
		return nil, fmt.Errorf("--set %s=%s: want KEY=VALUE with VALUE an expression as the train block writes it", o.Key, o.Value)
	}
	v := f.Decls[0].Train.Settings[0].Value
	setPositions(reflect.ValueOf(v), lang.Pos{Filename: setPrefix + o.Key + "=" + o.Value, Line: 1, Column: 1})
	return v, nil
}

// applyOverrides rewrites train block t's settings (and its phases') by opts.
func (p *Program) applyOverrides(t *lang.Train, overrides []Override) error {
	for _, o := range overrides {
		v, err := parseValue(o)
		if err != nil {
			return err
		}
		if err := p.override(t, o.Key, v); err != nil {
			return fmt.Errorf("--set %s=%s: %v", o.Key, o.Value, err)
		}
	}
	return nil
}

// override sets key to v in t.
func (p *Program) override(t *lang.Train, key string, v *lang.Expr) error {
	if key == "lr" {
		key = "optimizer.lr"
	}
	head, rest, dotted := strings.Cut(key, ".")
	if ph := phaseNamed(t, head); dotted && ph != nil {
		return overridePhase(t, ph, rest, v)
	}
	if dotted && hasPhase(p.plans[t.Target], head) && !isTrainSetting(head) {
		// A family's phase: its settings are the train block's PHASE_ ones.
		name, arg, _ := strings.Cut(rest, ".")
		if name == "lr" {
			name, arg = "optimizer", "lr"
		}
		if !isTrainSetting(head + "_" + name) {
			return fmt.Errorf("phase %s has no setting %s (it takes optimizer, schedule, clip and lr)", head, name)
		}
		if arg != "" && settingOf(t.Settings, head+"_"+name) == nil && name == "optimizer" {
			base, err := trainOptimizer(t)
			if err != nil {
				return err
			}
			setSetting(&t.Settings, head+"_optimizer", base)
		}
		return setPath(&t.Settings, schema.TrainSettings, head+"_"+name, arg, v, "train")
	}
	name, arg, _ := strings.Cut(key, ".")
	if !isTrainSetting(name) {
		names := schema.Names(schema.TrainSettings)
		for _, ph := range t.Phases {
			names = append(names, ph.Name+".…")
		}
		if s := nearest(name, names); s != "" {
			return fmt.Errorf("unknown setting %s (did you mean %s?)", name, s)
		}
		return fmt.Errorf("unknown setting %s (want a train setting: %s)", name, strings.Join(names, ", "))
	}
	return setPath(&t.Settings, schema.TrainSettings, name, arg, v, "train")
}

// overridePhase sets rest (a phase setting, or SETTING.ARG, or lr) of written phase ph.
func overridePhase(t *lang.Train, ph *lang.Phase, rest string, v *lang.Expr) error {
	if rest == "lr" {
		rest = "optimizer.lr"
	}
	name, arg, _ := strings.Cut(rest, ".")
	switch name {
	case "optimizer", "repeat", "schedule", "clip":
	default:
		return fmt.Errorf("phase %s: only optimizer, repeat, schedule, clip and lr can be set from the command line, not %s", ph.Name, name)
	}
	var settings []*lang.Setting
	for _, st := range ph.Body {
		if st.Assign != nil && isPhaseSetting(st.Assign.Name) {
			settings = append(settings, st.Assign)
		}
	}
	before := len(settings)
	if arg != "" && settingOf(settings, name) == nil && name == "optimizer" {
		base, err := trainOptimizer(t)
		if err != nil {
			return err
		}
		settings = append(settings, &lang.Setting{Pos: base.Pos, Name: "optimizer", Value: base})
	}
	if err := setPath(&settings, schema.PhaseSettings, name, arg, v, "phase "+ph.Name); err != nil {
		return err
	}
	for _, s := range settings[before:] {
		ph.Body = append(ph.Body, &lang.Stmt{Pos: s.Pos, Assign: s})
	}
	return nil
}

// trainOptimizer is the train block's optimizer as written, or its default.
func trainOptimizer(t *lang.Train) (*lang.Expr, error) {
	if base := settingOf(t.Settings, "optimizer"); base != nil {
		return base.Value, nil
	}
	spec, _ := schema.Lookup(schema.TrainSettings, "optimizer")
	return parseValue(Override{Key: "optimizer", Value: spec.Default})
}

// callExpr is an expression that is call c alone, at e's position.
func callExpr(e *lang.Expr, c *lang.Call) *lang.Expr {
	return &lang.Expr{Pos: e.Pos, EndPos: e.EndPos, Left: &lang.Term{Pos: e.Pos, EndPos: e.EndPos,
		Left: &lang.Unary{Pos: e.Pos, EndPos: e.EndPos, Postfix: &lang.Postfix{Pos: e.Pos, EndPos: e.EndPos,
			Primary: &lang.Primary{Pos: e.Pos, EndPos: e.EndPos, Call: c}}}}}
}

// setPath sets setting name of settings (table's), or, with arg, that argument of the
// call it holds (or of its default).
func setPath(settings *[]*lang.Setting, table []schema.Setting, name, arg string, v *lang.Expr, what string) error {
	spec, _ := schema.Lookup(table, name)
	if arg == "" {
		setSetting(settings, name, v)
		return nil
	}
	if spec.Kind != schema.CallOf {
		return fmt.Errorf("%s: %s is %s, not a call with arguments", what, name, spec.Wants())
	}
	s := settingOf(*settings, name)
	if s == nil {
		if spec.Default == "" {
			return fmt.Errorf("%s: the train block sets no %s to change the %s of; set it whole: --set %s='%s'", what, name, arg, name, spec.Wants())
		}
		dv, err := parseValue(Override{Key: name, Value: spec.Default})
		if err != nil {
			return err
		}
		s = setSetting(settings, name, dv)
	}
	c := bareCall(s.Value)
	if c == nil {
		return fmt.Errorf("%s: %s = %s is not a call", what, name, exprString(s.Value))
	}
	fn, ok := schema.Find(spec.Calls, c.Func)
	if !ok {
		return fmt.Errorf("%s: %s: unknown %s %s", what, name, spec.Noun, c.Func)
	}
	if _, ok := fn.Arg(arg); !ok {
		return unknownPlain(what+": "+c.Func, "argument", arg, fn.ArgNames())
	}
	// The call is copied: a default's, or one another setting shares (d_optimizer made
	// from optimizer), must not change with it.
	nc := &lang.Call{Pos: c.Pos, EndPos: c.EndPos, Func: c.Func}
	replaced := false
	for i, a := range c.Args {
		an := a.Name
		if an == "" && fn.Positional && i < len(fn.Args) {
			an = fn.Args[i].Name
		}
		if an == arg {
			a = &lang.Arg{Pos: a.Pos, EndPos: a.EndPos, Name: a.Name, Value: v}
			replaced = true
		}
		nc.Args = append(nc.Args, a)
	}
	if !replaced {
		nc.Args = append(nc.Args, &lang.Arg{Pos: v.Pos, Name: arg, Value: v})
	}
	s.Value = callExpr(s.Value, nc)
	return nil
}

// unknownPlain is unknownName without a position.
func unknownPlain(what, noun, name string, names []string) error {
	var le *lang.Error
	if errors.As(unknownName(lang.Pos{}, what, noun, name, names), &le) {
		return errors.New(le.Msg)
	}
	return fmt.Errorf("%s: unknown %s %s", what, noun, name)
}

// setSetting replaces setting name's value in settings, or adds it; it returns the setting.
func setSetting(settings *[]*lang.Setting, name string, v *lang.Expr) *lang.Setting {
	if s := settingOf(*settings, name); s != nil {
		s.Value = v
		return s
	}
	s := &lang.Setting{Pos: v.Pos, Name: name, Value: v}
	*settings = append(*settings, s)
	return s
}

func settingOf(settings []*lang.Setting, name string) *lang.Setting {
	for _, s := range settings {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func isTrainSetting(name string) bool {
	_, ok := schema.Lookup(schema.TrainSettings, name)
	return ok
}

func phaseNamed(t *lang.Train, name string) *lang.Phase {
	for _, ph := range t.Phases {
		if ph.Name == name {
			return ph
		}
	}
	return nil
}

// overrideError rewrites an error at an override's value as one of that --set.
func overrideError(err error, overrides []Override) error {
	var le *lang.Error
	if !errors.As(err, &le) || !strings.HasPrefix(le.Pos.Filename, setPrefix) {
		return err
	}
	return fmt.Errorf("%s: %s", le.Pos.Filename, le.Msg)
}
