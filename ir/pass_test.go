package ir

import (
	"fmt"
	"strings"
	"testing"
)

// checkFunc is the verifier the pass tests run after every pass.
var checkFunc = Verify

func kindCounts(f *Func) map[string]int {
	n := map[string]int{}
	for _, o := range f.Ops {
		n[o.Kind]++
	}
	return n
}

func optimize(t *testing.T, f *Func, passes ...Pass) {
	t.Helper()
	m := &Module{Funcs: []*Func{f}}
	if err := checkFunc(m); err != nil {
		t.Fatalf("before passes: %v\n%s", err, f)
	}
	if len(passes) == 0 {
		passes = DefaultPasses()
	}
	if err := OptimizeVerified(m, passes, checkFunc); err != nil {
		t.Fatalf("%v\n%s", err, f)
	}
	// The fused ops and rewritten attributes must survive the text form.
	text := m.String()
	m2, err := Parse("opt.ir", []byte(text))
	if err != nil {
		t.Fatalf("optimised module does not re-parse: %v\n%s", err, text)
	}
	if text2 := m2.String(); text2 != text {
		t.Errorf("optimised module re-prints differently:\n%s\nvs\n%s", text, text2)
	}
}

var dce = Pass{Name: "dce", Run: DeadCode}

func TestDeadCode(t *testing.T) {
	f := NewFunc("f")
	b := NewBuilder(f)
	x := b.Input("x", F32(Shape{Sym("B"), Const(4)}))
	unusedIn := b.Input("u", F32(Shape{Const(3)}))
	w := b.Param("w", F32(Shape{Const(4), Const(2)}), "zeros")
	b.Param("dead_w", F32(Shape{Const(4), Const(2)}), "zeros")
	y := b.Op("matmul", nil, x, w)
	b.Op("relu", nil, y)                  // dead
	b.Op("exp", nil, b.Op("neg", nil, x)) // dead chain
	f.Outputs = []Output{{Name: "y", Value: y}}
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	optimize(t, f, dce)
	var got []string
	for _, o := range f.Ops {
		got = append(got, o.Kind+":"+o.Ref())
	}
	want := []string{"input:x", "input:u", fmt.Sprint("param:", w.Ref()), fmt.Sprint("matmul:", y.Ref())}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("after dce: got %v, want %v", got, want)
	}
	if len(f.Inputs) != 2 || f.Inputs[1] != unusedIn {
		t.Errorf("dce changed the signature: %v", f.Inputs)
	}
}

func TestCSE(t *testing.T) {
	f := NewFunc("f")
	b := NewBuilder(f)
	x := b.Input("x", F32(Shape{Sym("B"), Const(4)}))
	x2 := b.Input("x2", F32(Shape{Sym("B"), Const(4)}))
	// Two means of x differentiated separately emit two count ops and two constants.
	n1 := b.Op("count", Attrs{"axes": []int{0}}, x)
	n2 := b.Op("count", Attrs{"axes": []int{0}}, x)
	n3 := b.Op("count", Attrs{"axes": []int{1}}, x) // different axes: kept
	c1, c2 := b.Const(2), b.Const(2)
	a := b.Op("mul", nil, b.Op("div", nil, x, n1), c1)
	a2 := b.Op("mul", nil, b.Op("div", nil, x, n2), c2) // same as a once n2 = n1, c2 = c1
	e := b.Op("exp", nil, x)
	e2 := b.Op("exp", nil, x2) // different input: kept
	m1 := b.Op("matmul", nil, x, b.Op("transpose", Attrs{"perm": []int{1, 0}}, x))
	m2 := b.Op("matmul", Attrs{"tb": false}, x, b.Op("transpose", Attrs{"perm": []int{1, 0}}, x)) // tb=false is no tb
	m3 := b.Op("matmul", Attrs{"tb": true}, x, x)                                                 // not the same op
	f.Outputs = []Output{{"a", a}, {"a2", a2}, {"n3", n3}, {"e", e}, {"e2", e2}, {"m1", m1}, {"m2", m2}, {"m3", m3}}
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	optimize(t, f, RewritePass("cse", SimplifyRules[:1]), dce)
	if f.Output("a") != f.Output("a2") {
		t.Errorf("a and a2 not merged:\n%s", f)
	}
	if f.Output("m1") != f.Output("m2") || f.Output("m1") == f.Output("m3") {
		t.Errorf("matmuls merged wrongly:\n%s", f)
	}
	if f.Output("e") == f.Output("e2") {
		t.Errorf("exp of different inputs merged:\n%s", f)
	}
	got := kindCounts(f)
	want := map[string]int{"input": 2, "count": 2, "const": 1, "div": 1, "mul": 1, "exp": 2, "transpose": 1, "matmul": 2}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%d %s ops, want %d:\n%s", got[k], k, n, f)
		}
	}
}

