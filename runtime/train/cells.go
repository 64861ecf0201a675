package train

import (
	"fmt"
	"math"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/report"
)

// Cells makes each sample of im a picture drawn from [lo, hi]: a [n, 3, H, W] batch in
// colour, a [n, C, H, W] one of other C with its channels stacked vertically in grey, a
// [n, H, W] one as it is, and a flat [n, F] one as the nearest square (ImageSize).
func (im Images) Cells(lo, hi float32) []report.Cell {
	s := im.T.Shape
	rows := im.Rows()
	c, h, w := 1, 0, 0
	switch {
	case len(s) == 4 && s[1] == 3:
		c, h, w = 3, s[2], s[3]
	case len(s) == 2:
		h, w = nearSquare(s[1])
	default:
		h, w = im.ImageSize()
	}
	out := make([]report.Cell, len(rows))
	for i, r := range rows {
		out[i] = report.Cell{Pix: r, C: c, H: h, W: w, Lo: lo, Hi: hi}
	}
	return out
}

// nearSquare is the rectangle h×w = n nearest a square with h ≤ w: 28×28 for 784, 4×5 for
// a code of 20 values.
func nearSquare(n int) (int, int) {
	h := 1
	for d := 1; d*d <= n; d++ {
		if n%d == 0 {
			h = d
		}
	}
	return h, n / max(h, 1)
}

// OutputRange is the range of the values function fn returns when its last op bounds them:
// a tanh's [-1, 1], a sigmoid's [0, 1]; ok is false for any other.
func (t *Trainer) OutputRange(fn string) (lo, hi float64, ok bool) {
	f := t.Module.Func(fn)
	if f == nil || len(f.Outputs) == 0 {
		return 0, 0, false
	}
	return opRange(f.Outputs[0].Value)
}

func opRange(o *ir.Op) (float64, float64, bool) {
	kind := o.Kind
	if act := o.Attrs.String("act"); act != "" {
		kind = act // a fused layer's activation: dense {act="tanh"}
	}
	switch kind {
	case "tanh":
		return -1, 1, true
	case "sigmoid":
		return 0, 1, true
	case "reshape":
		if len(o.Args) == 1 {
			return opRange(o.Args[0])
		}
	}
	return 0, 0, false
}

// FilterCells draws the trained parameter name as the filters it holds, one cell a unit:
// a dense layer's weight [in, out] as out images of its in inputs (the nearest square, 28×28
// for MNIST's 784), a convolution's [out, in, kh, kw] as out kernels (in colour when in is
// 3, else their input channels stacked). Each is drawn over [-m, m] for its own largest
// magnitude m, so 0 is mid-grey, positive weights light and negative dark. At most limit
// units are drawn.
func (t *Trainer) FilterCells(name string, limit int) ([]report.Cell, error) {
	w, ok := t.Vars[name]
	if !ok {
		return nil, fmt.Errorf("no parameter %s in this model (dlc params lists them)", name)
	}
	s := w.Shape
	var units [][]float32
	c, h, wd := 1, 0, 0
	switch len(s) {
	case 2:
		in, out := s[0], s[1]
		h, wd = nearSquare(in)
		for j := range min(out, limit) {
			u := make([]float32, in)
			for i := range in {
				u[i] = w.Data[i*out+j]
			}
			units = append(units, u)
		}
	case 4:
		out, in, kh, kw := s[0], s[1], s[2], s[3]
		if in == 3 {
			c, h, wd = 3, kh, kw
		} else {
			h, wd = in*kh, kw
		}
		for j := range min(out, limit) {
			units = append(units, w.Data[j*in*kh*kw:(j+1)*in*kh*kw])
		}
	default:
		return nil, fmt.Errorf("parameter %s has shape %v, want a dense layer's weight [in, out] or a convolution's [out, in, kh, kw]", name, s)
	}
	cells := make([]report.Cell, len(units))
	for i, u := range units {
		m := float32(0)
		for _, v := range u {
			m = max(m, float32(math.Abs(float64(v))))
		}
		if !(m > 0) || math.IsInf(float64(m), 0) {
			m = 1
		}
		cells[i] = report.Cell{Pix: u, C: c, H: h, W: wd, Lo: -m, Hi: m}
	}
	return cells, nil
}

// SampleSheet lays out samples as a grid over the range r (nil: the sample function's
// tanh's or sigmoid's, else the data's). A conditional generator's samples, asked for
// their classes in turn (--label, or every class), are a column per class, labelled.
func (tr *Trainer) SampleSheet(imgs Images, labels []int, fromFiles bool, r []float64) report.Sheet {
	lo, hi := tr.DataRange()
	fn, _ := tr.Spec.Role(ir.RoleSample)
	if l, h, ok := tr.OutputRange(fn); ok {
		lo, hi = l, h
	}
	if r != nil {
		lo, hi = r[0], r[1]
	}
	cells := imgs.Cells(float32(lo), float32(hi))
	cols, classes := 8, []int(nil)
	if f := tr.Module.Func(fn); f != nil && len(f.Inputs) == 2 && !fromFiles {
		classes = labels
		if classes == nil && f.Inputs[1].Type.Shape[1].IsConst() {
			for c := range f.Inputs[1].Type.Shape[1].Coef {
				classes = append(classes, c)
			}
		}
	}
	s := report.Sheet{Title: fmt.Sprintf("%d samples of %s", len(cells), fn)}
	switch {
	case len(classes) == 1:
		s.Title += fmt.Sprintf(", class %d", classes[0])
		classes = nil
	case len(classes) > 1 && len(classes) <= 16:
		cols = len(classes)
	default:
		classes = nil
	}
	for _, c := range classes {
		s.ColLabels = append(s.ColLabels, fmt.Sprint(c))
	}
	for b := 0; b < len(cells); b += cols {
		s.Rows = append(s.Rows, cells[b:min(b+cols, len(cells))])
	}
	return s
}
