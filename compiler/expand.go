package compiler

import (
	"reflect"

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
	return t, nil
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
