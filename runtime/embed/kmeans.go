package embed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
)

// k-means in brief: k centres, each point assigned to its nearest, minimising the inertia
// Σ_i ‖x_i − c(x_i)‖². Lloyd's iteration alternates the two halves of that: assign every
// point to its nearest centre, then move each centre to the mean of its points; neither
// half raises the inertia, so it converges, to a local minimum that depends on the start.
//
// The start is k-means++ (Arthur and Vassilvitskii 2007) in scikit-learn's greedy form:
// the first centre is a point drawn uniformly, each next one is drawn with probability
// ∝ D(x)², the squared distance to the nearest centre so far, from 2 + ⌊ln k⌋ candidates
// of which the one that lowers the inertia most is kept. Lloyd then runs until no point
// changes cluster, or the centres move by at most tol (Σ_j ‖Δc_j‖², tol = 10⁻⁴ times the
// mean variance of the features, as scikit-learn's tol), or MaxIter iterations. A centre
// left with no point is moved to the point farthest from its own centre. The whole is run
// Restarts times, from starts drawn by one seeded generator each, and the clustering of
// least inertia is kept: scikit-learn's KMeans(n_init=10, max_iter=300, tol=1e-4), whose
// results it matches up to its draws.

// KMeansOptions say how KMeans clusters.
type KMeansOptions struct {
	K        int    // the number of clusters, 1 to the number of points
	Restarts int    // starts tried, the best kept; 0 means 10
	MaxIter  int    // Lloyd iterations per start at most; 0 means 300
	Seed     uint64 // of the starts
}

// Clusters is a clustering of n points into k.
type Clusters struct {
	Assign     []int     // each point's cluster, 0 to k−1
	Centers    []float64 // k × dim, row-major
	Inertia    float64   // Σ_i ‖x_i − c(x_i)‖²
	Iterations int       // Lloyd iterations of the start kept
	Restarts   int       // starts tried
}

// KMeans clusters the n points x (n × dim, row-major) into o.K clusters. It returns an
// error when K is not in [1, n] or a point is not finite.
func KMeans(x []float64, n, dim int, o KMeansOptions) (Clusters, error) {
	switch {
	case o.K < 1 || o.K > n:
		return Clusters{}, fmt.Errorf("k-means: k = %d, want 1 to the %d points", o.K, n)
	case len(x) != n*dim || dim < 1:
		return Clusters{}, fmt.Errorf("k-means: got %d values, want %d points × %d", len(x), n, dim)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Clusters{}, fmt.Errorf("k-means: point %d holds %v, want finite values", i/dim, v)
		}
	}
	restarts, maxIter := o.Restarts, o.MaxIter
	if restarts <= 0 {
		restarts = 10
	}
	if maxIter <= 0 {
		maxIter = 300
	}
	tol := 1e-4 * meanVariance(x, n, dim)
	// Each start draws from its own generator, so the result does not depend on how the
	// starts are spread over goroutines; ties in inertia go to the earliest start.
	runs := make([]Clusters, restarts)
	var wg sync.WaitGroup
	for r := range runs {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(o.Seed, 0x6b6d65616e73+uint64(r)))
			c := kmeansPlusPlus(x, n, dim, o.K, rng)
			runs[r] = lloyd(x, n, dim, c, maxIter, tol)
		})
	}
	wg.Wait()
	best := runs[0]
	for _, c := range runs[1:] {
		if c.Inertia < best.Inertia {
			best = c
		}
	}
	best.Restarts = restarts
	return best, nil
}

// meanVariance is the mean over the features of their variance.
func meanVariance(x []float64, n, dim int) float64 {
	total := 0.0
	for j := 0; j < dim; j++ {
		mean := 0.0
		for i := 0; i < n; i++ {
			mean += x[i*dim+j]
		}
		mean /= float64(n)
		for i := 0; i < n; i++ {
			d := x[i*dim+j] - mean
			total += d * d
		}
	}
	return total / float64(n*dim)
}

func sqDist(a, b []float64) float64 {
	s := 0.0
	for j := range a {
		d := a[j] - b[j]
		s += d * d
	}
	return s
}

// kmeansPlusPlus picks k starting centres by greedy k-means++.
func kmeansPlusPlus(x []float64, n, dim, k int, rng *rand.Rand) []float64 {
	centers := make([]float64, 0, k*dim)
	first := rng.IntN(n)
	centers = append(centers, x[first*dim:(first+1)*dim]...)
	closest := make([]float64, n) // D(x)²: to the nearest centre so far
	pot := 0.0
	for i := range closest {
		closest[i] = sqDist(x[i*dim:(i+1)*dim], centers)
		pot += closest[i]
	}
	trials := 2 + int(math.Log(float64(k)))
	cand := make([]float64, n)
	bestD := make([]float64, n)
	for len(centers) < k*dim {
		bestPot, bestI := math.Inf(1), -1
		for t := 0; t < trials; t++ {
			i := drawByWeight(closest, pot, rng)
			p := 0.0
			for m := range cand {
				cand[m] = min(closest[m], sqDist(x[m*dim:(m+1)*dim], x[i*dim:(i+1)*dim]))
				p += cand[m]
			}
			if p < bestPot {
				bestPot, bestI = p, i
				copy(bestD, cand)
			}
		}
		centers = append(centers, x[bestI*dim:(bestI+1)*dim]...)
		copy(closest, bestD)
		pot = bestPot
	}
	return centers
}

