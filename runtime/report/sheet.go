package report

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// A Sheet is a picture of images in rows and columns, with labels: a title above, a label
// left of each row ("input", "output", "z3"), one above each column (a class, a value).
// Its cells need not be of one size, so a code of 20 values can sit above the 28×28 image
// it decodes to: a column is as wide as its widest cell and a row as high as its highest,
// each cell drawn at its own size in the top-left of its place. A cell of three channels is
// drawn in colour, any other in grey; each cell maps its own value range [Lo, Hi] to
// black..white, so that a row of tanh outputs in [-1, 1] is not clipped to the data's
// [0, 1]. The grids of grid.go are sheets without labels, cells of one size.
type Sheet struct {
	Title     string
	RowLabels []string // one per row, or none
	ColLabels []string // one per column, or none
	Rows      [][]Cell
	// GroupRows, when > 0, sets every GroupRows rows apart from the next by an extra gap:
	// the rows of one block of samples (an input, its reconstruction) read as one unit.
	GroupRows int
}

// Cell is one image of a Sheet: C channels of H×W values, channel-major ([C, H, W] as a
// tensor holds them), drawn from [Lo, Hi] to black..white; values outside are clamped and
// NaN is drawn black. A Cell with no Pix leaves its place empty.
type Cell struct {
	Pix     []float32
	C, H, W int
	Lo, Hi  float32
}

// The label font: Go's basic 7×13 bitmap face, in black on white margins.
var (
	labelFace   = basicfont.Face7x13
	labelHeight = 15 // a line of text with a pixel above and below
	labelBack   = color.Gray{Y: 255}
	labelInk    = color.Gray{Y: 0}
)

// WriteSheet draws s as a PNG at path, atomically.
func WriteSheet(path string, s Sheet) error {
	l, err := s.layout(path)
	if err != nil {
		return err
	}
	return writeAtomic(path, func(out io.Writer) error {
		return png.Encode(out, s.draw(l))
	})
}

// sheetLayout is where everything of a sheet goes, in pixels.
type sheetLayout struct {
	left, top int   // the label margins
	colX      []int // each column's left edge
	rowY      []int // each row's top edge
	colW      []int
	rowH      []int
	W, H      int
	gray      bool // every cell has one channel: the picture can be grey
}

func (s Sheet) layout(path string) (sheetLayout, error) {
	var l sheetLayout
	if len(s.Rows) == 0 {
		return l, errorf(path, "no images to draw")
	}
	if len(s.RowLabels) != 0 && len(s.RowLabels) != len(s.Rows) {
		return l, errorf(path, "%d row labels for %d rows", len(s.RowLabels), len(s.Rows))
	}
	cols := len(s.ColLabels)
	for _, r := range s.Rows {
		cols = max(cols, len(r))
	}
	l.colW, l.rowH, l.gray = make([]int, cols), make([]int, len(s.Rows)), true
	for i, r := range s.Rows {
		for j, c := range r {
			if c.Pix == nil {
				continue
			}
			switch {
			case float64(c.C)*float64(c.H)*float64(c.W) > maxGridPixels:
				return l, errorf(path, "image %d of row %d is %d×%d×%d, want at most %d values", j, i, c.C, c.H, c.W, maxGridPixels)
			case c.C <= 0 || c.H <= 0 || c.W <= 0:
				return l, errorf(path, "image %d of row %d is %d×%d×%d, want every dimension > 0", j, i, c.C, c.H, c.W)
			case len(c.Pix) != c.C*c.H*c.W:
				return l, errorf(path, "image %d of row %d has %d values, want %d×%d×%d = %d", j, i, len(c.Pix), c.C, c.H, c.W, c.C*c.H*c.W)
			case !(c.Lo < c.Hi) || math.IsInf(float64(c.Hi-c.Lo), 0):
				return l, errorf(path, "value range [%v, %v], want finite lo < hi", c.Lo, c.Hi)
			}
			l.gray = l.gray && c.C != 3
			l.colW[j] = max(l.colW[j], c.W*gridScale)
			l.rowH[i] = max(l.rowH[i], c.H*gridScale)
		}
	}
	for _, t := range s.RowLabels {
		l.left = max(l.left, textWidth(t)+2*gridGap)
	}
	if s.Title != "" {
		l.top += labelHeight
	}
	if len(s.ColLabels) > 0 {
		l.top += labelHeight
		for j, t := range s.ColLabels {
			l.colW[j] = max(l.colW[j], textWidth(t))
		}
	}
	x := l.left + gridGap
	for _, w := range l.colW {
		l.colX = append(l.colX, x)
		x += w + gridGap
	}
	y := l.top + gridGap
	for i, h := range l.rowH {
		if i > 0 && s.GroupRows > 0 && i%s.GroupRows == 0 {
			y += pairGap
		}
		l.rowY = append(l.rowY, y)
		y += h + gridGap
	}
	l.W, l.H = max(x, l.left+textWidth(s.Title)+gridGap), y
	if float64(l.W)*float64(l.H) > maxGridPixels {
		return l, errorf(path, "sheet of %d rows and %d columns would be %d×%d pixels, want at most %d", len(s.Rows), cols, l.W, l.H, maxGridPixels)
	}
	return l, nil
}

