package embed

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
)

// Codes: an encoder's codes of a data set, written as CSV and mapped to the plane.

// CodesCSV writes codes (rows × dim) with a header z0, z1, …, a label column when labels
// are known and a cluster column when clusters are (each row's k-means cluster).
func CodesCSV(codes []float32, rows, dim int, labels, clusters []int) []byte {
	var b bytes.Buffer
	for j := 0; j < dim; j++ {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "z%d", j)
	}
	if labels != nil {
		b.WriteString(",label")
	}
	if clusters != nil {
		b.WriteString(",cluster")
	}
	b.WriteByte('\n')
	for i := 0; i < rows; i++ {
		for j, v := range codes[i*dim : (i+1)*dim] {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
		}
		if labels != nil {
			fmt.Fprintf(&b, ",%d", labels[i])
		}
		if clusters != nil {
			fmt.Fprintf(&b, ",%d", clusters[i])
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// MapOptions say how Map2D maps codes to the plane.
type MapOptions struct {
	PCA        bool    // PCA (all the codes, fast) instead of t-SNE
	Perplexity float64 // t-SNE's
	Seed       uint64  // of the sample and of t-SNE's start
	N          int     // the map shows a random sample of at most N codes
}

// Map is codes mapped to the plane.
type Map struct {
	XY     []float64 // the points' x and y, interleaved
	Labels []int     // each point's label, when the codes have labels
	Shown  int       // how many codes the map shows
	Axes   [2]string // the axes' names
	// How is how the points were found: "as they are" (a 2-D code), "PCA" or "t-SNE";
	// Variance is the share of the variance PCA's two axes hold.
	How        string
	Variance   float64
	Perplexity float64
}

// Map2D maps a random sample of at most o.N of the codes (rows × dim, dim ≥ 2) to the
// plane: a 2-D code as it is, else by PCA or t-SNE.
func Map2D(codes []float32, rows, dim int, labels []int, o MapOptions) (Map, error) {
	idx := SampleRows(rows, o.N, o.Seed)
	x := make([]float64, 0, len(idx)*dim)
	m := Map{Shown: len(idx)}
	for _, i := range idx {
		for _, v := range codes[i*dim : (i+1)*dim] {
			x = append(x, float64(v))
		}
		if labels != nil {
			m.Labels = append(m.Labels, labels[i])
		}
	}
	var err error
	switch {
	case dim == 2:
		m.XY, m.How, m.Axes = x, "as they are", [2]string{"z0", "z1"}
	case o.PCA:
		var vars []float64
		if m.XY, vars, err = PCA(x, len(idx), dim, 2); err != nil {
			return Map{}, err
		}
		total := 0.0
		for _, v := range vars {
			total += v
		}
		m.How, m.Variance, m.Axes = "PCA", (vars[0]+vars[1])/total, [2]string{"PC 1", "PC 2"}
	default:
		if m.XY, err = TSNE(x, len(idx), dim, TSNEOptions{Perplexity: o.Perplexity, Seed: o.Seed}); err != nil {
			return Map{}, err
		}
		m.How, m.Perplexity, m.Axes = "t-SNE", o.Perplexity, [2]string{"t-SNE 1", "t-SNE 2"}
	}
	return m, nil
}

// Describe names the map of what (e.g. "5000 test codes"): "t-SNE of 5000 test codes
// (perplexity 30)".
func (m Map) Describe(what string) string {
	switch m.How {
	case "PCA":
		return fmt.Sprintf("PCA of %s (%.0f%% of the variance)", what, 100*m.Variance)
	case "t-SNE":
		return fmt.Sprintf("t-SNE of %s (perplexity %g)", what, m.Perplexity)
	}
	return what + ", " + m.How
}

// SampleRows picks min(n, rows) row indices at random without repetition, in order.
func SampleRows(rows, n int, seed uint64) []int {
	idx := rand.New(rand.NewPCG(seed, 0x656d6264)).Perm(rows)[:min(n, rows)]
	slices.Sort(idx)
	return idx
}
