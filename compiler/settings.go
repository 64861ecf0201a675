package compiler

import (
	"slices"
	"strconv"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
	"github.com/dlc-lang/dlc/lang"
)

// Settings and call arguments are checked here, against the tables of ir/schema, by one
// routine: a name set twice, an unknown name (with the nearest valid one), a value of the
// wrong kind or outside its range, and a required one missing are each a lang.Error at the
// setting or argument concerned, so that they render with the source line and a caret.
// What a table cannot say (a layer's settings come in order, a prior needs a
// discriminator) stays with the block that reads the settings.

// setting is one setting or argument as its table accepted it.
type setting struct {
	spec *schema.Setting
	// val is the value: for Int, Float and Bool its num (a Bool is 1 or 0), for String,
	// Path and Word its str; a StringOrInt is either, an Ints a list. Expr and CallOf
	// leave it unset, but for an Expr written as one of its table's words (loss = mse),
	// whose str is the word.
	val  value
	expr *lang.Expr   // the value as written; nil for a default
	call *lang.Call   // CallOf: the call written
	fn   *schema.Call // CallOf: the call's table entry
	args settings     // CallOf: the call's arguments, checked
	pos  lang.Pos     // where the value is written; the zero Pos for a default
}

// given reports whether the setting was written, rather than taking its default.
func (s setting) given() bool { return s.expr != nil }

// settings are checked settings by name. A name the source leaves out has its table's
// default, or is absent when the table has none.
type settings map[string]setting

func (s settings) num(name string) float64 { return s[name].val.num }
func (s settings) word(name string) string { return s[name].val.str }
func (s settings) has(name string) bool    { return s[name].given() }

// settingsChecker checks settings and arguments against tables. what prefixes its
// messages ("AE", "layer L", "train"); eval evaluates a value known at compile time.
type settingsChecker struct {
	what string
	eval func(*lang.Expr) (value, error)
}

// checkSettings checks the settings ss of a block against table and returns their values,
// the defaults filled in; a required setting left out is an error at end. For example,
// the autoencoder family reads its block with
//
//	got, err := p.checkSettings(f.Name, schema.AutoencoderSettings, f.Settings, f.EndPos)
//	if err != nil {
//		return nil, err // e.g. "m.dl:8:5: AE: unknown setting sparsty (did you mean sparsity?)"
//	}
//	ae.reduction = got.word("reduction") // "mean" when not set
//	if got.has("penalty") {
//		ae.l2 = got["penalty"].args.num("lambda") // penalty = l2(1e-4)
//	}
//
// and the train block would read its own with
//
//	got, err := p.checkSettings("train", schema.TrainSettings, t.Settings, t.Pos)
//	spec.Data, spec.Batch = got["data"].dataSpec(), int(got.num("batch")) // batch 32 when not set
//	if got.has("optimizer") {
//		optimizer = got["optimizer"].optSpec() // checked against schema.Optimizers
//	}
//
// A CallOf's default is left to its reader. A block whose settings are interleaved with
// other statements (a layer) checks them one at a time with settingsChecker.read and then
// settingsChecker.finish; a call alone (an optimiser) is checked with settingsChecker.value
// or settingsChecker.args.
func (p *Program) checkSettings(what string, table []schema.Setting, ss []*lang.Setting, end lang.Pos) (settings, error) {
	ck := settingsChecker{what: what, eval: p.evalConst}
	got := settings{}
	for _, s := range ss {
		if _, err := ck.read(table, got, s); err != nil {
			return nil, err
		}
	}
	return got, ck.finish(ck.what, table, got, end, false)
}

// read checks one setting against table and records it in got.
func (ck settingsChecker) read(table []schema.Setting, got settings, s *lang.Setting) (setting, error) {
	spec, ok := schema.Lookup(table, s.Name)
	if !ok {
		return setting{}, unknownName(s.Pos, ck.what, "setting", s.Name, schema.Names(table))
	}
	if got.has(s.Name) {
		return setting{}, lang.Errorf(s.Pos, "%s: %s set twice", ck.what, s.Name)
	}
	st, err := ck.value(ck.what, spec, s.Value)
	if err != nil {
		return setting{}, err
	}
	got[s.Name] = st
	return st, nil
}

// finish reports the first required entry of table that got lacks, at pos, and fills in
// the defaults of the others; isArg says table holds a call's arguments, not settings.
func (ck settingsChecker) finish(what string, table []schema.Setting, got settings, pos lang.Pos, isArg bool) error {
	for i := range table {
		spec := &table[i]
		switch {
		case got.has(spec.Name):
		case spec.Required && isArg:
			return lang.Errorf(pos, "%s: missing argument %s, want %s", what, spec.Name, spec.Wants())
		case spec.Required:
			return lang.Errorf(pos, "%s: missing %s = …, want %s", what, spec.Name, spec.Wants())
		case spec.Default != "" && spec.Kind != schema.CallOf: // a call's default is its reader's
			got[spec.Name] = setting{spec: spec, val: settingDefault(spec)}
		}
	}
	return nil
}

