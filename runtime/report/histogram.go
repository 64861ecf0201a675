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

// ScoreGroup is one group of samples' scores in a histogram, e.g. the normal ones.
type ScoreGroup struct {
	Name   string
	Scores []float64
}

// histogramBins is the number of bins a score histogram shares among its groups.
const histogramBins = 60

// ScoreHistogram writes a PNG of the distribution of each group's scores on shared bins,
// each bar the share of its group's samples in the bin (so that a small group shows beside
// a large one), overlaid in translucent colours, with a dashed vertical line at threshold
// (NaN draws none). Scores above the groups' 99.9th percentile are counted in the last
// bin, so that a few huge scores do not squeeze the rest into one bar.
func ScoreHistogram(path, title, xLabel string, groups []ScoreGroup, threshold float64) error {
	var all []float64
	for _, g := range groups {
		for _, v := range g.Scores {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return errorf(path, "group %q has score %v, want finite scores", g.Name, v)
			}
		}
		all = append(all, g.Scores...)
	}
	if len(all) == 0 {
		return errorf(path, "no scores to draw")
	}
	slices.Sort(all)
	lo, hi := all[0], all[(len(all)-1)*999/1000]
	if !math.IsNaN(threshold) {
		lo, hi = math.Min(lo, threshold), math.Max(hi, threshold)
	}
	if hi <= lo {
		hi = lo + math.Max(math.Abs(lo)*0.1, 1e-9)
	}
	width := (hi - lo) / histogramBins
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = "share of the group"
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	top := 0.0
	for gi, g := range groups {
		if len(g.Scores) == 0 {
			continue
		}
		bins := make([]plotter.HistogramBin, histogramBins)
		for b := range bins {
			bins[b].Min, bins[b].Max = lo+float64(b)*width, lo+float64(b+1)*width
		}
		for _, v := range g.Scores {
			b := min(max(int((v-lo)/width), 0), histogramBins-1)
			bins[b].Weight += 1 / float64(len(g.Scores))
		}
		for _, b := range bins {
			top = math.Max(top, b.Weight)
		}
		c := palette[gi%len(palette)]
		h := &plotter.Histogram{Bins: bins, Width: width, FillColor: color.NRGBA{c.R, c.G, c.B, 0x80}}
		h.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(0.5)}
		p.Add(h)
		p.Legend.Add(g.Name+" ("+strconv.Itoa(len(g.Scores))+")", h)
	}
	if !math.IsNaN(threshold) {
		l, err := plotter.NewLine(plotter.XYs{{X: threshold, Y: 0}, {X: threshold, Y: top * 1.05}})
		if err != nil {
			return errorf(path, "threshold: %v", err)
		}
		l.LineStyle = draw.LineStyle{Color: color.Black, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}
		p.Add(l)
		p.Legend.Add("threshold "+strconv.FormatFloat(threshold, 'g', 4, 64), l)
	}
	p.X.Min, p.X.Max = lo, hi
	p.Y.Min = 0
	w, err := p.WriterTo(8*vg.Inch, 5*vg.Inch, "png")
	if err != nil {
		return errorf(path, "%v", err)
	}
	return writeAtomic(path, func(out io.Writer) error {
		_, err := w.WriteTo(out)
		return err
	})
}
