package ir

import "testing"

// TestDrawsAreNeverMerged checks that CSE, which merges any two equal pure ops, keeps two
// draws with equal attributes apart, while merging two equal pure ops beside them.
func TestDrawsAreNeverMerged(t *testing.T) {
	f := NewFunc("f")
	b := NewBuilder(f)
	x := b.Input("x", F32(Shape{Sym("B"), Const(3)}))
	attrs := Attrs{"shape": Shape{Sym("B"), Const(3)}, "mean": 0.0, "std": 1.0, "stream": 7}
	d1 := b.Op("random_normal", attrs)
	d2 := b.Op("random_normal", attrs.Clone())
	e1, e2 := b.Op("exp", nil, x), b.Op("exp", nil, x)
	f.Outputs = []Output{{Name: "out", Value: b.Op("add", nil, b.Op("add", nil, d1, d2), b.Op("add", nil, e1, e2))}}
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	m := &Module{Funcs: []*Func{f}}
	// Simplification (CSE) alone: elementwise fusion would fold the exp into its user.
	if err := Optimize(m, RewritePass("simplify", SimplifyRules), Pass{Name: "dce", Run: DeadCode}); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, o := range f.Ops {
		count[o.Kind]++
	}
	if count["random_normal"] != 2 {
		t.Errorf("after optimisation: %d random_normal ops, want 2 (draws must not merge)", count["random_normal"])
	}
	if count["exp"] != 1 {
		t.Errorf("after optimisation: %d exp ops, want 1 (equal pure ops merge)", count["exp"])
	}
}
