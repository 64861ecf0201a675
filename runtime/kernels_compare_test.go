package runtime

import (
	"slices"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

func TestArgmaxEq(t *testing.T) {
	x := &Tensor{Shape: []int{2, 3}, Data: []float32{1, 5, 5, -1, -3, -2}}
	c := &Ctx{}
	cases := []struct {
		axis int
		want []float32
	}{
		{1, []float32{1, 0}},    // ties go to the first index
		{0, []float32{0, 0, 0}}, // per column
		{-1, []float32{1, 0}},   // negative axes count from the end
	}
	for _, tc := range cases {
		got, err := argmaxKernel(c, &ir.Op{Kind: "argmax", Attrs: ir.Attrs{"axis": tc.axis}}, []*Tensor{x})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Data, tc.want) {
			t.Errorf("argmax axis %d = %v, want %v", tc.axis, got.Data, tc.want)
		}
	}
	eq := kernels["eq"]
	got, err := eq(c, &ir.Op{Kind: "eq"}, []*Tensor{{Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}, {Shape: []int{2}, Data: []float32{1, 4}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{1, 0, 0, 1}; !slices.Equal(got.Data, want) {
		t.Errorf("eq = %v, want %v", got.Data, want)
	}
	if _, err := argmaxKernel(c, &ir.Op{Kind: "argmax", Attrs: ir.Attrs{"axis": 2}}, []*Tensor{x}); err == nil {
		t.Error("argmax over axis 2 of a rank-2 tensor: no error")
	}
}
