package ir

import (
	"strings"
	"testing"
)

func init() { goldenModules["conv"] = convModule }

// convModule is a small convolutional autoencoder with every image op and the gradient of
// every parameter and of the input: conv2d, max_pool2d, upsample2d (both modes) and
// conv_transpose2d with and without output_pad, so that the gradients emit
// conv2d_weight_grad, max_pool2d_grad, upsample2d_grad and the slices that crop output_pad.
func convModule(t testing.TB) *Module {
	t.Helper()
	B := Sym("B")
	f := NewFunc("CAE.step")
	b := NewBuilder(f)
	b.Pos = Pos{File: "cae.dl", Line: 2, Col: 5}
	x := b.Input("x", F32(Shape{B, Const(1), Const(12), Const(12)}))
	w1 := b.Param("Enc.conv0.weight", F32(constShape(4, 1, 4, 4)), "he_uniform")
	b.Pos.Line = 3
	h := b.Op("conv2d", Attrs{"stride": 2, "pad": 1}, x, w1)             // [B, 4, 6, 6]
	h = b.Op("max_pool2d", Attrs{"kernel": 3, "stride": 3, "pad": 0}, h) // [B, 4, 2, 2]
	h = b.Op("upsample2d", Attrs{"scale": 3, "mode": "nearest"}, h)      // [B, 4, 6, 6]
	w2 := b.Param("Dec.deconv0.weight", F32(constShape(4, 2, 3, 3)), "he_uniform")
	b.Pos.Line = 4
	h = b.Op("conv_transpose2d", Attrs{"stride": 2, "pad": 1, "output_pad": 1}, h, w2) // [B, 2, 12, 12]
	h = b.Op("upsample2d", Attrs{"scale": 2, "mode": "bilinear"}, h)                   // [B, 2, 24, 24]
	w3 := b.Param("Dec.conv0.weight", F32(constShape(1, 2, 2, 2)), "he_uniform")
	b.Pos.Line = 5
	h = b.Op("conv2d", Attrs{"stride": 2, "pad": 0}, h, w3) // [B, 1, 12, 12]
	w4 := b.Param("Dec.deconv1.weight", F32(constShape(1, 1, 1, 1)), "ones")
	h = b.Op("conv_transpose2d", Attrs{"stride": 1, "pad": 0, "output_pad": 0}, h, w4)
	loss := b.Op("mean", nil, b.Op("square", nil, b.Op("sub", nil, h, x)))
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	wrt := append(f.Params(), x)
	b.Pos = Pos{File: "cae.dl", Line: 9, Col: 1}
	grads, err := Grad(f, loss, wrt)
	if err != nil {
		t.Fatal(err)
	}
	f.Outputs = append(f.Outputs, Output{Name: "loss", Value: loss})
	for i, p := range wrt[:len(wrt)-1] {
		f.Outputs = append(f.Outputs, Output{Name: "grad:" + p.Attrs.String("name"), Value: grads[i]})
	}
	f.Outputs = append(f.Outputs, Output{Name: "grad_x", Value: grads[len(grads)-1]})
	m := &Module{Funcs: []*Func{f}}
	if err := Verify(m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestConvOut(t *testing.T) {
	for _, tc := range []struct {
		n, k, s, p int
		want       int
		err        string
	}{
		{28, 4, 2, 1, 14, ""},
		{14, 4, 2, 1, 7, ""},
		{5, 5, 1, 0, 1, ""},
		{5, 3, 1, 1, 5, ""},
		{7, 4, 2, 1, 0, "(7 + 2·1 − 4)/2 + 1 = 3.5 is not a whole number: kernel 4, stride 2 and pad 1 do not tile 7"},
		{3, 5, 1, 0, 0, "kernel 5 does not fit in 3 + 2·0: the output is empty"},
		{5, 3, 0, 0, 0, "stride 0, want ≥ 1"},
		{5, 3, 1, -1, 0, "pad -1, want ≥ 0"},
		{5, 0, 1, 0, 0, "kernel 0, want ≥ 1"},
	} {
		got, err := ConvOut(tc.n, tc.k, tc.s, tc.p)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ConvOut(%d, %d, %d, %d): got error %v, want %q", tc.n, tc.k, tc.s, tc.p, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ConvOut(%d, %d, %d, %d) = %d, %v; want %d", tc.n, tc.k, tc.s, tc.p, got, err, tc.want)
		}
	}
}