func TestSimplify(t *testing.T) {
	xt := F32(Shape{Sym("B"), Const(6)})
	tests := []struct {
		name  string
		build func(b *Builder, x, y *Op) *Op
		want  func(x, y *Op) *Op // the op the output should end up as; nil to check kinds
		kinds map[string]int
	}{
		{"mul-one", func(b *Builder, x, y *Op) *Op { return b.Op("mul", nil, b.Const(1), b.Op("mul", nil, x, b.Const(1))) },
			func(x, y *Op) *Op { return x }, nil},
		{"add-zero", func(b *Builder, x, y *Op) *Op { return b.Op("add", nil, b.Const(0), b.Op("sub", nil, x, b.Const(0))) },
			func(x, y *Op) *Op { return x }, nil},
		{"zero-minus-x-stays", func(b *Builder, x, y *Op) *Op { return b.Op("sub", nil, b.Const(0), x) },
			nil, map[string]int{"sub": 1}},
		{"div-one", func(b *Builder, x, y *Op) *Op { return b.Op("div", nil, x, b.Const(1)) },
			func(x, y *Op) *Op { return x }, nil},
		{"mul-two-stays", func(b *Builder, x, y *Op) *Op { return b.Op("mul", nil, x, b.Const(2)) },
			nil, map[string]int{"mul": 1, "const": 1}},
		{"neg-neg", func(b *Builder, x, y *Op) *Op {
			return b.Op("neg", nil, b.Op("neg", nil, b.Op("neg", nil, b.Op("neg", nil, x))))
		},
			func(x, y *Op) *Op { return x }, nil},
		{"neg-neg-neg", func(b *Builder, x, y *Op) *Op { return b.Op("neg", nil, b.Op("neg", nil, b.Op("neg", nil, x))) },
			nil, map[string]int{"neg": 1}},
		{"reshape-same", func(b *Builder, x, y *Op) *Op { return b.Op("reshape", Attrs{"shape": x.Type.Shape}, x) },
			func(x, y *Op) *Op { return x }, nil},
		{"reshape-reshape", func(b *Builder, x, y *Op) *Op {
			r := b.Op("reshape", Attrs{"shape": Shape{Sym("B"), Const(2), Const(3)}}, x)
			return b.Op("reshape", Attrs{"shape": Shape{Sym("B"), Const(3), Const(2)}}, r)
		}, nil, map[string]int{"reshape": 1}},
		{"reshape-there-and-back", func(b *Builder, x, y *Op) *Op {
			r := b.Op("reshape", Attrs{"shape": Shape{Sym("B"), Const(2), Const(3)}}, x)
			return b.Op("reshape", Attrs{"shape": x.Type.Shape}, r)
		}, func(x, y *Op) *Op { return x }, nil},
		{"broadcast-scalar", func(b *Builder, x, y *Op) *Op {
			n := b.Op("count", nil, x)
			g := b.Op("div", nil, b.Op("broadcast_like", Attrs{"axes": []int{}, "keepdims": false}, b.Const(1), x), n)
			return b.Op("mul", nil, g, b.Op("sub", nil, x, y))
		}, nil, map[string]int{"broadcast_like": 0, "div": 1, "mul": 1}},
		{"broadcast-scalar-stays", func(b *Builder, x, y *Op) *Op {
			s := b.Op("sum", Attrs{"axes": []int{1}}, x) // [B]: its broadcast is not NumPy's
			return b.Op("mul", nil, b.Op("broadcast_like", Attrs{"axes": []int{1}}, s, x), y)
		}, nil, map[string]int{"broadcast_like": 1}},
		{"bce-sigmoid", func(b *Builder, x, y *Op) *Op {
			return b.Op("mean", nil, b.Op("bce", nil, b.Op("sigmoid", nil, x), y))
		}, nil, map[string]int{"bce_logits": 1, "bce": 0, "sigmoid": 0}},
		{"bce-sigmoid-also-output", func(b *Builder, x, y *Op) *Op {
			p := b.Op("sigmoid", nil, x)
			return b.Op("add", nil, b.Op("mean", nil, b.Op("bce", nil, p, y)), b.Op("mean", nil, p))
		}, nil, map[string]int{"bce_logits": 0, "bce": 1, "sigmoid": 1}},
		{"bce-sigmoid-training", func(b *Builder, x, y *Op) *Op {
			w := b.Param("w", F32(Shape{Const(6), Const(6)}), "zeros")
			loss := b.Op("mean", nil, b.Op("bce", nil, b.Op("sigmoid", nil, b.Op("matmul", nil, x, w)), y))
			g, err := Grad(b.F, loss, []*Op{w})
			if err != nil {
				b.Err = err
			}
			b.F.Outputs = append(b.F.Outputs, Output{"grad", g[0]})
			return loss
		}, nil, map[string]int{"bce_logits": 0, "bce": 1, "sigmoid": 1, "sigmoid_grad": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFunc(tt.name)
			b := NewBuilder(f)
			x, y := b.Input("x", xt), b.Input("y", xt)
			out := tt.build(b, x, y)
			if b.Err != nil {
				t.Fatal(b.Err)
			}
			f.Outputs = append([]Output{{"out", out}}, f.Outputs...)
			optimize(t, f, RewritePass("simplify", SimplifyRules), dce)
			if tt.want != nil && f.Output("out") != tt.want(x, y) {
				t.Errorf("out = %s, want %s:\n%s", f.Output("out").Kind, tt.want(x, y).Ref(), f)
			}
			got := kindCounts(f)
			for k, n := range tt.kinds {
				if got[k] != n {
					t.Errorf("%d %s ops, want %d:\n%s", got[k], k, n, f)
				}
			}
		})
	}
}