func (s Sheet) draw(l sheetLayout) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, l.W, l.H))
	draw.Draw(img, img.Bounds(), &image.Uniform{separator}, image.Point{}, draw.Src)
	if l.left > 0 {
		draw.Draw(img, image.Rect(0, 0, l.left, l.H), &image.Uniform{labelBack}, image.Point{}, draw.Src)
	}
	if l.top > 0 {
		draw.Draw(img, image.Rect(0, 0, l.W, l.top), &image.Uniform{labelBack}, image.Point{}, draw.Src)
	}
	if n := len(l.colX); n > 0 {
		// A title wider than the cells leaves a margin at the right, not a grey band.
		if end := l.colX[n-1] + l.colW[n-1] + gridGap; end < l.W {
			draw.Draw(img, image.Rect(end, 0, l.W, l.H), &image.Uniform{labelBack}, image.Point{}, draw.Src)
		}
	}
	if s.Title != "" {
		drawText(img, gridGap, 0, s.Title)
	}
	if len(s.ColLabels) > 0 {
		y := l.top - labelHeight
		for j, t := range s.ColLabels {
			drawText(img, l.colX[j]+(l.colW[j]-textWidth(t))/2, y, t)
		}
	}
	for i, r := range s.Rows {
		if i < len(s.RowLabels) {
			drawText(img, gridGap, l.rowY[i]+(l.rowH[i]-labelHeight)/2, s.RowLabels[i])
		}
		for j, c := range r {
			if c.Pix != nil {
				drawCell(img, l.colX[j], l.rowY[i], c)
			}
		}
	}
	if l.gray {
		// One channel throughout: written as a grey PNG, a third of the size.
		g := image.NewGray(img.Bounds())
		draw.Draw(g, g.Bounds(), img, image.Point{}, draw.Src)
		return g
	}
	return img
}

// drawCell draws c with its top-left pixel at (x0, y0), each value a gridScale square.
func drawCell(img *image.RGBA, x0, y0 int, c Cell) {
	g := grid{lo: c.Lo, hi: c.Hi}
	plane := c.H * c.W
	for r := 0; r < c.H*gridScale; r++ {
		for q := 0; q < c.W*gridScale; q++ {
			k := (r/gridScale)*c.W + q/gridScale
			var col color.RGBA
			if c.C == 3 {
				col = color.RGBA{g.gray(c.Pix[k]), g.gray(c.Pix[plane+k]), g.gray(c.Pix[2*plane+k]), 255}
			} else {
				v := g.gray(c.Pix[k])
				col = color.RGBA{v, v, v, 255}
			}
			img.SetRGBA(x0+q, y0+r, col)
		}
	}
}

func textWidth(s string) int { return font.MeasureString(labelFace, s).Ceil() }

// drawText writes s with its top-left at (x, y), within a line of labelHeight.
func drawText(img draw.Image, x, y int, s string) {
	d := font.Drawer{Dst: img, Src: &image.Uniform{labelInk}, Face: labelFace,
		Dot: fixed.P(x, y+1+labelFace.Ascent)}
	d.DrawString(s)
}

// GreyCells makes cells of one channel of h×w from rows of values, all drawn from [lo, hi].
func GreyCells(rows [][]float32, h, w int, lo, hi float32) []Cell {
	out := make([]Cell, len(rows))
	for i, r := range rows {
		out[i] = Cell{Pix: r, C: 1, H: h, W: w, Lo: lo, Hi: hi}
	}
	return out
}

// Blocks lays kinds of cells out as StackedGrid does: kinds[k][i] is the k-th picture of
// sample i, and each block of perRow samples is one row per kind, labelled with its name
// (names may be nil), the blocks set apart.
func Blocks(kinds [][]Cell, names []string, perRow int) Sheet {
	var s Sheet
	s.GroupRows = len(kinds)
	if len(kinds) == 0 || perRow <= 0 {
		return s
	}
	for b := 0; b < len(kinds[0]); b += perRow {
		for k, from := range kinds {
			row := make([]Cell, perRow)
			copy(row, from[min(b, len(from)):min(b+perRow, len(from))])
			s.Rows = append(s.Rows, row)
			if names != nil {
				s.RowLabels = append(s.RowLabels, names[k])
			}
		}
	}
	return s
}
