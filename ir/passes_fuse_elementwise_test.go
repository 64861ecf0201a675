package ir

import (
	"strings"
	"testing"
)

// TestFuseElementwiseChains checks which chains fold and into what program.
func TestFuseElementwiseChains(t *testing.T) {
	B := Sym("B")
	full := F32(Shape{B, Const(6)})
	tests := []struct {
		name  string
		build func(b *Builder, z, x *Op) []Output
		// want is each fused op's code (and reduce) in order; kinds are the unfused kinds
		// left, counted.
		want  []string
		kinds map[string]int
	}{
		{"output gradient", func(b *Builder, z, x *Op) []Output {
			n := b.Op("div", nil, b.Const(1), b.Op("count", Attrs{"axes": []int{}}, z))
			return []Output{{"g", b.Op("mul", nil, n, b.Op("sub", nil, b.Op("sigmoid", nil, z), x))}}
		}, []string{"sigmoid(x1); sub(t0, x2); mul(x0, t1)"}, map[string]int{"div": 1, "sigmoid": 0, "sub": 0, "mul": 0}},
		{"loss head", func(b *Builder, z, x *Op) []Output {
			l := b.Op("bce_logits", nil, z, x)
			n := b.Op("count", Attrs{"axes": []int{}}, l) // the mean's gradient counts l
			return []Output{{"loss", b.Op("mean", nil, l)}, {"n", n}}
		}, []string{"bce_logits(x0, x1) reduce=mean"}, map[string]int{"bce_logits": 0, "mean": 0, "count": 1}},
		{"attributes and a shared operand", func(b *Builder, z, x *Op) []Output {
			y := b.Op("leaky_relu", Attrs{"alpha": 0.25}, b.Op("mul", nil, z, z))
			return []Output{{"y", b.Op("add", nil, y, z)}}
		}, []string{"mul(x0, x0); leaky_relu{alpha=0.25}(t0); add(t1, x0)"}, nil},
		{"a value with two users stays", func(b *Builder, z, x *Op) []Output {
			s := b.Op("sigmoid", nil, z)
			return []Output{{"a", b.Op("exp", nil, s)}, {"b", b.Op("log", nil, s)}}
		}, nil, map[string]int{"sigmoid": 1, "exp": 1, "log": 1}},
		{"a broadcast bias stays", func(b *Builder, z, x *Op) []Output {
			bias := b.Param("b", F32(Shape{Const(6)}), "zeros")
			return []Output{{"y", b.Op("relu", nil, b.Op("add", nil, z, bias))}}
		}, nil, map[string]int{"add": 1, "relu": 1}},
		{"scalars are not fused", func(b *Builder, z, x *Op) []Output {
			s := b.Op("sum", nil, z)
			return []Output{{"y", b.Op("exp", nil, b.Op("neg", nil, s))}}
		}, nil, map[string]int{"exp": 1, "neg": 1}},
		{"a reduction over some axes stays", func(b *Builder, z, x *Op) []Output {
			return []Output{{"y", b.Op("sum", Attrs{"axes": []int{1}}, b.Op("square", nil, z))}}
		}, nil, map[string]int{"sum": 1, "square": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFunc("f")
			b := NewBuilder(f)
			z, x := b.Input("z", full), b.Input("x", full)
			f.Outputs = tt.build(b, z, x)
			if b.Err != nil {
				t.Fatal(b.Err)
			}
			optimize(t, f)
			var got []string
			for _, o := range f.Ops {
				if o.Kind == "fused_elementwise" {
					s := o.Attrs.String("code")
					if r := o.Attrs.String("reduce"); r != "" {
						s += " reduce=" + r
					}
					got = append(got, s)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("fused:\n%s\nwant:\n%s\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"), f)
			}
			counts := kindCounts(f)
			for k, n := range tt.kinds {
				if counts[k] != n {
					t.Errorf("%d %s ops, want %d\n%s", counts[k], k, n, f)
				}
			}
		})
	}
}

