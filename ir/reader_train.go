package ir

import (
	"strconv"
	"strings"
)

// Reading the train section: one field per line, in any order, each at most once. A field
// left out keeps its zero value; the printer writes them all.

// train reads the train section; the "train" keyword is already consumed.
func (r *reader) train() *TrainSpec {
	t := &TrainSpec{}
	r.expect("{")
	r.expectEOL()
	t.Pos = r.pos()
	r.trainLine = Pos{File: r.file, Line: r.ln + 1, Col: 1}
	seen := map[string]int{}
	for {
		if !r.nextLine() {
			r.ln = len(r.lines) - 1
			r.errorf(1, "unexpected end of file in train section (line %d), want }", r.trainLine.Line)
		}
		kt := r.next()
		if kt.kind == tPunct && kt.text == "}" {
			r.expectEOL()
			return t
		}
		if kt.kind != tIdent {
			r.errorf(kt.col, "got %v, want a train field or }", kt)
		}
		if line, dup := seen[kt.text]; dup && kt.text != "phase" && kt.text != "feed" && kt.text != "role" {
			r.errorf(kt.col, "train field %s repeated (first on line %d)", kt.text, line)
		}
		seen[kt.text] = r.ln + 1
		switch kt.text {
		case "task":
			t.Task = Task(r.enum(taskNames, "task"))
		case "feed":
			t.Feeds = append(t.Feeds, r.feed(t))
		case "role":
			t.Roles = append(t.Roles, r.role(t))
		case "noise":
			t.Noise = Noise(r.enum(noiseNames, "noise"))
		case "undirected":
			t.Graph.Undirected = r.boolTok()
		case "test_edges":
			t.Graph.TestEdges = r.floatTok(r.next(), "test_edges")
		case "labelled":
			t.Graph.Labelled = r.nodeSplit()
		case "neighbors":
			r.expect("[")
			t.Graph.Neighbors = []int{}
			for !r.isPunct("]") {
				if len(t.Graph.Neighbors) > 0 {
					r.expect(",")
				}
				t.Graph.Neighbors = append(t.Graph.Neighbors, r.intTok(r.next(), "neighbours per node"))
			}
			r.next()
		case "phase":
			t.Phases = append(t.Phases, r.phase(t))
			continue // phase reads its own closing line
		case "eval":
			r.expect("@")
			t.Eval = r.name("func name")
		case "data":
			t.Data = r.data()
		case "test":
			d := r.data()
			t.Test = &d
		case "batch":
			t.Batch = r.intTok(r.next(), "batch")
		case "epochs":
			t.Epochs = r.intTok(r.next(), "epochs")
		case "seed":
			st := r.next()
			n, err := strconv.ParseInt(st.text, 10, 64)
			if st.kind != tNumber || err != nil {
				r.errorf(st.col, "got %v, want seed (a 64-bit integer)", st)
			}
			t.Seed = n
		case "shuffle":
			t.Shuffle = r.boolTok()
		case "validation":
			t.Validation = r.validation()
			continue // validation reads its line's end
		case "early_stopping":
			t.EarlyStop = r.monitor()
			t.EarlyStop.Pos = r.pos()
			continue
		default:
			r.errorf(kt.col, "unknown train field %s%s", kt.text, suggest(kt.text,
				[]string{"task", "feed", "phase", "eval", "role", "noise", "undirected", "test_edges", "labelled", "neighbors", "data", "test", "batch", "epochs", "seed", "shuffle", "validation", "early_stopping"}))
		}
		r.expectEOL()
	}
}

// feed reads `"input" kind`, an input not fed yet in t.
func (r *reader) feed(t *TrainSpec) Feed {
	f := Feed{Input: r.str("input name")}
	if _, dup := t.Feed(f.Input); dup {
		r.errorf(1, "feed %q repeated", f.Input)
	}
	f.Kind = FeedKind(r.enum(feedNames, "feed kind"))
	return f
}

