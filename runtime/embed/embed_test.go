package embed

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestPCAKnownMatrix(t *testing.T) {
	// Four points at ±1, ±2 along u = (3, 4)/5 and ±0.5 along v = (−4, 3)/5, moved to
	// (10, −3): the axes are u (variance (1+1+4+4)/3) and v (variance 4·0.25/3), each
	// signed so that its largest component is positive: u, and −v.
	u := []float64{0.6, 0.8}
	v := []float64{-0.8, 0.6}
	along := []float64{-2, -1, 1, 2}
	perp := []float64{0.5, -0.5, -0.5, 0.5}
	var x []float64
	for i := range along {
		x = append(x, along[i]*u[0]+perp[i]*v[0]+10, along[i]*u[1]+perp[i]*v[1]-3)
	}
	proj, vars, err := PCA(x, 4, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	wantVars := []float64{10.0 / 3, 1.0 / 3}
	for i := range wantVars {
		if math.Abs(vars[i]-wantVars[i]) > 1e-12 {
			t.Errorf("variance %d: got %v, want %v", i, vars[i], wantVars[i])
		}
	}
	// Axis 1 is +u (largest component 0.8 positive); axis 2 is −v (largest |−0.8| made positive).
	for i := range along {
		if got, want := proj[2*i], along[i]; math.Abs(got-want) > 1e-12 {
			t.Errorf("point %d on axis 1: got %v, want %v", i, got, want)
		}
		if got, want := proj[2*i+1], -perp[i]; math.Abs(got-want) > 1e-12 {
			t.Errorf("point %d on axis 2: got %v, want %v", i, got, want)
		}
	}
}

func TestPCABadInput(t *testing.T) {
	for _, tc := range []struct {
		x       []float64
		n, d, k int
		want    string
	}{
		{nil, 0, 2, 2, "want at least one"},
		{[]float64{1, 2, 3}, 2, 2, 1, "want 4"},
		{[]float64{1, math.NaN()}, 1, 2, 1, "is NaN"},
		{[]float64{1, 2}, 1, 2, 3, "want 1 to 2"},
	} {
		_, _, err := PCA(tc.x, tc.n, tc.d, tc.k)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("PCA(%v, %d, %d, %d): got %v, want an error with %q", tc.x, tc.n, tc.d, tc.k, err, tc.want)
		}
	}
}

// clusters returns n points in d dimensions around k well separated centres, and their
// cluster of each.
func clusters(n, d, k int, seed uint64) ([]float64, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	centres := make([]float64, k*d)
	for i := range centres {
		centres[i] = 10 * rng.NormFloat64()
	}
	x := make([]float64, n*d)
	label := make([]int, n)
	for i := 0; i < n; i++ {
		c := i % k
		label[i] = c
		for j := 0; j < d; j++ {
			x[i*d+j] = centres[c*d+j] + rng.NormFloat64()
		}
	}
	return x, label
}