// defaults are the defaults of table, for a reader that needs them before finish.
func defaults(table []schema.Setting) settings {
	got := settings{}
	for i := range table {
		if spec := &table[i]; spec.Default != "" && spec.Kind != schema.CallOf {
			got[spec.Name] = setting{spec: spec, val: settingDefault(spec)}
		}
	}
	return got
}

// settingDefault is a setting's default as a value.
func settingDefault(spec *schema.Setting) value {
	d := spec.Default
	switch spec.Kind {
	case schema.Int, schema.Float, schema.StringOrInt:
		if x, err := strconv.ParseFloat(d, 64); err == nil {
			if spec.Kind == schema.Float {
				return floatVal(x)
			}
			return intVal(int(x))
		}
	case schema.Bool:
		return value{kind: kBool, num: map[bool]float64{true: 1}[d == "true"]}
	case schema.Word, schema.Expr:
		return value{kind: kName, str: d}
	}
	return value{kind: kString, str: d}
}

// value checks the value e of a setting or argument against its spec; what prefixes the
// messages ("AE", "train: csv").
func (ck settingsChecker) value(what string, spec *schema.Setting, e *lang.Expr) (setting, error) {
	st := setting{spec: spec, expr: e, pos: e.Pos}
	switch spec.Kind {
	case schema.CallOf:
		return ck.callValue(what, spec, e)
	case schema.Word, schema.Expr:
		w := settingWord(e)
		if spec.Kind == schema.Expr {
			w = bareIdent(e)
		}
		if spec.Kind == schema.Expr && (w == "" || spec.Values == nil) {
			return st, nil
		}
		if !slices.Contains(spec.Values, w) {
			return st, lang.Errorf(e.Pos, "%s: %s = %s, want %s", what, spec.Name, exprString(e), spec.Wants())
		}
		st.val = value{kind: kName, str: w}
		return st, nil
	}
	v, err := ck.eval(e)
	if err != nil {
		return st, err
	}
	var ok bool
	if st.val, ok = fits(spec, v); !ok {
		return st, lang.Errorf(e.Pos, "%s: %s = %s, want %s", what, spec.Name, describe(v), spec.Wants())
	}
	return st, nil
}

// fits converts v to the kind spec takes, if it is of that kind and in its range.
func fits(spec *schema.Setting, v value) (value, bool) {
	number := v.kind == kInt || v.kind == kFloat
	switch spec.Kind {
	case schema.Int:
		return v, v.kind == kInt && spec.Range.Contains(v.num)
	case schema.Float:
		return v, number && spec.Range.Contains(v.num)
	case schema.Bool:
		return value{kind: kBool, num: v.num}, v.kind == kBool || number && (v.num == 0 || v.num == 1)
	case schema.String:
		return v, v.kind == kString && spec.FitsString(v.str)
	case schema.Path:
		return v, v.kind == kString && strings.TrimSpace(v.str) != ""
	case schema.StringOrInt:
		return v, v.kind == kString || v.kind == kInt
	case schema.Ints:
		ids, ok := v.asInts()
		for _, n := range ids {
			ok = ok && spec.Range.Contains(float64(n))
		}
		return v, ok && v.kind == kList && len(ids) > 0
	}
	return v, false
}

// callValue checks a setting whose value is a call of one of spec.Calls: l2(1e-4).
func (ck settingsChecker) callValue(what string, spec *schema.Setting, e *lang.Expr) (setting, error) {
	c := bareCall(e)
	var fn *schema.Call
	if c != nil {
		fn, _ = schema.Find(spec.Calls, c.Func)
	}
	switch {
	case fn == nil && c != nil && spec.Noun != "":
		return setting{}, unknownName(c.Pos, what, spec.Noun, c.Func, schema.CallNames(spec.Calls))
	case fn == nil:
		return setting{}, lang.Errorf(e.Pos, "%s: %s = %s, want %s", what, spec.Name, exprString(e), spec.Wants())
	}
	args, err := ck.args(what, fn, c)
	return setting{spec: spec, expr: e, call: c, fn: fn, args: args, pos: e.Pos}, err
}

// args checks the arguments of call c against its table entry fn: named, or in order where
// fn allows it. Messages read "train: csv: unknown argument pth (did you mean path?)".
func (ck settingsChecker) args(prefix string, fn *schema.Call, c *lang.Call) (settings, error) {
	what := prefix + ": " + c.Func
	got := settings{}
	for i, a := range c.Args {
		name := a.Name
		switch {
		case name == "" && len(fn.Args) == 0:
			return nil, lang.Errorf(a.Pos, "%s takes no arguments", what)
		case name == "" && !fn.Positional:
			return nil, lang.Errorf(a.Pos, "%s: arguments are named, want %s: …", what, fn.Args[0].Name)
		case name == "" && i >= len(fn.Args):
			return nil, lang.Errorf(a.Pos, "%s takes %d arguments (%s), got %d", what, len(fn.Args), strings.Join(fn.ArgNames(), ", "), len(c.Args))
		case name == "":
			name = fn.Args[i].Name
		}
		spec, ok := fn.Arg(name)
		if !ok {
			return nil, unknownName(a.Pos, what, "argument", name, fn.ArgNames())
		}
		if got.has(name) {
			return nil, lang.Errorf(a.Pos, "%s: argument %s given twice", what, name)
		}
		st, err := ck.value(what, spec, a.Value)
		if err != nil {
			return nil, err
		}
		got[name] = st
	}
	if err := ck.finish(what, fn.Args, got, c.Pos, true); err != nil {
		return nil, err
	}
	return got, checkTogether(what, fn, got, c.Pos)
}