// TestElemCodeErrors: a bad code attribute is an error naming the instruction, never a panic.
func TestElemCodeErrors(t *testing.T) {
	tests := []struct {
		code  string
		nargs int
		want  string
	}{
		{"", 1, `instruction 0 "": want KIND(ARGS)`},
		{"sigmoid(x0", 1, "want KIND(ARGS)"},
		{"matmul(x0, x1)", 2, `"matmul" is not a fusible elementwise op`},
		{"dense(x0)", 1, "not a fusible elementwise op"},
		{"sigmoid(x1)", 1, `operand "x1": want x0…x0 or an earlier t`},
		{"sigmoid(t0)", 1, `operand "t0": want x0…x0 or an earlier t`},
		{"sigmoid(y0)", 1, `operand "y0": want xI or tK`},
		{"sigmoid(x-1)", 1, "want xI or tK"},
		{"sub(x0)", 1, "sub takes 2 operands, got 1"},
		{"exp(x0)", 2, "operand x1 is not read"},
		{"leaky_relu(x0)", 1, "missing attribute alpha"},
		{"leaky_relu{alpha=big}(x0)", 1, "want a number"},
		{"leaky_relu{alpha}(x0)", 1, "want NAME=NUMBER"},
		{"leaky_relu{alpha=0.1(x0)", 1, "want {NAME=NUMBER"},
		{"exp{beta=1}(x0)", 1, "beta"},
	}
	for _, tt := range tests {
		_, err := ParseElemCode(tt.code, tt.nargs)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseElemCode(%q, %d): got %v, want an error containing %q", tt.code, tt.nargs, err, tt.want)
		}
	}
	// Shapes: operands of two shapes, and an unknown reduction.
	B := Sym("B")
	args := []Type{F32(Shape{B, Const(3)}), F32(Shape{B, Const(4)})}
	if _, err := elemShape(args, Attrs{"code": "add(x0, x1)"}); err == nil || !strings.Contains(err.Error(), "want one shape") {
		t.Errorf("two shapes: got %v", err)
	}
	if _, err := elemShape(args[:1], Attrs{"code": "exp(x0)", "reduce": "max"}); err == nil || !strings.Contains(err.Error(), `reduce "max"`) {
		t.Errorf("reduce max: got %v", err)
	}
}

// TestElemCodeRoundTrip: FormatElemCode and ParseElemCode are inverse.
func TestElemCodeRoundTrip(t *testing.T) {
	for _, code := range []string{
		"sigmoid(x1); sub(t0, x2); mul(x0, t1)",
		"mul(x0, x0); leaky_relu{alpha=0.25}(t0); add(t1, x0)",
		"bce_logits(x0, x1)",
	} {
		nargs := 0
		for i := 0; i < 10; i++ {
			if strings.Contains(code, "x"+string(rune('0'+i))) {
				nargs = i + 1
			}
		}
		prog, err := ParseElemCode(code, nargs)
		if err != nil {
			t.Fatalf("%q: %v", code, err)
		}
		if got := FormatElemCode(prog); got != code {
			t.Errorf("round trip: got %q, want %q", got, code)
		}
	}
}

// FuzzElemCode: any code attribute parses or fails with an error, never a panic, and what
// parses formats back to text that parses to the same program.
func FuzzElemCode(f *testing.F) {
	for _, s := range []string{"sigmoid(x1); sub(t0, x2); mul(x0, t1)", "leaky_relu{alpha=0.25}(x0)", "bce_logits(x0, x1)", "", ";", "exp(t0)", "add(x0,x0);neg(t0)"} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, code string, nargs int) {
		nargs %= 8
		prog, err := ParseElemCode(code, nargs)
		if err != nil {
			return
		}
		again, err := ParseElemCode(FormatElemCode(prog), nargs)
		if err != nil {
			t.Fatalf("%q formats to %q, which does not parse: %v", code, FormatElemCode(prog), err)
		}
		if FormatElemCode(again) != FormatElemCode(prog) {
			t.Fatalf("%q: format is not stable", code)
		}
		args := make([]Type, nargs)
		for i := range args {
			args[i] = F32(Shape{Const(2)})
		}
		elemShape(args, Attrs{"code": code}) // must not panic
	})
}