func TestTSNESeparatesClusters(t *testing.T) {
	const n, d, k = 300, 20, 5
	x, label := clusters(n, d, k, 7)
	y, err := TSNE(x, n, d, TSNEOptions{Seed: 1, Iterations: 500})
	if err != nil {
		t.Fatal(err)
	}
	// Every point's nearest neighbour in the map is in its own cluster, and the clusters'
	// mean spread is well below the distance between their centres.
	wrong := 0
	for i := 0; i < n; i++ {
		best, bj := math.Inf(1), -1
		for j := 0; j < n; j++ {
			if j != i {
				if dd := dist2(y, i, j); dd < best {
					best, bj = dd, j
				}
			}
		}
		if label[bj] != label[i] {
			wrong++
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d points have their nearest map neighbour in another cluster", wrong, n)
	}
	cx, cy := make([]float64, k), make([]float64, k)
	for i := 0; i < n; i++ {
		cx[label[i]] += y[2*i] / (n / k)
		cy[label[i]] += y[2*i+1] / (n / k)
	}
	spread := 0.0
	for i := 0; i < n; i++ {
		spread += math.Hypot(y[2*i]-cx[label[i]], y[2*i+1]-cy[label[i]]) / n
	}
	gap := math.Inf(1)
	for a := 0; a < k; a++ {
		for b := a + 1; b < k; b++ {
			gap = min(gap, math.Hypot(cx[a]-cx[b], cy[a]-cy[b]))
		}
	}
	if gap < 3*spread {
		t.Errorf("closest cluster centres %.3g apart, mean spread %.3g: want the gap ≥ 3× the spread", gap, spread)
	}
}

func dist2(y []float64, i, j int) float64 {
	dx, dy := y[2*i]-y[2*j], y[2*i+1]-y[2*j+1]
	return dx*dx + dy*dy
}

func TestTSNEDeterministic(t *testing.T) {
	const n, d = 120, 8
	x, _ := clusters(n, d, 3, 3)
	o := TSNEOptions{Seed: 5, Iterations: 300}
	a, err := TSNE(x, n, d, o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := TSNE(x, n, d, o)
	if !slices.Equal(a, b) {
		t.Error("two runs with one seed differ")
	}
	o.Seed = 6
	c, _ := TSNE(x, n, d, o)
	if slices.Equal(a, c) {
		t.Error("two seeds gave the same map")
	}
}

// exactGradient is ∂C/∂y / 4 by the definition, over all pairs.
func exactGradient(p *sparseP, y []float64, exag float64) []float64 {
	n := len(y) / 2
	dense := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for m := p.start[i]; m < p.start[i+1]; m++ {
			dense[i*n+int(p.cols[m])] = p.vals[m]
		}
	}
	z := 0.0
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i != j {
				z += 1 / (1 + dist2(y, i, j))
			}
		}
	}
	g := make([]float64, 2*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i == j {
				continue
			}
			w := 1 / (1 + dist2(y, i, j))
			f := (exag*dense[i*n+j] - w/z) * w
			g[2*i] += f * (y[2*i] - y[2*j])
			g[2*i+1] += f * (y[2*i+1] - y[2*j+1])
		}
	}
	return g
}

func TestBarnesHutGradient(t *testing.T) {
	const n, d = 200, 6
	x, _ := clusters(n, d, 4, 11)
	p := affinities(x, n, d, 10)
	rng := rand.New(rand.NewPCG(2, 2))
	y := make([]float64, 2*n)
	for i := range y {
		y[i] = 3 * rng.NormFloat64()
	}
	// Two points at one place: the tree must count them without dividing by zero.
	y[2], y[3] = y[0], y[1]
	want := exactGradient(p, y, 12)
	norm := 0.0
	for _, v := range want {
		norm = math.Max(norm, math.Abs(v))
	}
	for _, tc := range []struct {
		theta, tol float64
	}{{0, 1e-12}, {0.5, 0.05}} {
		s := newSolver(p, slices.Clone(y))
		s.gradient(12, tc.theta)
		worst := 0.0
		for i := range want {
			worst = math.Max(worst, math.Abs(s.grad[i]-want[i]))
		}
		if worst > tc.tol*norm {
			t.Errorf("θ = %v: gradient off by %.3g (largest component %.3g), want within %v of it", tc.theta, worst, norm, tc.tol)
		}
	}
}

func TestAffinitiesPerplexity(t *testing.T) {
	// Each point's conditional distribution has the requested perplexity, and P is
	// symmetric and sums to 1.
	const n, d, perp = 100, 5, 8
	x, _ := clusters(n, d, 2, 4)
	k := 3 * perp
	p := make([]float64, k)
	dd := make([]float64, k)
	for j := range dd {
		dd[j] = float64(j) * 0.7
	}
	conditional(p, dd, perp)
	h := 0.0
	for _, v := range p {
		if v > 0 {
			h -= v * math.Log(v)
		}
	}
	if math.Abs(math.Exp(h)-perp) > 1e-3 {
		t.Errorf("perplexity %v, want %v", math.Exp(h), float64(perp))
	}
	sp := affinities(x, n, d, perp)
	sum := 0.0
	at := func(i, j int) float64 {
		for m := sp.start[i]; m < sp.start[i+1]; m++ {
			if int(sp.cols[m]) == j {
				return sp.vals[m]
			}
		}
		return 0
	}
	for i := 0; i < n; i++ {
		for m := sp.start[i]; m < sp.start[i+1]; m++ {
			j := int(sp.cols[m])
			sum += sp.vals[m]
			if at(j, i) != sp.vals[m] {
				t.Fatalf("P[%d][%d] = %v but P[%d][%d] = %v", i, j, sp.vals[m], j, i, at(j, i))
			}
		}
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Errorf("P sums to %v, want 1", sum)
	}
}