// role reads `role @func`, a role not given yet in t.
func (r *reader) role(t *TrainSpec) RoleFunc {
	rf := RoleFunc{Role: Role(r.enum(roleNames, "role"))}
	if _, dup := t.Role(rf.Role); dup {
		r.errorf(1, "role %s repeated", rf.Role)
	}
	r.expect("@")
	rf.Func = r.name("func name")
	return rf
}

// enum reads an identifier that must be one of names and returns its index.
func (r *reader) enum(names []string, what string) int {
	t := r.next()
	i, ok := enumIndex(names, t.text)
	if t.kind != tIdent || !ok {
		if hint := suggest(t.text, names); t.kind == tIdent && hint != "" {
			r.errorf(t.col, "unknown %s %s%s", what, t.text, hint)
		}
		r.errorf(t.col, "got %v, want a %s (%s)", t, what, strings.Join(names, ", "))
	}
	return i
}

// boolTok reads true or false.
func (r *reader) boolTok() bool {
	bt := r.next()
	if bt.kind != tIdent || bt.text != "true" && bt.text != "false" {
		r.errorf(bt.col, "got %v, want true or false", bt)
	}
	return bt.text == "true"
}

// nodeSplit reads per_class K, fraction F or nodes [i, j, …].
func (r *reader) nodeSplit() *NodeSplit {
	s := &NodeSplit{}
	switch kt := r.next(); kt.text {
	case "per_class":
		s.PerClass = r.intTok(r.next(), "nodes per class")
	case "fraction":
		s.Fraction = r.floatTok(r.next(), "fraction")
	case "nodes":
		r.expect("[")
		s.Nodes = []int32{}
		for !r.isPunct("]") {
			if len(s.Nodes) > 0 {
				r.expect(",")
			}
			s.Nodes = append(s.Nodes, int32(r.intTok(r.next(), "node")))
		}
		r.next()
	default:
		r.errorf(kt.col, "got %v, want per_class, fraction or nodes", kt)
	}
	return s
}

// str reads a quoted string.
func (r *reader) str(what string) string {
	t := r.next()
	if t.kind != tString {
		r.errorf(t.col, "got %v, want %s (a quoted string)", t, what)
	}
	return t.text
}

// strList reads ["a", "b", …], each element a quoted string.
func (r *reader) strList(what string) []string {
	r.expect("[")
	out := []string{}
	for !r.isPunct("]") {
		if len(out) > 0 {
			r.expect(",")
		}
		out = append(out, r.str(what))
	}
	r.next()
	return out
}

// argKey reads "name =" of a key=value list, rejecting a key already present.
func (r *reader) argKey(present func(string) bool) string {
	kt := r.peek()
	k := r.name("argument name")
	if present(k) {
		r.errorf(kt.col, "argument %s repeated", k)
	}
	r.expect("=")
	return k
}

// data reads source(key="value", ...) and the position comment of its line.
func (r *reader) data() DataSpec {
	d := r.dataCall()
	r.expectEOL()
	d.Pos = r.pos()
	return d
}

// dataCall reads source(key="value", ...), whose arguments a, b, … may be sources
// themselves (a combination's parts, first and in order).
func (r *reader) dataCall() DataSpec {
	var d DataSpec
	d.Source = r.name("data source")
	r.expect("(")
	for !r.isPunct(")") {
		if len(d.Args)+len(d.Parts) > 0 {
			r.expect(",")
		}
		kt := r.peek()
		k := r.argKey(func(k string) bool { _, ok := d.Args[k]; return ok })
		if r.peek().kind == tIdent {
			if k != PartName(len(d.Parts)) || len(d.Args) > 0 {
				r.errorf(kt.col, "data source argument %s, want %s: the sources a combination joins come first, as a, b, …", k, PartName(len(d.Parts)))
			}
			d.Parts = append(d.Parts, r.dataCall())
			continue
		}
		if d.Args == nil {
			d.Args = map[string]string{}
		}
		d.Args[k] = r.str("data argument")
	}
	r.next()
	return d
}

