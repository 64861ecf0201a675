package report

import (
	"io"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// LossCurve writes a PNG line plot of loss against epoch, one line per
// series, named in the legend. series[name][i] is the loss after epoch
// first+i (first is 1 for a run from the start, later for a resumed one). NaN and infinite losses (a diverged epoch) are left out of the
// line rather than wrecking the y axis; a series with a single point is
// drawn as a marker. A series with no finite values is an error, since
// a legend entry with nothing behind it would mislead.
func LossCurve(path, title string, series map[string][]float64, first int) error {
	return EpochCurves(path, title, "loss", series, first)
}

// EpochCurves is LossCurve for any value per epoch, named ylabel on the y axis (a GAN's
// D(x) and D(G(z))).
func EpochCurves(path, title, ylabel string, series map[string][]float64, first int) error {
	if len(series) == 0 {
		return errorf(path, "no %s series to plot", ylabel)
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = true

	// Sorted names give every run the same colours and legend order.
	names := make([]string, 0, len(series))
	for name := range series {
		names = append(names, name)
	}
	slices.Sort(names)
	maxEpoch := 0
	for i, name := range names {
		var xys plotter.XYs
		for j, v := range series[name] {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				xys = append(xys, plotter.XY{X: float64(first + j), Y: v})
			}
		}
		if len(xys) == 0 {
			return errorf(path, "series %q has no finite values", name)
		}
		maxEpoch = max(maxEpoch, len(series[name]))
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return errorf(path, "series %q: %v", name, err)
		}
		line.Color = plotutil.Color(i)
		line.Dashes = plotutil.Dashes(i)
		points.Color = plotutil.Color(i)
		points.Shape = draw.CircleGlyph{}
		points.Radius = vg.Points(2)
		if len(xys) > 1 {
			p.Add(line)
		}
		p.Add(points)
		p.Legend.Add(name, line, points)
	}
	// Epochs are whole numbers; pad the axis so end points are not on
	// the frame, and so a single epoch still gets a visible range.
	p.X.Min, p.X.Max = float64(first)-0.5, float64(first+maxEpoch-1)+0.5
	p.X.Tick.Marker = epochTicks{}
	// Likewise keep the highest and lowest losses off the frame.
	pad := (p.Y.Max - p.Y.Min) * 0.05
	if pad == 0 {
		pad = math.Max(math.Abs(p.Y.Max)*0.1, 0.1)
	}
	p.Y.Min, p.Y.Max = p.Y.Min-pad, p.Y.Max+pad

	w, err := p.WriterTo(8*vg.Inch, 5*vg.Inch, "png")
	if err != nil {
		return errorf(path, "%v", err)
	}
	return writeAtomic(path, func(out io.Writer) error {
		_, err := w.WriteTo(out)
		return err
	})
}

// epochTicks labels whole epochs only, at a step of 1, 2, 5, 10, 20, ...
// chosen so a long run still gets about ten labels.
type epochTicks struct{}

func (epochTicks) Ticks(lo, hi float64) []plot.Tick {
	first, last := max(1, int(math.Ceil(lo))), int(math.Floor(hi))
	step, scale := 1, 1
	for i := 0; (last-first)/step >= 10; i++ {
		if i > 0 && i%3 == 0 {
			scale *= 10
		}
		step = []int{2, 5, 10}[i%3] * scale
	}
	var ticks []plot.Tick
	for e := first; e <= last; e++ {
		if e%step == 0 || step == 1 {
			ticks = append(ticks, plot.Tick{Value: float64(e), Label: strconv.Itoa(e)})
		}
	}
	return ticks
}
