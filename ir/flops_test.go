package ir

import (
	"strings"
	"testing"
)

// TestFlops counts a conv layer and a dense one by hand: conv2d of [B, 3, 8, 8] with
// 4 filters of 3×3 at stride 1, pad 1 is 2·B·4·8·8·3·9 FLOPs; its gradients (the
// transposed convolution and the weight gradient) have the same terms; matmul 2·m·n·k.
func TestFlops(t *testing.T) {
	B := Sym("B")
	f := NewFunc("step")
	b := NewBuilder(f)
	x := b.Input("x", F32(Shape{B, Const(3), Const(8), Const(8)}))
	w := b.Param("w", F32(constShape(4, 3, 3, 3)), "he_uniform")
	y := b.Op("conv2d", Attrs{"stride": 1, "pad": 1}, x, w)
	dx := b.Op("conv_transpose2d", Attrs{"stride": 1, "pad": 1, "output_pad": 0}, y, w)
	dw := b.Op("conv2d_weight_grad", Attrs{"stride": 1, "pad": 1, "kernel": []int{3, 3}}, x, y)
	h := b.Op("reshape", Attrs{"shape": Shape{B, Const(192)}}, x)
	m := b.Param("m", F32(constShape(192, 10)), "he_uniform")
	z := b.Op("matmul", nil, h, m)
	s := b.Op("sum", nil, b.Op("relu", nil, z))
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	_, _ = dx, dw
	_ = s
	conv := 2.0 * 5 * 4 * 64 * 3 * 9
	cases := []struct {
		op   *Op
		want Flops
	}{
		{y, Flops{Products: conv}},
		{dx, Flops{Products: conv}},
		{dw, Flops{Products: conv}},
		{h, Flops{}},
		{z, Flops{Products: 2 * 5 * 192 * 10}},
		{s.Args[0], Flops{Other: 5 * 10}},
		{s, Flops{Other: 5 * 10}},
	}
	env := map[string]int{"B": 5}
	for _, c := range cases {
		got, err := OpFlops(c.op, env)
		if err != nil {
			t.Fatalf("%s: %v", c.op.Kind, err)
		}
		if got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.op.Kind, got, c.want)
		}
	}
	sum, err := FuncFlops(f, env)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3*conv + 2*5*192*10; sum.Products != want {
		t.Errorf("FuncFlops products %g, want %g", sum.Products, want)
	}
	if _, err := FuncFlops(f, nil); err == nil || !strings.Contains(err.Error(), "B") {
		t.Errorf("unbound B: got error %v, want one naming B", err)
	}
}
