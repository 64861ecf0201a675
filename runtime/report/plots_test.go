package report

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hasColour reports whether some pixel of the PNG at path is within 8 of c in each channel.
func hasColour(t *testing.T, path string, c [3]uint8) bool {
	img := decodePNG(t, path)
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if absDiff(uint8(r>>8), c[0]) <= 8 && absDiff(uint8(g>>8), c[1]) <= 8 && absDiff(uint8(bl>>8), c[2]) <= 8 {
				return true
			}
		}
	}
	return false
}

func absDiff(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}

// outDir is where the plots go: a temporary directory, or DLC_PLOTS to look at them.
func outDir(t *testing.T) string {
	if d := os.Getenv("DLC_PLOTS"); d != "" {
		return d
	}
	return t.TempDir()
}

func TestScatter(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var xy []float64
	var labels []int
	for i := 0; i < 600; i++ {
		k := i % 3
		xy = append(xy, 5*float64(k)+rng.NormFloat64(), float64(k%2)*4+rng.NormFloat64())
		labels = append(labels, k)
	}
	path := filepath.Join(outDir(t), "scatter.png")
	if err := Scatter(path, "three clusters", xy, labels, "x", "y"); err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 3; k++ {
		c := palette[k]
		if !hasColour(t, path, [3]uint8{c.R, c.G, c.B}) {
			t.Errorf("no pixel in the colour of label %d", k)
		}
	}
	if hasColour(t, path, [3]uint8{palette[3].R, palette[3].G, palette[3].B}) {
		t.Error("the colour of an absent label is drawn")
	}
}

func TestScatterErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.png")
	for _, tc := range []struct {
		xy     []float64
		labels []int
		want   string
	}{
		{nil, nil, "0 coordinates, want x and y of at least one point"},
		{[]float64{1, 2, 3}, nil, "3 coordinates"},
		{[]float64{1, 2}, []int{1, 2}, "1 points but 2 labels"},
		{[]float64{1, math.NaN()}, nil, "point 0 has coordinate NaN"},
	} {
		err := Scatter(path, "", tc.xy, tc.labels, "", "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Scatter(%v, %v): got %v, want %q", tc.xy, tc.labels, err, tc.want)
		}
	}
}

func TestScoreHistogram(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	var normal, anomalous []float64
	for i := 0; i < 1000; i++ {
		normal = append(normal, 0.01+0.003*rng.NormFloat64())
	}
	for i := 0; i < 9000; i++ {
		anomalous = append(anomalous, 0.05+0.02*math.Abs(rng.NormFloat64()))
	}
	anomalous = append(anomalous, 5) // one huge score goes into the last bin
	path := filepath.Join(outDir(t), "hist.png")
	err := ScoreHistogram(path, "scores", "reconstruction error", []ScoreGroup{{"normal", normal}, {"anomalous", anomalous}}, 0.02)
	if err != nil {
		t.Fatal(err)
	}
	// Both groups' translucent fills are drawn on white.
	for k := 0; k < 2; k++ {
		c := palette[k]
		blend := [3]uint8{uint8((int(c.R) + 255) / 2), uint8((int(c.G) + 255) / 2), uint8((int(c.B) + 255) / 2)}
		if !hasColour(t, path, blend) {
			t.Errorf("no bar of group %d", k)
		}
	}
	if err := ScoreHistogram(path, "", "", []ScoreGroup{{"x", nil}}, math.NaN()); err == nil || !strings.Contains(err.Error(), "no scores") {
		t.Errorf("no scores: got %v", err)
	}
	if err := ScoreHistogram(path, "", "", []ScoreGroup{{"x", []float64{math.Inf(1)}}}, 0); err == nil || !strings.Contains(err.Error(), "want finite") {
		t.Errorf("infinite score: got %v", err)
	}
}