// checkTogether runs a call's check of its numeric arguments as a whole (sgd's nesterov).
func checkTogether(what string, fn *schema.Call, got settings, pos lang.Pos) error {
	if fn.Check == nil {
		return nil
	}
	nums := map[string]float64{}
	for name, st := range got {
		nums[name] = st.val.num
		if a, ok := fn.Arg(name); ok && a.Kind == schema.Word {
			nums[name] = float64(slices.Index(a.Values, st.val.str))
		}
	}
	arg, msg := fn.Check(nums)
	if msg == "" {
		return nil
	}
	if got.has(arg) {
		pos = got[arg].pos
	}
	return lang.Errorf(pos, "%s: %s", what, msg)
}

// unknownName reports a name that is none of names, suggesting the nearest.
func unknownName(pos lang.Pos, what, noun, name string, names []string) error {
	shown := name
	if name == "" {
		shown = `""`
	}
	if s := nearest(name, names); s != "" {
		return lang.Errorf(pos, "%s: unknown %s %s (did you mean %s?)", what, noun, shown, s)
	}
	return lang.Errorf(pos, "%s: unknown %s %s (want %s)", what, noun, shown, strings.Join(names, ", "))
}

// optimizerSpec reads an optimiser, `adam(lr: 1e-3, beta1: 0.5)`, checked against
// schema.Optimizers: its name, its named arguments and their ranges, so that everything
// runtime.NewOptimizer would refuse is a diagnostic at the argument concerned. The spec
// holds the arguments as written (true and false as 1 and 0); the runtime fills in the
// defaults. Use it for optimizer, d_optimizer and g_optimizer:
//
//	o, err := p.optimizerSpec(s.Value) // s is the setting optimizer = adam(…)
func (p *Program) optimizerSpec(v *lang.Expr) (ir.OptSpec, error) {
	st, err := p.trainSettingValue("optimizer", v)
	return st.optSpec(), err
}

// trainSettingValue checks the value v of the train block's setting name against
// schema.TrainSettings.
func (p *Program) trainSettingValue(name string, v *lang.Expr) (setting, error) {
	spec, _ := schema.Lookup(schema.TrainSettings, name)
	return settingsChecker{what: "train", eval: p.evalConst}.value("train", spec, v)
}

// written maps the arguments a checked call was given, not its defaults, through conv.
func written[T any](st setting, conv func(setting) T) map[string]T {
	out := map[string]T{}
	for name, a := range st.args {
		if a.given() {
			out[name] = conv(a)
		}
	}
	return out
}

// optSpec is the optimiser a checked optimizer setting names (see optimizerSpec).
func (st setting) optSpec() ir.OptSpec {
	if st.call == nil {
		return ir.OptSpec{}
	}
	return ir.OptSpec{Name: st.fn.Name, Args: written(st, func(a setting) float64 { return a.val.num }), Pos: irPos(st.call.Pos)}
}

// checkInit checks an initialiser as a param's init names it, "he_normal" or
// "normal(0.02)", against schema.Initializers, with the error at pos. It accepts what
// runtime.InitTensor accepts.
func checkInit(what, init string, pos lang.Pos) error {
	name, body, hasArg := strings.Cut(strings.TrimSpace(init), "(")
	name = strings.TrimSpace(name)
	fn, ok := schema.Find(schema.Initializers, name)
	if !ok {
		return unknownName(pos, what, "initializer", name, schema.CallNames(schema.Initializers))
	}
	if !hasArg {
		return nil
	}
	body, closed := strings.CutSuffix(body, ")")
	x, err := strconv.ParseFloat(strings.TrimSpace(body), 64)
	switch {
	case !closed:
		return lang.Errorf(pos, "%s: init %q: missing closing parenthesis", what, init)
	case len(fn.Args) == 0:
		return lang.Errorf(pos, "%s: init %q: %s takes no argument", what, init, name)
	case err != nil:
		return lang.Errorf(pos, "%s: init %q: want one number, %s(%s)", what, init, name, fn.Args[0].Name)
	case !fn.Args[0].Range.Contains(x):
		return lang.Errorf(pos, "%s: init %q: %s = %s, want %s", what, init, fn.Args[0].Name, strings.TrimSpace(body), fn.Args[0].Wants())
	}
	return nil
}
