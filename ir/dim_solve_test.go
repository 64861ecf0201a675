package ir

import "testing"

func TestDimSolve(t *testing.T) {
	B, F := Sym("B"), Sym("F")
	for _, tc := range []struct {
		d      Dim
		sym    string
		target Dim
		want   Dim
		ok     bool
	}{
		{Const(2).Mul(F), "F", Const(12), Const(6), true},
		{Const(2).Mul(F), "F", Const(13), Dim{}, false},
		{B.Mul(F), "F", Const(6).Mul(B), Const(6), true},
		{Const(3).Mul(B), "B", Const(48), Const(16), true},
		{F.Mul(F), "F", Const(16), Dim{}, false}, // F occurs twice
		{Const(4), "F", Const(4), Dim{}, false},  // F does not occur
		{Const(2).Mul(F), "F", B, Dim{}, false},  // B is not a multiple of 2
		{Const(2).Mul(F), "F", Const(4).Mul(B), Const(2).Mul(B), true},
	} {
		got, ok := tc.d.Solve(tc.sym, tc.target)
		if ok != tc.ok || ok && !got.Equal(tc.want) {
			t.Errorf("%v = %v for %s: got %v, %v; want %v, %v", tc.d, tc.target, tc.sym, got, ok, tc.want, tc.ok)
		}
	}
	if got := Const(3).Mul(B).Mul(F).Subst(map[string]int{"F": 5}); !got.Equal(Const(15).Mul(B)) {
		t.Errorf("Subst: got %v, want 15*B", got)
	}
}
