package ir

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Passes.
//
// A pass rewrites a Func in place. Almost every pass is a table of local rewrite rules run
// by one driver, RewritePass: the driver walks the ops in topological order, first replaces
// each op's operands by what they were rewritten to earlier in the sweep, then offers the op
// to the rules registered for its kind. The first rule that returns a value wins: the op is
// dropped from the list and its users read the replacement instead. New ops a rule emits are
// placed where the dropped op stood, so the order stays topological without a sort. Sweeps
// repeat until one changes nothing, so rules compose: `add(matmul, b)` becomes a dense op in
// one sweep and `relu(dense)` folds into it in the same or the next one.
//
// Rules may only look backwards (at an op's operands) and at how many users a value has.
// Use counts come from Uses, computed once per sweep from the ops that are live from the
// outputs and kept as an upper bound while the sweep rewrites (a rewrite adds users, it never
// hides one), so a rule that needs "x has no other user" is never told so wrongly. Dead ops
// left behind by a rewrite are removed by the DeadCode pass, not by the rules.

// Pass is one named transformation of a Func. Run reports whether it changed anything.
type Pass struct {
	Name string
	Run  func(f *Func) (changed bool, err error)
}

// DefaultPasses is the pipeline the compiler runs: algebraic simplification and common
// subexpressions, then fusion (dense layers, then elementwise chains), then dead code.
func DefaultPasses() []Pass {
	return []Pass{
		RewritePass("simplify", SimplifyRules),
		RewritePass("fuse", FuseRules()),
		FuseElementwisePass(),
		{Name: "dce", Run: DeadCode},
	}
}

// Optimize runs passes (DefaultPasses when none are given) over every func of m.
func Optimize(m *Module, passes ...Pass) error {
	return OptimizeVerified(m, passes, nil)
}

// OptimizeVerified is Optimize with a check after every pass: tests pass the IR verifier,
// so that a pass that breaks an invariant is named, not the one that trips over it later.
func OptimizeVerified(m *Module, passes []Pass, verify func(*Module) error) error {
	if len(passes) == 0 {
		passes = DefaultPasses()
	}
	for _, p := range passes {
		for _, f := range m.Funcs {
			if _, err := p.Run(f); err != nil {
				return fmt.Errorf("pass %s: func %s: %w", p.Name, f.Name, err)
			}
		}
		if verify != nil {
			if err := verify(m); err != nil {
				return fmt.Errorf("after pass %s: %w", p.Name, err)
			}
		}
	}
	return nil
}

// Rule is one local rewrite. Rewrite returns the value that replaces o, or nil when the rule
// does not apply; it must not modify o, and emits new ops through r only when it returns one.
type Rule struct {
	Name    string
	Kinds   []string // the op kinds the rule looks at; none means every kind
	Rewrite func(r *Rewriter, o *Op) *Op
}

// maxSweeps bounds the fixed-point loop: a rule set that never settles is a bug in a rule
// (two rules undoing each other), reported rather than looped on.
const maxSweeps = 100

// RewritePass returns a pass that runs rules to a fixed point.
func RewritePass(name string, rules []Rule) Pass {
	// Rules keep their table order whether they match one kind or every kind.
	byKind := map[string][]Rule{}
	var every []Rule
	for _, r := range rules {
		for _, k := range r.Kinds {
			byKind[k] = nil
		}
		if len(r.Kinds) == 0 {
			every = append(every, r)
		}
	}
	for k := range byKind {
		for _, r := range rules {
			if len(r.Kinds) == 0 || slices.Contains(r.Kinds, k) {
				byKind[k] = append(byKind[k], r)
			}
		}
	}
	forKind := func(k string) []Rule {
		if rs, ok := byKind[k]; ok {
			return rs
		}
		return every
	}
	return Pass{Name: name, Run: func(f *Func) (bool, error) {
		changed := false
		for i := 0; i < maxSweeps; i++ {
			c, err := sweep(f, forKind)
			if err != nil || !c {
				return changed || c, err
			}
			changed = true
		}
		return changed, fmt.Errorf("rules did not settle after %d sweeps", maxSweeps)
	}}
}

// Rewriter is what a rule sees besides the op: the func's uses and a builder that places new
// ops before the op being rewritten.
type Rewriter struct {
	Uses Uses
	b    *Builder
	seen map[string]*Op // kept ops by CSE key, for the cse rule
	// unseen are kept ops not yet in seen: keys are made when a rule first asks (Seen), so
	// that passes without a cse rule (fusion) do not pay for them.
	unseen []*Op
}

// Seen returns the op kept earlier in this sweep that computes what o computes, or nil.
func (r *Rewriter) Seen(o *Op) *Op {
	for _, k := range r.unseen {
		r.seen[cseKey(k)] = k
	}
	r.unseen = r.unseen[:0]
	return r.seen[cseKey(o)]
}

// Op emits a new op (its shape rule checked) at the current position, with the position of
// the op being rewritten. A shape error is a bug in the rule and fails the pass.
func (r *Rewriter) Op(kind string, attrs Attrs, args ...*Op) *Op {
	o := r.b.Op(kind, attrs, args...)
	if r.b.Err == nil {
		for _, a := range args {
			r.Uses[a] = append(r.Uses[a], o)
		}
	}
	return o
}

