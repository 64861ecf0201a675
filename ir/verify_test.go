package ir

import (
	"strings"
	"testing"
)

// TestVerifyBroken breaks a valid module in one way per case and checks the verifier's
// message, which names the func, the op and its source position.
func TestVerifyBroken(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(m *Module)
		want   string
	}{
		{"valid", func(m *Module) {}, ""},
		{"operand from another func", func(m *Module) {
			m.Funcs[0].Ops[3].Args[0] = m.Funcs[1].Ops[0]
		}, "ae.dl:5:14: func AE.step: op %3 (matmul): operand %x is not an op of this func (it is in func AE.eval)"},
		{"use before definition", func(m *Module) {
			f := m.Funcs[0]
			f.Ops[3].Args[1] = f.Ops[5]
		}, "ae.dl:5:14: func AE.step: op %3 (matmul): operand %5 is used before its definition"},
		{"duplicate ID", func(m *Module) { m.Funcs[0].Ops[2].ID = 1 },
			"ae.dl:5:14: func AE.step: op %1 (param): duplicate ID 1"},
		{"duplicate name", func(m *Module) { m.Funcs[0].Ops[1].Name = "x" },
			"ae.dl:5:14: func AE.step: op %x (param): duplicate ref %x"},
		{"unknown kind", func(m *Module) { m.Funcs[0].Ops[5].Kind = "gelu" },
			`ae.dl:5:14: func AE.step: op %5 (gelu): unknown op kind "gelu"`},
		{"arity", func(m *Module) { o := m.Funcs[0].Ops[5]; o.Args = append(o.Args, o.Args[0]) },
			"ae.dl:5:14: func AE.step: op %5 (relu): got 2 operands, want 1"},
		{"missing attr", func(m *Module) { delete(m.Funcs[0].Ops[1].Attrs, "init") },
			"ae.dl:5:14: func AE.step: op %1 (param): missing attribute init"},
		{"bad attr type", func(m *Module) { m.Funcs[0].Ops[3].Attrs = Attrs{"ta": 1} },
			"ae.dl:5:14: func AE.step: op %3 (matmul): attribute ta is 1, want bool"},
		{"unsupported attr type", func(m *Module) { m.Funcs[0].Ops[3].Attrs = Attrs{"ta": int32(1)} },
			"ae.dl:5:14: func AE.step: op %3 (matmul): attribute ta has unsupported type int32"},
		{"stale type", func(m *Module) { m.Funcs[0].Ops[3].Type = F32(Shape{Sym("B"), Const(64)}) },
			"ae.dl:5:14: func AE.step: op %3 (matmul): recorded type f32[B,64], shape rule gives f32[B,256]"},
		{"bad dtype", func(m *Module) { m.Funcs[0].Ops[1].Type.DType = "f16" },
			"ae.dl:5:14: func AE.step: op %1 (param): type f16[784,256]: dtype f16, want f32 or i32"},
		{"i32 param", func(m *Module) { m.Funcs[0].Ops[1].Type.DType = DTypeI32 },
			"ae.dl:5:14: func AE.step: op %1 (param): type i32[784,256], want f32: only inputs may be i32"},
		{"i32 operand of an f32 op", func(m *Module) { m.Funcs[0].Ops[0].Type.DType = DTypeI32 },
			"ae.dl:5:14: func AE.step: op %3 (matmul): operand 0 is i32[B,784], want f32"},
		{"zero dim", func(m *Module) { m.Funcs[0].Ops[1].Type = F32(Shape{Const(0), Const(256)}) },
			"ae.dl:5:14: func AE.step: op %1 (param): type f32[0,256]: dimension 0 has coefficient 0, want positive"},
		{"shape rule fails", func(m *Module) { f := m.Funcs[0]; f.Ops[3].Args[1] = f.Ops[2] },
			"ae.dl:5:14: func AE.step: op %3 (matmul): got operands [B, 784] and [256], want rank 2"},
		{"input not listed", func(m *Module) { m.Funcs[0].Inputs = nil },
			"ae.dl:3:9: func AE.step: op %x (input): is not one of the func's inputs"},
		{"non-input listed", func(m *Module) { f := m.Funcs[0]; f.Inputs = append(f.Inputs, f.Ops[1]) },
			"ae.dl:5:14: func AE.step: op %1 (param): listed as an input, but is not an input op"},
		{"output elsewhere", func(m *Module) { m.Funcs[0].Outputs[0].Value = m.Funcs[1].Ops[4] },
			"func AE.step: output loss: %4 is not an op of this func (it is in func AE.eval)"},
		{"nil operand", func(m *Module) { m.Funcs[0].Ops[5].Args[0] = nil },
			"ae.dl:5:14: func AE.step: op %5 (relu): operand 0 is nil"},
		{"nil op", func(m *Module) { m.Funcs[0].Ops[5] = nil },
			"func AE.step: op at index 5 is nil"},
		{"duplicate func", func(m *Module) { m.Funcs[1].Name = "AE.step" },
			"func AE.step: duplicate func name"},
		{"param types differ", func(m *Module) {
			f := m.Funcs[1]
			f.Ops = append(f.Ops, &Op{ID: 100, Kind: "param", Type: F32(Shape{Const(3)}), Attrs: Attrs{"name": "Enc.dense0.bias", "init": "zeros"}})
		}, `func AE.eval: op %100 (param): param "Enc.dense0.bias" has type f32[3], but f32[256] in func AE.step`},
		{"missing step", func(m *Module) { m.Train.Phases[0].Step = "AE.train" },
			`train: phase "train": step func AE.train is not in the module`},
		{"phase repeat", func(m *Module) { m.Train.Phases[0].Repeat = 0 },
			`train: phase "train": repeat 0, want at least 1`},
		{"phase params", func(m *Module) { m.Train.Phases[0].Params = m.Train.Phases[0].Params[1:] },
			`train: phase "train": step func AE.step outputs grad:Enc.dense0.weight, which the phase does not list`},
		{"missing eval", func(m *Module) { m.Train.Eval = "nope" },
			"train: eval func nope is not in the module"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := autoencoderModule(t)
			tc.mutate(m)
			err := Verify(m)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestFuncVerify checks the per-func entry point, which cannot name the other func.
func TestFuncVerify(t *testing.T) {
	m := autoencoderModule(t)
	for _, f := range m.Funcs {
		if err := f.Verify(); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
	}
	m.Funcs[0].Ops[3].Args[0] = m.Funcs[1].Ops[0]
	err := m.Funcs[0].Verify()
	if err == nil || !strings.HasSuffix(err.Error(), "operand %x is not an op of this func") {
		t.Errorf("got %v, want operand %%x is not an op of this func", err)
	}
}

// TestVerifyKitchen verifies the module that uses every op kind, after a round trip too.
func TestVerifyKitchen(t *testing.T) {
	m := kitchenModule(t)
	m2, err := Parse("kitchen.ir", []byte(m.String()))
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(m2); err != nil {
		t.Fatal(err)
	}
}