// drawByWeight draws an index with probability w[i]/total; uniformly when every weight
// is zero (all points on the centres already).
func drawByWeight(w []float64, total float64, rng *rand.Rand) int {
	if !(total > 0) {
		return rng.IntN(len(w))
	}
	u := rng.Float64() * total
	for i, v := range w {
		if u < v {
			return i
		}
		u -= v
	}
	for i := len(w) - 1; i > 0; i-- {
		if w[i] > 0 {
			return i // rounding left u past the end: the last point with weight
		}
	}
	return 0
}

// lloyd runs Lloyd's iteration from centers (k × dim) to convergence or maxIter.
func lloyd(x []float64, n, dim int, centers []float64, maxIter int, tol float64) Clusters {
	k := len(centers) / dim
	c := Clusters{Assign: make([]int, n), Centers: centers}
	for i := range c.Assign {
		c.Assign[i] = -1
	}
	dist := make([]float64, n)
	next := make([]float64, k*dim)
	count := make([]int, k)
	for c.Iterations < maxIter {
		c.Iterations++
		changed := assign(x, n, dim, c.Centers, c.Assign, dist)
		clear(next)
		clear(count)
		for i, a := range c.Assign {
			count[a]++
			for j, v := range x[i*dim : (i+1)*dim] {
				next[a*dim+j] += v
			}
		}
		for a := 0; a < k; a++ {
			if count[a] == 0 {
				// An empty cluster takes the point farthest from its centre.
				far := 0
				for i := range dist {
					if dist[i] > dist[far] {
						far = i
					}
				}
				copy(next[a*dim:(a+1)*dim], x[far*dim:(far+1)*dim])
				dist[far] = 0
				continue
			}
			for j := 0; j < dim; j++ {
				next[a*dim+j] /= float64(count[a])
			}
		}
		shift := sqDist(next, c.Centers)
		c.Centers, next = next, c.Centers
		if !changed || shift <= tol {
			break
		}
	}
	// The labels and inertia of the final centres.
	assign(x, n, dim, c.Centers, c.Assign, dist)
	for _, d := range dist {
		c.Inertia += d
	}
	return c
}

// assign sets each point's cluster to its nearest centre (the first of equals) and dist
// to the squared distance; it reports whether any cluster changed.
func assign(x []float64, n, dim int, centers []float64, out []int, dist []float64) bool {
	k := len(centers) / dim
	changed := false
	for i := 0; i < n; i++ {
		p := x[i*dim : (i+1)*dim]
		best, bestD := 0, math.Inf(1)
		for a := 0; a < k; a++ {
			if d := sqDist(p, centers[a*dim:(a+1)*dim]); d < bestD {
				best, bestD = a, d
			}
		}
		if out[i] != best {
			out[i], changed = best, true
		}
		dist[i] = bestD
	}
	return changed
}

// contingency counts the points of each (cluster, label) pair, cells[c][l], with the
// totals of each cluster and each label. Clusters and labels are numbered in the order
// they first appear, so that every sum over them runs in one order.
func contingency(clusters, labels []int) (cells [][]int, byCluster, byLabel []int) {
	ci, li := map[int]int{}, map[int]int{}
	index := func(m map[int]int, v int, totals *[]int) int {
		i, ok := m[v]
		if !ok {
			i = len(m)
			m[v] = i
			*totals = append(*totals, 0)
		}
		(*totals)[i]++
		return i
	}
	type pair struct{ c, l int }
	pairs := make([]pair, len(clusters))
	for i := range clusters {
		pairs[i] = pair{index(ci, clusters[i], &byCluster), index(li, labels[i], &byLabel)}
	}
	cells = make([][]int, len(byCluster))
	for c := range cells {
		cells[c] = make([]int, len(byLabel))
	}
	for _, p := range pairs {
		cells[p.c][p.l]++
	}
	return cells, byCluster, byLabel
}

// Purity is the share of the points whose label is their cluster's most common label:
// 1 when each cluster holds one label. It panics if the slices' lengths differ.
func Purity(clusters, labels []int) float64 {
	if len(clusters) != len(labels) {
		panic("embed: Purity: clusters and labels differ in length")
	}
	if len(clusters) == 0 {
		return 0
	}
	cells, _, _ := contingency(clusters, labels)
	total := 0
	for _, row := range cells {
		total += slices.Max(row)
	}
	return float64(total) / float64(len(clusters))
}

// NMI is the normalized mutual information of a clustering and the labels,
// I(C; L) / ((H(C) + H(L)) / 2): scikit-learn's normalized_mutual_info_score with its
// default arithmetic normalization, and its limit cases (1 when both put every point in
// one class, 0 when the mutual information is 0). It panics if the lengths differ.
func NMI(clusters, labels []int) float64 {
	if len(clusters) != len(labels) {
		panic("embed: NMI: clusters and labels differ in length")
	}
	cells, byCluster, byLabel := contingency(clusters, labels)
	if len(byCluster) == len(byLabel) && len(byLabel) <= 1 {
		return 1
	}
	n := float64(len(clusters))
	entropy := func(counts []int) float64 {
		h := 0.0
		for _, c := range counts {
			p := float64(c) / n
			h -= p * math.Log(p)
		}
		return h
	}
	mi := 0.0
	for c, row := range cells {
		for l, m := range row {
			if m > 0 {
				pij := float64(m) / n
				mi += pij * math.Log(pij*n*n/(float64(byCluster[c])*float64(byLabel[l])))
			}
		}
	}
	if mi < 1e-15 {
		return 0
	}
	return mi / max((entropy(byCluster)+entropy(byLabel))/2, 1e-300)
}