// TestImageShapes runs the shape rules through the Builder, as the compiler does.
func TestImageShapes(t *testing.T) {
	B := Sym("B")
	img := func(c, h, w int) Shape { return Shape{B, Const(c), Const(h), Const(w)} }
	for _, tc := range []struct {
		kind  string
		attrs Attrs
		in    []Shape
		want  Shape
		err   string // a substring of the error
	}{
		{"conv2d", Attrs{"stride": 2, "pad": 1}, []Shape{img(1, 28, 28), constShape(64, 1, 4, 4)}, img(64, 14, 14), ""},
		{"conv2d", Attrs{"stride": 1, "pad": 0}, []Shape{img(3, 7, 5), constShape(2, 3, 3, 2)}, img(2, 5, 4), ""},
		{"conv2d", Attrs{"stride": 2, "pad": 1}, []Shape{img(1, 28, 27), constShape(64, 1, 4, 4)}, nil, "width: (27 + 2·1 − 4)/2 + 1 = 13.5 is not a whole number"},
		{"conv2d", Attrs{"stride": 2, "pad": 1}, []Shape{img(3, 28, 28), constShape(64, 1, 4, 4)}, nil, "input [B, 3, 28, 28] has 3 channels, weight [64, 1, 4, 4] wants 1"},
		{"conv2d", Attrs{"stride": 2, "pad": 1}, []Shape{{B, Const(784)}, constShape(64, 1, 4, 4)}, nil, "want [B, C, H, W]"},
		{"conv2d", Attrs{"stride": 2.0, "pad": 1}, []Shape{img(1, 28, 28), constShape(64, 1, 4, 4)}, nil, "attribute stride is 2, want an int"},
		{"conv2d", Attrs{"pad": 1}, []Shape{img(1, 28, 28), constShape(64, 1, 4, 4)}, nil, "missing attribute stride"},
		{"conv2d", Attrs{"stride": 1, "pad": 0}, []Shape{{B, Const(1), Sym("H"), Const(4)}, constShape(1, 1, 1, 1)}, nil, "symbolic dimension H"},
		{"conv2d", Attrs{"stride": 2, "pad": 1, "slack": 1}, []Shape{img(2, 10, 7), constShape(3, 2, 3, 2)}, img(3, 5, 4), ""},
		{"conv2d", Attrs{"stride": 2, "pad": 1, "slack": 2}, []Shape{img(2, 10, 7), constShape(3, 2, 3, 2)}, nil, "attribute slack is 2, want an int in [0, stride 2)"},
		{"conv_transpose2d", Attrs{"stride": 2, "pad": 1, "output_pad": 0}, []Shape{img(128, 7, 7), constShape(128, 64, 4, 4)}, img(64, 14, 14), ""},
		{"conv_transpose2d", Attrs{"stride": 2, "pad": 1, "output_pad": 1}, []Shape{img(2, 5, 4), constShape(2, 3, 3, 2)}, img(3, 10, 7), ""},
		{"conv_transpose2d", Attrs{"stride": 2, "pad": 1, "output_pad": 2}, []Shape{img(2, 5, 4), constShape(2, 3, 3, 3)}, nil, "output_pad 2, want 0 ≤ output_pad < stride 2"},
		{"conv_transpose2d", Attrs{"stride": 1, "pad": 2, "output_pad": 0}, []Shape{img(2, 1, 4), constShape(2, 3, 3, 3)}, nil, "height: (1 − 1)·1 − 2·2 + 3 = -1: the output is empty"},
		{"conv_transpose2d", Attrs{"stride": 2, "pad": 1, "output_pad": 0}, []Shape{img(4, 7, 7), constShape(128, 64, 4, 4)}, nil, "wants 128"},
		{"conv2d_weight_grad", Attrs{"stride": 2, "pad": 1, "kernel": []int{4, 4}}, []Shape{img(1, 28, 28), img(64, 14, 14)}, constShape(64, 1, 4, 4), ""},
		{"conv2d_weight_grad", Attrs{"stride": 2, "pad": 1, "kernel": []int{4, 4}}, []Shape{img(1, 28, 28), img(64, 13, 14)}, nil, "gives 14×14 outputs, gradient [B, 64, 13, 14] has 13×14"},
		{"conv2d_weight_grad", Attrs{"stride": 2, "pad": 1, "kernel": 4}, []Shape{img(1, 28, 28), img(64, 14, 14)}, nil, "want [kh, kw]"},
		{"max_pool2d", Attrs{"kernel": 2, "stride": 2, "pad": 0}, []Shape{img(8, 28, 28)}, img(8, 14, 14), ""},
		{"max_pool2d", Attrs{"kernel": 3, "stride": 2, "pad": 1}, []Shape{img(8, 7, 9)}, img(8, 4, 5), ""},
		{"max_pool2d", Attrs{"kernel": 2, "stride": 2, "pad": 0}, []Shape{img(8, 7, 7)}, nil, "height: (7 + 2·0 − 2)/2 + 1 = 3.5 is not a whole number"},
		{"max_pool2d", Attrs{"kernel": 2, "stride": 2, "pad": 2}, []Shape{img(8, 8, 8)}, nil, "pad 2, want at most half the kernel 2"},
		{"max_pool2d_grad", Attrs{"kernel": 2, "stride": 2, "pad": 0}, []Shape{img(8, 14, 14), img(8, 28, 28)}, img(8, 28, 28), ""},
		{"max_pool2d_grad", Attrs{"kernel": 2, "stride": 2, "pad": 0}, []Shape{img(8, 14, 13), img(8, 28, 28)}, nil, "got gradient [B, 8, 14, 13], want [B, 8, 14, 14]"},
		{"upsample2d", Attrs{"scale": 2, "mode": "bilinear"}, []Shape{img(3, 7, 5)}, img(3, 14, 10), ""},
		{"upsample2d", Attrs{"scale": 2, "mode": "bilinear"}, []Shape{{B, Const(3), Sym("H"), Const(5)}}, Shape{B, Const(3), Const(2).Mul(Sym("H")), Const(10)}, ""},
		{"upsample2d", Attrs{"scale": 2, "mode": "bicubic"}, []Shape{img(3, 7, 5)}, nil, `mode "bicubic", want "nearest" or "bilinear"`},
		{"upsample2d", Attrs{"scale": 0, "mode": "nearest"}, []Shape{img(3, 7, 5)}, nil, "scale 0, want an int ≥ 1"},
		{"upsample2d_grad", Attrs{"scale": 2, "mode": "nearest"}, []Shape{img(3, 14, 10)}, img(3, 7, 5), ""},
		{"upsample2d_grad", Attrs{"scale": 2, "mode": "nearest"}, []Shape{img(3, 14, 9)}, nil, "9 is not a multiple of the scale 2"},
	} {
		f := NewFunc("f")
		b := NewBuilder(f)
		var args []*Op
		for i, s := range tc.in {
			args = append(args, b.Input(string(rune('a'+i)), F32(s)))
		}
		o, err := b.Emit(tc.kind, tc.attrs, args...)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s%v %v: got error %v, want one containing %q", tc.kind, tc.in, tc.attrs, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%s%v %v: %v", tc.kind, tc.in, tc.attrs, err)
		case tc.err == "" && !o.Type.Shape.Equal(tc.want):
			t.Errorf("%s%v %v: got %v, want %v", tc.kind, tc.in, tc.attrs, o.Type.Shape, tc.want)
		}
	}
}