// phase reads `"name" {` and the phase's lines up to its closing `}`; the "phase" keyword
// is already consumed.
func (r *reader) phase(t *TrainSpec) Phase {
	ph := Phase{Name: r.str("phase name")}
	if t.Phase(ph.Name) != nil {
		r.errorf(1, "phase %q repeated", ph.Name)
	}
	r.expect("{")
	r.expectEOL()
	start := r.ln + 1
	seen := map[string]int{}
	for {
		if !r.nextLine() {
			r.ln = len(r.lines) - 1
			r.errorf(1, "unexpected end of file in phase %q (line %d), want }", ph.Name, start)
		}
		kt := r.next()
		if kt.kind == tPunct && kt.text == "}" {
			r.expectEOL()
			return ph
		}
		if kt.kind != tIdent {
			r.errorf(kt.col, "got %v, want a phase field or }", kt)
		}
		if line, dup := seen[kt.text]; dup {
			r.errorf(kt.col, "phase field %s repeated (first on line %d)", kt.text, line)
		}
		seen[kt.text] = r.ln + 1
		switch kt.text {
		case "step":
			r.expect("@")
			ph.Step = r.name("func name")
		case "params":
			ph.Params = r.strList("parameter name")
		case "optimizer":
			ph.Optimizer.Name = r.name("optimizer name")
			r.expect("(")
			for !r.isPunct(")") {
				if len(ph.Optimizer.Args) > 0 {
					r.expect(",")
				}
				k := r.argKey(func(k string) bool { _, ok := ph.Optimizer.Args[k]; return ok })
				if ph.Optimizer.Args == nil {
					ph.Optimizer.Args = map[string]float64{}
				}
				ph.Optimizer.Args[k] = r.floatTok(r.next(), "optimizer argument")
			}
			r.next()
			r.expectEOL()
			ph.Optimizer.Pos = r.pos()
			continue
		case "repeat":
			ph.Repeat = r.intTok(r.next(), "repeat")
		case "schedule":
			sc := &Schedule{}
			sc.Name, sc.Args = r.numCall("schedule")
			if r.peek().kind == tIdent && r.peek().text == "per_step" {
				r.next()
				sc.PerStep = true
			}
			if r.peek().kind == tIdent && r.peek().text == "monitor" {
				r.next()
				sc.Monitor = r.monitor()
			} else {
				r.expectEOL()
			}
			sc.Pos = r.pos()
			ph.Schedule = sc
			continue
		case "clip":
			c := &Clip{Kind: r.name("clip kind")}
			c.Max = r.floatTok(r.next(), "clip max")
			r.expectEOL()
			c.Pos = r.pos()
			ph.Clip = c
			continue
		default:
			r.errorf(kt.col, "unknown phase field %s%s", kt.text, suggest(kt.text, []string{"step", "params", "optimizer", "repeat", "schedule", "clip"}))
		}
		r.expectEOL()
	}
}

// numCall reads name(key=number, …), as an optimiser or a schedule is written.
func (r *reader) numCall(what string) (string, map[string]float64) {
	name := r.name(what + " name")
	args := map[string]float64{}
	r.expect("(")
	for !r.isPunct(")") {
		if len(args) > 0 {
			r.expect(",")
		}
		k := r.argKey(func(k string) bool { _, ok := args[k]; return ok })
		args[k] = r.floatTok(r.next(), what+" argument")
	}
	r.next()
	return name, args
}

// monitor reads PATIENCE "METRIC" MIN_DELTA MODE and the end of its line.
func (r *reader) monitor() *Monitor {
	m := &Monitor{Patience: r.intTok(r.next(), "patience")}
	m.Metric = r.str("monitored metric")
	m.MinDelta = r.floatTok(r.next(), "min_delta")
	m.Mode = r.name("mode (min or max)")
	r.expectEOL()
	return m
}

// validation reads `fraction F` or `data SOURCE(…)`, with its line's end.
func (r *reader) validation() *Validation {
	v := &Validation{}
	switch kt := r.next(); kt.text {
	case "fraction":
		v.Fraction = r.floatTok(r.next(), "validation fraction")
		r.expectEOL()
		v.Pos = r.pos()
	case "data":
		d := r.data()
		v.Data, v.Pos = &d, d.Pos
	default:
		r.errorf(kt.col, "got %v, want fraction or data", kt)
	}
	return v
}