func TestTSNEBadInput(t *testing.T) {
	if _, err := TSNE([]float64{1, 2, 3}, 3, 1, TSNEOptions{}); err == nil || !strings.Contains(err.Error(), "at least 4") {
		t.Errorf("3 points: got %v", err)
	}
	if _, err := TSNE(make([]float64, 8), 4, 2, TSNEOptions{Perplexity: -1}); err == nil {
		t.Error("negative perplexity: no error")
	}
	// Identical points are a valid, if dull, input.
	y, err := TSNE(make([]float64, 40), 20, 2, TSNEOptions{Iterations: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("identical points gave a non-finite map: %v", y)
		}
	}
}

func BenchmarkTSNE5000x64(b *testing.B) {
	x, _ := clusters(5000, 64, 10, 1)
	for b.Loop() {
		if _, err := TSNE(x, 5000, 64, TSNEOptions{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestNearestKeepsTheKSmallest(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	d := make([]float64, 500)
	for i := range d {
		d[i] = float64(rng.IntN(50)) // many ties, broken by index
	}
	const k = 37
	h := nearest{}
	for j, v := range d {
		h.offer(int32(j), v, k)
	}
	h.sortAscending()
	order := make([]int32, len(d))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		if d[a] != d[b] {
			if d[a] < d[b] {
				return -1
			}
			return 1
		}
		return int(a - b)
	})
	if !slices.Equal(h.idx, order[:k]) {
		t.Errorf("got %v, want %v", h.idx, order[:k])
	}
}

// The codes' CSV has a column per value, one for the label and one for the cluster.
func TestCodesCSV(t *testing.T) {
	got := string(CodesCSV([]float32{1, 2.5, -3, 0}, 2, 2, []int{7, 1}, nil))
	if want := "z0,z1,label\n1,2.5,7\n-3,0,1\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := string(CodesCSV([]float32{1, 2}, 2, 1, nil, nil)); got != "z0\n1\n2\n" {
		t.Errorf("unlabelled: %q", got)
	}
	if got := string(CodesCSV([]float32{1, 2}, 2, 1, []int{4, 5}, []int{1, 0})); got != "z0,label,cluster\n1,4,1\n2,5,0\n" {
		t.Errorf("with clusters: %q", got)
	}
}

// A 2-D code is shown as it is, a sample of N of its rows with their labels; a wider one
// by PCA, described with its share of the variance.
func TestMap2D(t *testing.T) {
	codes := []float32{0, 1, 2, 3, 4, 5, 6, 7}
	m, err := Map2D(codes, 4, 2, []int{0, 1, 2, 3}, MapOptions{N: 3, Seed: 1})
	if err != nil || m.Shown != 3 || len(m.XY) != 6 || len(m.Labels) != 3 || m.Describe("3 of 4 codes") != "3 of 4 codes, as they are" {
		t.Fatalf("2-D map %+v, %v", m, err)
	}
	for k, l := range m.Labels {
		if m.XY[2*k] != float64(2*l) {
			t.Errorf("point %d (%v) is not the code of label %d", k, m.XY[2*k:2*k+2], l)
		}
	}
	wide := []float32{0, 0, 1, 1, 1, 0, 2, 2, 1, 3, 3, 0}
	m, err = Map2D(wide, 4, 3, nil, MapOptions{PCA: true, N: 4})
	if err != nil || m.How != "PCA" || !(m.Variance > 0.99) || m.Axes[0] != "PC 1" {
		t.Errorf("PCA map %+v, %v", m, err)
	}
}

// A perplexity below 1 is refused, not an index out of range: ⌊3·0.3⌋ is no neighbour.
func TestTSNEPerplexityBelowOne(t *testing.T) {
	x := make([]float64, 20)
	for i := range x {
		x[i] = float64(i * i % 7)
	}
	for _, p := range []float64{0.3, 0.99} {
		if _, err := TSNE(x, 10, 2, TSNEOptions{Perplexity: p, Iterations: 10}); err == nil || !strings.Contains(err.Error(), "want a number of neighbours from 1") {
			t.Errorf("perplexity %v: %v", p, err)
		}
	}
	if _, err := TSNE(x, 10, 2, TSNEOptions{Perplexity: 1, Iterations: 10}); err != nil {
		t.Errorf("perplexity 1: %v", err)
	}
}