// TestRewriteSettles checks that the driver reports rules that undo each other instead of
// looping.
func TestRewriteSettles(t *testing.T) {
	f := NewFunc("f")
	b := NewBuilder(f)
	x := b.Input("x", F32(Shape{Const(2)}))
	f.Outputs = []Output{{"y", b.Op("exp", nil, x)}}
	flip := []Rule{
		{Name: "exp-to-log", Kinds: []string{"exp"}, Rewrite: func(r *Rewriter, o *Op) *Op { return r.Op("log", nil, o.Args...) }},
		{Name: "log-to-exp", Kinds: []string{"log"}, Rewrite: func(r *Rewriter, o *Op) *Op { return r.Op("exp", nil, o.Args...) }},
	}
	_, err := RewritePass("flip", flip).Run(f)
	if err == nil || !strings.Contains(err.Error(), "did not settle") {
		t.Errorf("got %v, want a did-not-settle error", err)
	}
}

func TestRuleShapeErrorFailsPass(t *testing.T) {
	f := NewFunc("f")
	b := NewBuilder(f)
	x := b.Input("x", F32(Shape{Const(2), Const(3)}))
	f.Outputs = []Output{{"y", b.Op("exp", nil, x)}}
	bad := []Rule{{Name: "bad", Kinds: []string{"exp"}, Rewrite: func(r *Rewriter, o *Op) *Op {
		return r.Op("matmul", nil, o.Args[0], o.Args[0])
	}}}
	_, err := RewritePass("bad", bad).Run(f)
	if err == nil || !strings.Contains(err.Error(), "rule bad") {
		t.Errorf("got %v, want an error naming rule bad", err)
	}
}
