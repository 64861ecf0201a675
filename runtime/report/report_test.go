package report

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func grayAt(img image.Image, x, y int) uint8 {
	r, _, _, _ := img.At(x, y).RGBA()
	return uint8(r >> 8)
}

func TestImageGrid(t *testing.T) {
	// Three 2x3 images, two to a row: a ramp, all white, all black.
	ramp := []float32{-1, 0, 0.5, 1, 2, float32(math.NaN())}
	white := []float32{1, 1, 1, 1, 1, 1}
	black := make([]float32, 6)
	path := filepath.Join(t.TempDir(), "grid.png")
	if err := ImageGrid(path, [][]float32{ramp, white, black}, 2, 3, 2, 0, 1); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, path)
	// Width: gap + 2 × (3·scale + gap); height: gap + 2 × (2·scale + gap).
	wantW, wantH := 2+2*(3*2+2), 2+2*(2*2+2)
	if b := img.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
		t.Fatalf("got %dx%d, want %dx%d", b.Dx(), b.Dy(), wantW, wantH)
	}
	for _, tc := range []struct {
		x, y int
		want uint8
		what string
	}{
		{0, 0, 128, "border"},
		{2, 2, 0, "ramp -1 clamped to black"},
		{3, 3, 0, "same pixel, scaled ×2"},
		{4, 2, 0, "ramp 0"},
		{6, 2, 128, "ramp 0.5"},
		{7, 3, 128, "ramp 0.5, scaled"},
		{2, 4, 255, "ramp 1"},
		{4, 4, 255, "ramp 2 clamped to white"},
		{6, 4, 0, "ramp NaN drawn black"},
		{8, 2, 128, "separator between columns"},
		{10, 2, 255, "white image"},
		{2, 8, 0, "black image, second row"},
		{10, 8, 128, "empty last cell"},
	} {
		if got := grayAt(img, tc.x, tc.y); got != tc.want {
			t.Errorf("(%d, %d) %s: got gray %d, want %d", tc.x, tc.y, tc.what, got, tc.want)
		}
	}
}

func TestPairGrid(t *testing.T) {
	orig := [][]float32{{1}, {1}, {1}}
	recon := [][]float32{{0}, {0}, {0}}
	path := filepath.Join(t.TempDir(), "pairs.png")
	if err := PairGrid(path, orig, recon, 1, 1, 2); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, path)
	// Four rows of 1×1 images (2 px each), 2 px gaps, one extra 4 px gap
	// between the two pairs of rows.
	wantW, wantH := 2+2*(2+2), 2+4*(2+2)+4
	if b := img.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
		t.Fatalf("got %dx%d, want %dx%d", b.Dx(), b.Dy(), wantW, wantH)
	}
	for _, tc := range []struct {
		x, y int
		want uint8
		what string
	}{
		{2, 2, 255, "original 0"},
		{6, 2, 255, "original 1"},
		{2, 6, 0, "reconstruction 0, below its original"},
		{6, 6, 0, "reconstruction 1"},
		{2, 10, 128, "extra gap between pairs"},
		{2, 14, 255, "original 2"},
		{2, 18, 0, "reconstruction 2"},
		{6, 14, 128, "empty cell after original 2"},
	} {
		if got := grayAt(img, tc.x, tc.y); got != tc.want {
			t.Errorf("(%d, %d) %s: got gray %d, want %d", tc.x, tc.y, tc.what, got, tc.want)
		}
	}
}

func TestStackedGrid(t *testing.T) {
	// Three kinds of 1×1 image for three samples, two samples to a row, values in [-1, 1]:
	// rows clean (1), noisy (-1), cleaned (0); then a gap and the third sample's three.
	clean := [][]float32{{1}, {1}, {1}}
	noisy := [][]float32{{-1}, {-1}, {-1}}
	cleaned := [][]float32{{0}, {0}, {0}}
	path := filepath.Join(t.TempDir(), "triples.png")
	if err := StackedGrid(path, [][][]float32{clean, noisy, cleaned}, 1, 1, 2, -1, 1); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, path)
	// Six rows of 2 px images with 2 px gaps, plus one 4 px gap after the third row.
	if b := img.Bounds(); b.Dx() != 2+2*4 || b.Dy() != 2+6*4+4 {
		t.Fatalf("got %dx%d, want %dx%d", b.Dx(), b.Dy(), 2+2*4, 2+6*4+4)
	}
	for _, tc := range []struct {
		x, y int
		want uint8
		what string
	}{
		{2, 2, 255, "clean 0"},
		{6, 6, 0, "noisy 1"},
		{2, 10, 128, "cleaned 0 (0 is mid-gray in [-1, 1])"},
		{2, 13, 128, "gap between the blocks"},
		{2, 18, 255, "clean 2"},
		{2, 22, 0, "noisy 2"},
		{6, 26, 128, "empty cell after cleaned 2"},
	} {
		if got := grayAt(img, tc.x, tc.y); got != tc.want {
			t.Errorf("(%d, %d) %s: got gray %d, want %d", tc.x, tc.y, tc.what, got, tc.want)
		}
	}
}

func TestGridErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "g.png")
	img := []float32{0, 0, 0, 0}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"no images", ImageGrid(path, nil, 2, 2, 1, 0, 1), "no images to draw"},
		{"bad size", ImageGrid(path, [][]float32{img}, 0, 2, 1, 0, 1), "image size 0x2, want both dimensions > 0"},
		{"bad cols", ImageGrid(path, [][]float32{img}, 2, 2, 0, 0, 1), "0 columns, want at least 1"},
		{"bad range", ImageGrid(path, [][]float32{img}, 2, 2, 1, 1, 1), "value range [1, 1], want finite lo < hi"},
		{"wrong length", ImageGrid(path, [][]float32{img, {1}}, 2, 2, 1, 0, 1), "image 1 has 1 values, want 2×2 = 4"},
		{"too big", ImageGrid(path, [][]float32{nil}, 1<<15, 1<<15, 1, 0, 1), "grid of 1 images of 32768x32768 would be 65540×65540 pixels, want at most 268435456"},
		{"overflowing", ImageGrid(path, [][]float32{nil}, math.MaxInt, math.MaxInt, 1, 0, 1), "grid of 1 images of 9223372036854775807x9223372036854775807 would be 18446744073709551616×18446744073709551616 pixels, want at most 268435456"},
		{"unpaired", PairGrid(path, [][]float32{img}, nil, 2, 2, 1), "0 images of kind 1 but 1 of kind 0, want one of each kind per sample"},
		{"bad per row", PairGrid(path, [][]float32{img}, [][]float32{img}, 2, 2, 0), "0 samples per row, want at least 1"},
	} {
		if want := "report: " + path + ": " + tc.want; tc.err == nil || tc.err.Error() != want {
			t.Errorf("%s: got error %v\nwant %s", tc.name, tc.err, want)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("a failed call wrote the file")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind %v", entries)
	}
}

func TestLossCurve(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		series map[string][]float64
	}{
		{"two series", map[string][]float64{
			"train": {0.9, 0.5, 0.3, 0.25, 0.2, 0.18, 0.17, 0.16, 0.155, 0.15, 0.149, 0.148},
			"test":  {0.95, 0.6, math.NaN(), 0.3, 0.28, 0.27, 0.26, 0.26, 0.25, 0.25, 0.25, 0.25},
		}},
		{"one epoch", map[string][]float64{"train": {0.7}}},
		{"many epochs", map[string][]float64{"train": ramp(250)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".png")
			if err := LossCurve(path, "loss: "+tc.name, tc.series, 1); err != nil {
				t.Fatal(err)
			}
			img := decodePNG(t, path)
			if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
				t.Errorf("got a %dx%d picture, want a readable one", b.Dx(), b.Dy())
			}
		})
	}
}

func ramp(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 1 / float64(i+1)
	}
	return v
}

func TestLossCurveErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "loss.png")
	for _, tc := range []struct {
		series map[string][]float64
		want   string
	}{
		{nil, "no loss series to plot"},
		{map[string][]float64{"train": {1}, "test": {}}, `series "test" has no finite values`},
		{map[string][]float64{"train": {math.NaN(), math.Inf(1)}}, `series "train" has no finite values`},
	} {
		err := LossCurve(path, "t", tc.series, 1)
		if want := "report: " + path + ": " + tc.want; err == nil || err.Error() != want {
			t.Errorf("got error %v\nwant %s", err, want)
		}
	}
}

func TestEpochTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   string
	}{
		{0.5, 1.5, "1"},
		{0.5, 5.5, "1 2 3 4 5"},
		{0.5, 12.5, "2 4 6 8 10 12"},
		{0.5, 250.5, "50 100 150 200 250"},
	} {
		var labels []string
		for _, tk := range (epochTicks{}).Ticks(tc.lo, tc.hi) {
			labels = append(labels, tk.Label)
		}
		if got := strings.Join(labels, " "); got != tc.want {
			t.Errorf("Ticks(%v, %v) = %q, want %q", tc.lo, tc.hi, got, tc.want)
		}
	}
}
