package report

import (
	"image/color"
	"io"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// palette holds ten colours told apart at a glance (Tableau's, as matplotlib's tab10), so
// that MNIST's ten digits each get their own; more classes repeat them.
var palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
	{0xd6, 0x27, 0x28, 0xff}, {0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff},
	{0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff}, {0xbc, 0xbd, 0x22, 0xff},
	{0x17, 0xbe, 0xcf, 0xff},
}

// Scatter writes a PNG scatter plot of n points, xy holding x and y of each in turn,
// coloured by labels[i] with a legend of the labels present; nil labels draw every point
// in one colour without a legend. Non-finite points are an error: a map with holes would
// mislead.
func Scatter(path, title string, xy []float64, labels []int, xLabel, yLabel string) error {
	n := len(xy) / 2
	switch {
	case n == 0 || len(xy)%2 != 0:
		return errorf(path, "%d coordinates, want x and y of at least one point", len(xy))
	case labels != nil && len(labels) != n:
		return errorf(path, "%d points but %d labels, want one each", n, len(labels))
	}
	for i, v := range xy {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errorf(path, "point %d has coordinate %v, want finite ones", i/2, v)
		}
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	groups := map[int]plotter.XYs{}
	for i := 0; i < n; i++ {
		k := 0
		if labels != nil {
			k = labels[i]
		}
		groups[k] = append(groups[k], plotter.XY{X: xy[2*i], Y: xy[2*i+1]})
	}
	keys := make([]int, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// A small dot per point: 5,000 of them must not merge into a blot.
	radius := vg.Points(math.Max(0.8, math.Min(3, 120/math.Sqrt(float64(n)))))
	for _, k := range keys {
		s, err := plotter.NewScatter(groups[k])
		if err != nil {
			return errorf(path, "label %d: %v", k, err)
		}
		s.GlyphStyle = draw.GlyphStyle{Color: palette[((k%len(palette))+len(palette))%len(palette)], Radius: radius, Shape: draw.CircleGlyph{}}
		p.Add(s)
		if labels != nil {
			// The legend's glyph is drawn larger than the points, to read its colour.
			entry := &plotter.Scatter{GlyphStyle: s.GlyphStyle}
			entry.GlyphStyle.Radius = vg.Points(4)
			p.Legend.Add(strconv.Itoa(k), entry)
		}
	}
	if labels != nil {
		// The legend goes in a margin on the right, clear of the points.
		p.Legend.Top = true
		p.Legend.XOffs = vg.Points(-4)
		p.X.Max += (p.X.Max - p.X.Min) * 0.12
	}
	w, err := p.WriterTo(7*vg.Inch, 6*vg.Inch, "png")
	if err != nil {
		return errorf(path, "%v", err)
	}
	return writeAtomic(path, func(out io.Writer) error {
		_, err := w.WriteTo(out)
		return err
	})
}
