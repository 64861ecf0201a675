package ir

import (
	"fmt"
	"testing"
)

// mlpStep builds what the compiler emits for a training step of an MLP: dense layers
// add(matmul(h, W), b) with activations acts[i] ("none" for none), a loss, and one
// grad:NAME output per parameter from Grad. loss is "bce_logits" (the target is the input,
// as in an autoencoder, so the last width must equal the first) or "mse".
func mlpStep(t testing.TB, dims []int, acts []string, loss string) *Func {
	t.Helper()
	f := NewFunc("step")
	b := NewBuilder(f)
	B := Sym("B")
	x := b.Input("x", F32(Shape{B, Const(dims[0])}))
	h := x
	var params []*Op
	for i, act := range acts {
		w := b.Param(fmt.Sprintf("l%d.weight", i), F32(Shape{Const(dims[i]), Const(dims[i+1])}), "glorot_uniform")
		bias := b.Param(fmt.Sprintf("l%d.bias", i), F32(Shape{Const(dims[i+1])}), "zeros")
		params = append(params, w, bias)
		h = b.Op("add", nil, b.Op("matmul", nil, h, w), bias)
		switch act {
		case "none":
		case "leaky_relu":
			h = b.Op(act, Attrs{"alpha": 0.2}, h)
		default:
			h = b.Op(act, nil, h)
		}
	}
	var l *Op
	switch loss {
	case "bce_logits":
		l = b.Op("mean", nil, b.Op("bce_logits", nil, h, x))
	case "mse":
		l = b.Op("mean", nil, b.Op("square", nil, b.Op("sub", nil, h, x)))
	}
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	gs, err := Grad(f, l, params)
	if err != nil {
		t.Fatal(err)
	}
	f.Outputs = []Output{{"loss", l}}
	for i, p := range params {
		f.Outputs = append(f.Outputs, Output{"grad:" + p.Attrs.String("name"), gs[i]})
	}
	return f
}

func TestFuseMLPStep(t *testing.T) {
	tests := []struct {
		name string
		dims []int
		acts []string
		loss string
		want map[string]int
	}{
		// Two layers: both forwards fuse; the hidden layer's gradient arrives through the
		// output layer's matmul and fuses with relu_grad; what remains of matmul is dW.
		{"2-layer relu/bce", []int{8, 5, 8}, []string{"relu", "none"}, "bce_logits",
			map[string]int{"dense": 2, "matmul_act_grad": 1, "matmul": 2, "relu_grad": 0, "add": 0, "relu": 0, "sum_to": 2}},
		// The output layer's sigmoid_grad and the loss's scaling fold into one elementwise
		// program, the squared error and its mean into another.
		{"2-layer tanh/sigmoid mse", []int{8, 5, 8}, []string{"tanh", "sigmoid"}, "mse",
			map[string]int{"dense": 2, "matmul_act_grad": 1, "matmul": 2, "sigmoid_grad": 0, "tanh_grad": 0, "sum_to": 2, "fused_elementwise": 2}},
		{"autoencoder", []int{784, 256, 64, 256, 784}, []string{"relu", "relu", "relu", "none"}, "bce_logits",
			map[string]int{"dense": 4, "matmul_act_grad": 3, "matmul": 4, "relu_grad": 0, "sum_to": 4}},
		{"leaky", []int{6, 4, 3, 6}, []string{"leaky_relu", "sigmoid", "none"}, "mse",
			map[string]int{"dense": 3, "matmul_act_grad": 2, "matmul": 3, "leaky_relu_grad": 0, "sigmoid_grad": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mlpStep(t, tt.dims, tt.acts, tt.loss)
			optimize(t, f)
			got := kindCounts(f)
			for k, n := range tt.want {
				if got[k] != n {
					t.Errorf("%d %s ops, want %d", got[k], k, n)
				}
			}
			if t.Failed() {
				t.Logf("\n%s", f)
			}
		})
	}
}