// sweep runs the rules once over f and reports whether any fired.
func sweep(f *Func, rules func(kind string) []Rule) (bool, error) {
	r := &Rewriter{Uses: UsesOf(f), seen: map[string]*Op{}}
	old := f.Ops
	f.Ops = make([]*Op, 0, len(old))
	r.b = NewBuilder(f)
	subst := map[*Op]*Op{}
	changed := false
	for i, o := range old {
		substArgs(o, subst)
		var rep *Op
		for _, rule := range rules(o.Kind) {
			r.b.Pos = o.Pos
			rep = rule.Rewrite(r, o)
			if r.b.Err != nil {
				// A rule emitting an ill-typed op is a bug; f is left half-rewritten.
				f.Ops = append(f.Ops, old[i:]...)
				err := fmt.Errorf("rule %s on %%%s: %w", rule.Name, o.Ref(), r.b.Err)
				if o.Pos.IsValid() {
					err = fmt.Errorf("%s: %w", o.Pos, err)
				}
				return false, err
			}
			if rep != nil && rep != o {
				break
			}
			rep = nil
		}
		if rep == nil {
			f.Ops = append(f.Ops, o)
			r.unseen = append(r.unseen, o)
			continue
		}
		subst[o] = rep
		r.Uses[rep] = append(r.Uses[rep], r.Uses[o]...)
		changed = true
	}
	for i := range f.Outputs {
		f.Outputs[i].Value = resolve(f.Outputs[i].Value, subst)
	}
	return changed, nil
}

func resolve(o *Op, subst map[*Op]*Op) *Op {
	for {
		rep, ok := subst[o]
		if !ok {
			return o
		}
		o = rep
	}
}

// substArgs points o's operands at their replacements, copying the operand slice before the
// first change so that no other op sharing it is affected.
func substArgs(o *Op, subst map[*Op]*Op) {
	copied := false
	for i, a := range o.Args {
		rep := resolve(a, subst)
		if rep == a {
			continue
		}
		if !copied {
			o.Args = append([]*Op(nil), o.Args...)
			copied = true
		}
		o.Args[i] = rep
	}
}

// Uses maps each op to the live ops that read it, once per operand slot; a func output counts
// as one use by nil.
type Uses map[*Op][]*Op

// UsesOf returns the uses of f's ops. Ops not live from the outputs are not counted as users.
func UsesOf(f *Func) Uses {
	live := liveOps(f)
	u := Uses{}
	for _, o := range f.Ops {
		if !live[o] {
			continue
		}
		for _, a := range o.Args {
			u[a] = append(u[a], o)
		}
	}
	for _, out := range f.Outputs {
		u[out.Value] = append(u[out.Value], nil)
	}
	return u
}

// Only reports whether user is the one and only use of o.
func (u Uses) Only(o, user *Op) bool {
	us := u[o]
	return len(us) == 1 && us[0] == user
}

// liveOps marks the ops the outputs depend on.
func liveOps(f *Func) map[*Op]bool {
	live := map[*Op]bool{}
	for _, out := range f.Outputs {
		live[out.Value] = true
	}
	for i := len(f.Ops) - 1; i >= 0; i-- {
		o := f.Ops[i]
		if !live[o] {
			continue
		}
		for _, a := range o.Args {
			live[a] = true
		}
	}
	return live
}

// DeadCode removes the ops no output depends on. Inputs stay, whether used or not: they are
// the func's signature. Unused params go, and with them the runtime's need to feed them.
func DeadCode(f *Func) (bool, error) {
	live := liveOps(f)
	kept := f.Ops[:0:0]
	for _, o := range f.Ops {
		if live[o] || o.Kind == "input" {
			kept = append(kept, o)
		}
	}
	changed := len(kept) != len(f.Ops)
	f.Ops = kept
	return changed, nil
}

// cseKey identifies what an op computes: its kind, its operands (by identity), its attributes
// and its type. Two ops with the same key compute the same value, except inputs, which are
// distinct by definition and never looked up.
func cseKey(o *Op) string {
	var sb strings.Builder
	sb.WriteString(o.Kind)
	sb.WriteByte('(')
	for _, a := range o.Args {
		fmt.Fprintf(&sb, "%p,", a)
	}
	sb.WriteByte(')')
	for _, k := range o.Attrs.Keys() {
		v := o.Attrs[k]
		if b, ok := v.(bool); ok && !b {
			continue // an absent bool reads as false
		}
		sb.WriteString(k)
		sb.WriteByte('=')
		sb.WriteString(attrKey(v))
		sb.WriteByte(';')
	}
	sb.WriteString(o.Type.String())
	return sb.String()
}

func attrKey(v any) string {
	switch v := v.(type) {
	case float64:
		if math.IsNaN(v) {
			return "nan" // never equal to itself, but the same constant all the same
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	case int:
		return strconv.Itoa(v) + "i" // 1 and 1.0 read alike through Attrs.Float, but keep them apart
	case Shape:
		return v.String()
	case string:
		return strconv.Quote(v)
	}
	return fmt.Sprint(v)
}
