package ir

import (
	"fmt"
	"slices"
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
	seen map[uint64]*Op // kept ops by CSE hash (cseHash), for the cse rule
	// unseen are kept ops not yet in seen: keys are made when a rule first asks (Seen), so
	// that passes without a cse rule (fusion) do not pay for them.
	unseen []*Op
}

// Seen returns the op kept earlier in this sweep that computes what o computes, or nil.
func (r *Rewriter) Seen(o *Op) *Op {
	for _, k := range r.unseen {
		r.seen[cseHash(k)] = k
	}
	r.unseen = r.unseen[:0]
	if k := r.seen[cseHash(o)]; k != nil && cseEqual(k, o) {
		return k
	}
	return nil
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
	r := &Rewriter{Uses: UsesOf(f), seen: map[uint64]*Op{}}
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
// The use lists share one backing array, each capped at its own length, so that a rewrite
// appending to one list copies it instead of writing over its neighbour's.
func UsesOf(f *Func) Uses {
	live := liveOps(f)
	count := make([]int32, len(live))
	total, distinct := 0, 0
	note := func(a *Op) {
		if count[a.ID] == 0 {
			distinct++
		}
		count[a.ID]++
		total++
	}
	for _, o := range f.Ops {
		if live[o.ID] {
			for _, a := range o.Args {
				note(a)
			}
		}
	}
	for _, out := range f.Outputs {
		note(out.Value)
	}
	u := make(Uses, distinct)
	backing := make([]*Op, total)
	add := func(a, user *Op) {
		us, ok := u[a]
		if !ok {
			n := int(count[a.ID])
			us, backing = backing[:0:n], backing[n:]
		}
		u[a] = append(us, user)
	}
	for _, o := range f.Ops {
		if live[o.ID] {
			for _, a := range o.Args {
				add(a, o)
			}
		}
	}
	for _, out := range f.Outputs {
		add(out.Value, nil)
	}
	return u
}

// Only reports whether user is the one and only use of o.
func (u Uses) Only(o, user *Op) bool {
	us := u[o]
	return len(us) == 1 && us[0] == user
}

// liveOps marks, by op ID, the ops the outputs depend on. IDs are unique within a func (the
// verifier checks it) and dense, so a slice serves where a map would allocate per op.
func liveOps(f *Func) []bool {
	n := 0
	for _, o := range f.Ops {
		n = max(n, o.ID+1)
	}
	for _, out := range f.Outputs {
		n = max(n, out.Value.ID+1)
	}
	live := make([]bool, n)
	for _, out := range f.Outputs {
		live[out.Value.ID] = true
	}
	for i := len(f.Ops) - 1; i >= 0; i-- {
		o := f.Ops[i]
		if !live[o.ID] {
			continue
		}
		for _, a := range o.Args {
			live[a.ID] = true
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
		if live[o.ID] || o.Kind == "input" {
			kept = append(kept, o)
		}
	}
	changed := len(kept) != len(f.Ops)
	f.Ops = kept
	return changed, nil
}
