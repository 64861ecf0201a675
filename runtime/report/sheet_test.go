package report

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// keep writes the test's pictures to $DLC_KEEP_PICTURES when it is set, to look at.
func keep(t *testing.T, name string) string {
	if d := os.Getenv("DLC_KEEP_PICTURES"); d != "" {
		return filepath.Join(d, name)
	}
	return filepath.Join(t.TempDir(), name)
}

// TestSheetColourAndRange: a cell of three channels is drawn in colour, each cell over its
// own range (a tanh's [-1, 1] puts 0 at mid-grey), and cells of two sizes share a sheet,
// each at its own size, with a label margin left of the rows and a line above.
func TestSheetColourAndRange(t *testing.T) {
	// A 2×2 RGB image: red, green, blue and white pixels.
	rgb := Cell{C: 3, H: 2, W: 2, Lo: 0, Hi: 1, Pix: []float32{
		1, 0, 0, 1, // R
		0, 1, 0, 1, // G
		0, 0, 1, 1, // B
	}}
	grey := Cell{C: 1, H: 1, W: 3, Lo: -1, Hi: 1, Pix: []float32{-1, 0, 1}}
	path := keep(t, "sheet-colour.png")
	s := Sheet{Title: "colour", RowLabels: []string{"rgb", "tanh"}, Rows: [][]Cell{{rgb, rgb}, {grey}}}
	if err := WriteSheet(path, s); err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, path)
	l, err := s.layout(path)
	if err != nil {
		t.Fatal(err)
	}
	if l.left == 0 || l.top != labelHeight {
		t.Errorf("margins left %d, top %d; want a label margin and one line of title", l.left, l.top)
	}
	at := func(x, y int) color.RGBA { return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) }
	x0, y0 := l.colX[0], l.rowY[0]
	for _, c := range []struct {
		dx, dy int
		want   color.RGBA
	}{{0, 0, color.RGBA{255, 0, 0, 255}}, {2, 0, color.RGBA{0, 255, 0, 255}}, {0, 2, color.RGBA{0, 0, 255, 255}}, {3, 3, color.RGBA{255, 255, 255, 255}}} {
		if got := at(x0+c.dx, y0+c.dy); got != c.want {
			t.Errorf("rgb pixel (%d, %d) = %v, want %v", c.dx, c.dy, got, c.want)
		}
	}
	x1, y1 := l.colX[0], l.rowY[1]
	if a, b, c := at(x1, y1).R, at(x1+2, y1).R, at(x1+4, y1).R; a != 0 || b != 128 || c != 255 {
		t.Errorf("tanh row drawn %d %d %d, want 0 128 255 over [-1, 1]", a, b, c)
	}
	if l.rowH[0] != 4 || l.rowH[1] != 2 || l.colW[0] != 6 {
		t.Errorf("rows %v high, columns %v wide: want each row its highest cell, each column its widest", l.rowH, l.colW)
	}
	ink := false
	for y := 0; y < l.H && !ink; y++ {
		for x := 0; x < l.left; x++ {
			if at(x, y).R == 0 {
				ink = true
			}
		}
	}
	if !ink {
		t.Error("no label drawn in the left margin")
	}
}

// TestSheetGrey: a sheet of one-channel cells is a grey PNG; bad cells are refused with
// the path and the cell.
func TestSheetGrey(t *testing.T) {
	path := keep(t, "sheet-grey.png")
	if err := WriteSheet(path, Blocks([][]Cell{GreyCells([][]float32{{0, 1, 0, 1}}, 2, 2, 0, 1)}, []string{"x"}, 4)); err != nil {
		t.Fatal(err)
	}
	if _, ok := readPNG(t, path).(*image.Gray); !ok {
		t.Error("a sheet of grey cells is not a grey PNG")
	}
	err := WriteSheet(path, Sheet{Rows: [][]Cell{{{C: 1, H: 2, W: 2, Lo: 0, Hi: 1, Pix: []float32{1}}}}})
	if err == nil || err.Error() != "report: "+path+": image 0 of row 0 has 1 values, want 1×2×2 = 4" {
		t.Errorf("bad cell: %v", err)
	}
}

// TestSheetColourPicture draws colour gradients with labels, a picture to look at
// (DLC_KEEP_PICTURES=DIR keeps it): red rising left to right, green top to bottom, blue
// falling, each cell a shade brighter.
func TestSheetColourPicture(t *testing.T) {
	var row []Cell
	for k := range 4 {
		c := Cell{C: 3, H: 16, W: 16, Lo: 0, Hi: 1, Pix: make([]float32, 3*16*16)}
		for y := range 16 {
			for x := range 16 {
				c.Pix[y*16+x] = float32(x) / 15
				c.Pix[256+y*16+x] = float32(y) / 15
				c.Pix[512+y*16+x] = 1 - float32(x)/15*float32(k)/3
			}
		}
		row = append(row, c)
	}
	s := Sheet{Title: "RGB cells in colour", RowLabels: []string{"input"}, ColLabels: []string{"0", "1", "2", "3"}, Rows: [][]Cell{row}}
	path := keep(t, "sheet-rgb.png")
	if err := WriteSheet(path, s); err != nil {
		t.Fatal(err)
	}
	if _, ok := readPNG(t, path).(*image.Gray); ok {
		t.Error("a sheet of colour cells was written grey")
	}
}
