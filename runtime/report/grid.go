package report

import (
	"image/color"
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
// It is a Sheet without labels (sheet.go), which draws every picture.
func ImageGrid(path string, images [][]float32, h, w, cols int, lo, hi float32) error {
	if err := checkGrid(path, images, len(images), h, w, cols, 0); err != nil {
		return err
	}
	var s Sheet
	cells := GreyCells(images, h, w, lo, hi)
	for i := range images {
		if images[i] == nil {
			cells[i].Pix = nil
		}
	}
	for b := 0; b < len(cells); b += cols {
		row := make([]Cell, cols)
		copy(row, cells[b:min(b+cols, len(cells))])
		s.Rows = append(s.Rows, row)
	}
	return WriteSheet(path, s)
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
	var all [][]float32
	for _, imgs := range kinds {
		all = append(all, imgs...)
	}
	if err := checkGrid(path, all, len(kinds[0]), h, w, perRow, len(kinds)); err != nil {
		return err
	}
	cells := make([][]Cell, len(kinds))
	for k, imgs := range kinds {
		cells[k] = GreyCells(imgs, h, w, lo, hi)
	}
	return WriteSheet(path, Blocks(cells, nil, perRow))
}

// checkGrid refuses, before the sheet is laid out, a grid of no images, of images or
// columns of no size, of an image of the wrong length, or too big to draw: n images of h×w
// (each of images, when it is not nil, h·w values), cols to a row, every group rows set
// apart (0: none). The size is worked out in float64, so that huge sizes cannot overflow
// into small ones.
func checkGrid(path string, images [][]float32, n, h, w, cols, group int) error {
	switch {
	case n == 0:
		return errorf(path, "no images to draw")
	case h <= 0 || w <= 0:
		return errorf(path, "image size %dx%d, want both dimensions > 0", h, w)
	case cols <= 0:
		return errorf(path, "%d columns, want at least 1", cols)
	}
	rows := math.Ceil(float64(n) / float64(cols))
	if group > 0 {
		rows *= float64(group)
	}
	W := gridGap + float64(cols)*(float64(w)*gridScale+gridGap)
	H := gridGap + rows*(float64(h)*gridScale+gridGap)
	if group > 0 {
		H += math.Floor((rows-1)/float64(group)) * pairGap
	}
	if W*H > maxGridPixels {
		return errorf(path, "grid of %d images of %dx%d would be %.0f×%.0f pixels, want at most %d", n, h, w, W, H, maxGridPixels)
	}
	for i, img := range images {
		if img != nil && len(img) != h*w {
			return errorf(path, "image %d has %d values, want %d×%d = %d", i, len(img), h, w, h*w)
		}
	}
	return nil
}

// grid maps a value to a grey level over [lo, hi].
type grid struct {
	lo, hi float32
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
