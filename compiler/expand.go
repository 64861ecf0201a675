package compiler

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/lang"
)

// A family may be sugar for phases written in the language: its lowering writes the train
// block it stands for as source text, and expandPhases parses it and lowers it as the
// phases of a train block are lowered. Every node of the expansion takes the family block's
// position, so that an error in it points at the family the user wrote. `dlc compile`
// shows what the phases became (their step functions, parameters and optimisers).

// expandPhases parses src, the train block with phases that family f stands for.
func (p *Program) expandPhases(f *lang.Family, src string) (*lang.Train, error) {
	file, err := lang.Parse(f.Pos.Filename, []byte(src))
	if err != nil {
		return nil, lang.Errorf(f.Pos, "%s: the %s expansion does not parse (a compiler bug): %v", f.Name, f.Kind, err)
	}
	if len(file.Decls) != 1 || file.Decls[0].Train == nil {
		return nil, lang.Errorf(f.Pos, "%s: the %s expansion is not one train block (a compiler bug)", f.Name, f.Kind)
	}
	t := file.Decls[0].Train
	setPositions(reflect.ValueOf(t), f.Pos)
	if p.expansions == nil {
		p.expansions = map[string]string{}
	}
	p.expansions[f.Name] = src
	return t, nil
}

// Phases describes in the language how module m trains: for each phase, the networks it
// updates (the blocks its parameters belong to), its optimiser, its repeat count and its
// step function; for a family written as phases, the train block it expands to.
func (p *Program) Phases(m *ir.Module) string {
	if m.Train == nil {
		return "# nothing trains: the file has no train block\n"
	}
	var sb strings.Builder
	target := ""
	if len(p.trains) == 1 {
		target = p.trains[0].Target
	}
	fmt.Fprintf(&sb, "# %s trains in %d phase(s), run in this order over the batches:\n", target, len(m.Train.Phases))
	for _, ph := range m.Train.Phases {
		nets := networks(ph.Params)
		fmt.Fprintf(&sb, "phase %s {  # step function %s\n", ph.Name, ph.Step)
		fmt.Fprintf(&sb, "    updates   = [%s]  # %d tensors; every other network is frozen\n", strings.Join(nets, ", "), len(ph.Params))
		fmt.Fprintf(&sb, "    optimizer = %s\n    repeat    = %d\n}\n", ph.Optimizer.Source(), ph.Repeat)
	}
	if src, ok := p.expansions[target]; ok {
		fmt.Fprintf(&sb, "\n# %s %s is written as these phases:\n%s\n", p.families[target].Kind, target, src)
	}
	return sb.String()
}

// setPositions sets every Pos and EndPos field reachable from v to pos.
func setPositions(v reflect.Value, pos lang.Pos) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			setPositions(v.Elem(), pos)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			setPositions(v.Index(i), pos)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(pos) {
			v.Set(reflect.ValueOf(pos))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			setPositions(v.Field(i), pos)
		}
	}
}