// TestFuseKeepsSharedIntermediates checks that a pre-activation with another user is not
// swallowed by a fusion.
func TestFuseKeepsSharedIntermediates(t *testing.T) {
	f := NewFunc("f")
	b := NewBuilder(f)
	x := b.Input("x", F32(Shape{Sym("B"), Const(4)}))
	w := b.Param("w", F32(Shape{Const(4), Const(3)}), "zeros")
	bias := b.Param("b", F32(Shape{Const(1), Const(3)}), "zeros")
	z := b.Op("add", nil, bias, b.Op("matmul", nil, x, w)) // bias on the left, [1, N]
	y := b.Op("relu", nil, z)
	w2 := b.Param("w2", F32(Shape{Const(3), Const(4)}), "zeros")
	m := b.Op("matmul", Attrs{"tb": true}, x, w2) // an output as well
	g := b.Op("relu_grad", nil, m, y)
	f.Outputs = []Output{{"z", z}, {"y", y}, {"g", g}, {"m", m}}
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	optimize(t, f)
	got := kindCounts(f)
	// z is an output: it fuses into dense{none} and relu stays; m is an output: no
	// matmul_act_grad.
	want := map[string]int{"dense": 1, "relu": 1, "matmul": 1, "relu_grad": 1, "matmul_act_grad": 0, "add": 0}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%d %s ops, want %d:\n%s", got[k], k, n, f)
		}
	}
}

// TestDenseGradMatchesUnfused differentiates a graph that is already fused and checks that
// the gradient is built from the same ops autodiff emits for the unfused layer.
func TestDenseGradMatchesUnfused(t *testing.T) {
	for _, act := range []string{"none", "relu", "sigmoid", "tanh", "leaky_relu"} {
		for _, tr := range []Attrs{{}, {"ta": true}, {"tb": true}, {"ta": true, "tb": true}} {
			t.Run(fmt.Sprint(act, tr), func(t *testing.T) {
				f := NewFunc("f")
				b := NewBuilder(f)
				xs, ws := Shape{Const(5), Const(4)}, Shape{Const(4), Const(3)}
				if tr.Bool("ta") {
					xs = Shape{Const(4), Const(5)}
				}
				if tr.Bool("tb") {
					ws = Shape{Const(3), Const(4)}
				}
				x := b.Param("x", F32(xs), "zeros")
				w := b.Param("w", F32(ws), "zeros")
				bias := b.Param("b", F32(Shape{Const(3)}), "zeros")
				a := tr.Clone()
				a["act"] = act
				if act == "leaky_relu" {
					a["alpha"] = 0.1
				}
				d := b.Op("dense", a, x, w, bias)
				loss := b.Op("sum", nil, d)
				if b.Err != nil {
					t.Fatal(b.Err)
				}
				gs, err := Grad(f, loss, []*Op{x, w, bias})
				if err != nil {
					t.Fatal(err)
				}
				for i, g := range gs {
					want := []Shape{xs, ws, {Const(3)}}[i]
					if !g.Type.Shape.Equal(want) {
						t.Errorf("grad %d has shape %v, want %v", i, g.Type.Shape, want)
					}
				}
				f.Outputs = []Output{{"loss", loss}, {"gx", gs[0]}, {"gw", gs[1]}, {"gb", gs[2]}}
				if err := checkFunc(&Module{Funcs: []*Func{f}}); err != nil {
					t.Fatalf("%v\n%s", err, f)
				}
			})
		}
	}
}

func TestFusedShapeErrors(t *testing.T) {
	f := NewFunc("f")
	b := NewBuilder(f)
	x := b.Input("x", F32(Shape{Sym("B"), Const(4)}))
	w := b.Param("w", F32(Shape{Const(4), Const(3)}), "zeros")
	tests := []struct {
		kind  string
		attrs Attrs
		args  []*Op
		want  string
	}{
		{"dense", Attrs{"act": "relu"}, []*Op{x, w, b.Param("b", F32(Shape{Const(4)}), "zeros")}, "got bias [4], want [3] or [1, 3]"},
		{"dense", Attrs{"act": "gelu"}, []*Op{x, w, b.Param("b", F32(Shape{Const(3)}), "zeros")}, `unknown activation "gelu" (want none, relu, leaky_relu, sigmoid, tanh)`},
		{"dense", Attrs{"act": "leaky_relu"}, []*Op{x, w, b.Param("b", F32(Shape{Const(3)}), "zeros")}, "leaky_relu: missing attribute alpha"},
		{"matmul_act_grad", Attrs{"act": "relu"}, []*Op{x, w, x}, "got y [B, 4], want the product's shape [B, 3]"},
		{"matmul_act_grad", Attrs{"act": "relu", "tb": true}, []*Op{x, w, x}, "inner dimensions differ: 4 and 3"},
	}
	for _, tt := range tests {
		_, err := b.Emit(tt.kind, tt.attrs, tt.args...)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s%v: got error %v, want %q", tt.kind, tt.attrs, err, tt.want)
		}
	}
}
