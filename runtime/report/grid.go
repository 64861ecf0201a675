package report

import (
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
)

const (
	// gridScale enlarges each pixel to a gridScale×gridScale block, since
	// a 28×28 digit is a speck at 1:1 on a modern screen.
	gridScale = 2
	// gridGap is the separator width in output pixels, border included.
	gridGap = 2
	// pairGap is extra separator between the blocks of rows of StackedGrid,
	// so each original/reconstruction pair (or triple) reads as one unit.
	pairGap = 4
	// maxGridPixels refuses absurd grids before allocating them.
	maxGridPixels = 1 << 28
)

// separator is the gray of separators and of empty cells: distinct from
// both black background and white ink in MNIST-like images.
var separator = color.Gray{Y: 128}

// ImageGrid writes a grayscale PNG of images laid out cols to a row, left
// to right then top to bottom. Each image is h×w values in row-major order,
// mapped linearly from [lo, hi] to black..white; values outside are
// clamped and NaN is drawn black. A nil image leaves its cell empty.
//
// To show images beside their reconstructions, interleave them: with
// cols = 2 each row is one original and its reconstruction; or pass a row
// of originals followed by a row of their reconstructions, as PairGrid does.
func ImageGrid(path string, images [][]float32, h, w, cols int, lo, hi float32) error {
	g := grid{h: h, w: w, cols: cols, lo: lo, hi: hi}
	if err := g.check(path, images); err != nil {
		return err
	}
	return writeAtomic(path, func(out io.Writer) error {
		return png.Encode(out, g.draw(images))
	})
}

// PairGrid writes a grayscale PNG with each original directly above its
// reconstruction, perRow pairs across: a row of originals, the row of
// their reconstructions beneath, then a wider gap and the next pair of
// rows. Values are expected in [0, 1] (pixels, or a sigmoid's output) and
// are clamped to it.
func PairGrid(path string, originals, recons [][]float32, h, w, perRow int) error {
	return StackedGrid(path, [][][]float32{originals, recons}, h, w, perRow, 0, 1)
}

// StackedGrid generalises PairGrid to any number of kinds of image per
// sample: kinds[k][i] is the k-th picture of sample i (an input, its
// corrupted version, its reconstruction), and each block of perRow
// samples is drawn as one row per kind, stacked, with a wider gap before
// the next block. Values map from [lo, hi] to black..white, clamped.
func StackedGrid(path string, kinds [][][]float32, h, w, perRow int, lo, hi float32) error {
	if len(kinds) == 0 {
		return errorf(path, "no images to draw")
	}
	for k, imgs := range kinds[1:] {
		if len(imgs) != len(kinds[0]) {
			return errorf(path, "%d images of kind %d but %d of kind 0, want one of each kind per sample", len(imgs), k+1, len(kinds[0]))
		}
	}
	if perRow <= 0 {
		return errorf(path, "%d samples per row, want at least 1", perRow)
	}
	var cells [][]float32
	for b := 0; b < len(kinds[0]); b += perRow {
		for _, from := range kinds {
			row := make([][]float32, perRow) // nil pads a short last row
			copy(row, from[b:min(b+perRow, len(from))])
			cells = append(cells, row...)
		}
	}
	g := grid{h: h, w: w, cols: perRow, lo: lo, hi: hi, group: len(kinds)}
	if err := g.check(path, cells); err != nil {
		return err
	}
	return writeAtomic(path, func(out io.Writer) error {
		return png.Encode(out, g.draw(cells))
	})
}

// grid is the layout of equally sized images in cells. When group > 0,
// every group rows are set apart by an extra pairGap.
type grid struct {
	h, w, cols int
	lo, hi     float32
	group      int
}

func (g grid) check(path string, images [][]float32) error {
	switch {
	case len(images) == 0:
		return errorf(path, "no images to draw")
	case g.h <= 0 || g.w <= 0:
		return errorf(path, "image size %dx%d, want both dimensions > 0", g.h, g.w)
	case g.cols <= 0:
		return errorf(path, "%d columns, want at least 1", g.cols)
	case !(g.lo < g.hi) || math.IsInf(float64(g.hi-g.lo), 0):
		return errorf(path, "value range [%v, %v], want finite lo < hi", g.lo, g.hi)
	}
	for i, img := range images {
		if img != nil && len(img) != g.h*g.w {
			return errorf(path, "image %d has %d values, want %d×%d = %d", i, len(img), g.h, g.w, g.h*g.w)
		}
	}
	// In float64, so that huge sizes cannot overflow into small ones.
	rows := float64(g.rows(len(images)))
	W := gridGap + float64(g.cols)*(float64(g.w)*gridScale+gridGap)
	H := gridGap + rows*(float64(g.h)*gridScale+gridGap)
	if g.group > 0 {
		H += math.Floor((rows-1)/float64(g.group)) * pairGap
	}
	if W*H > maxGridPixels {
		return errorf(path, "grid of %d images of %dx%d would be %.0f×%.0f pixels, want at most %d", len(images), g.h, g.w, W, H, maxGridPixels)
	}
	return nil
}

func (g grid) rows(n int) int { return (n + g.cols - 1) / g.cols }

// size returns the picture's width and height in pixels for n images.
func (g grid) size(n int) (W, H int) {
	rows := g.rows(n)
	W = gridGap + g.cols*(g.w*gridScale+gridGap)
	H = gridGap + rows*(g.h*gridScale+gridGap)
	if g.group > 0 {
		H += (rows - 1) / g.group * pairGap
	}
	return W, H
}

// origin returns the top-left pixel of cell (r, c).
func (g grid) origin(r, c int) (x, y int) {
	x = gridGap + c*(g.w*gridScale+gridGap)
	y = gridGap + r*(g.h*gridScale+gridGap)
	if g.group > 0 {
		y += r / g.group * pairGap
	}
	return x, y
}

func (g grid) draw(images [][]float32) *image.Gray {
	W, H := g.size(len(images))
	img := image.NewGray(image.Rect(0, 0, W, H))
	for i := range img.Pix {
		img.Pix[i] = separator.Y
	}
	for k, src := range images {
		if src == nil {
			continue
		}
		x0, y0 := g.origin(k/g.cols, k%g.cols)
		for r := 0; r < g.h*gridScale; r++ {
			row := img.Pix[(y0+r)*img.Stride+x0:]
			for c := 0; c < g.w*gridScale; c++ {
				row[c] = g.gray(src[(r/gridScale)*g.w+c/gridScale])
			}
		}
	}
	return img
}

func (g grid) gray(v float32) uint8 {
	t := (v - g.lo) / (g.hi - g.lo)
	switch {
	case !(t > 0): // also NaN
		return 0
	case t >= 1:
		return 255
	}
	return uint8(t*255 + 0.5)
}
