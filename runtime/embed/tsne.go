package embed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/dlc-lang/dlc/runtime/parallel"
)

// t-SNE in brief. Each point i turns its distances to the others into a distribution
// p(j|i) ∝ exp(−β_i‖x_i − x_j‖²), with β_i found by bisection so that the distribution's
// perplexity, 2^entropy, is the same for every point: a dense region gets a narrow kernel,
// a sparse one a wide kernel. Symmetrised, P_ij = (p(j|i) + p(i|j)) / 2n. The map places
// points y_i in the plane, where the similarities are a Student-t kernel,
// Q_ij = w_ij / Z with w_ij = 1 / (1 + ‖y_i − y_j‖²) and Z = Σ_{k≠l} w_kl, and moves them
// by gradient descent on KL(P ‖ Q), whose gradient is
//
//	∂C/∂y_i = 4 Σ_j (P_ij − Q_ij) w_ij (y_i − y_j)
//	        = 4 [Σ_j P_ij w_ij (y_i − y_j)  −  Σ_j w_ij² (y_i − y_j) / Z].
//
// The first sum, attraction, is sparse: P is kept only for each point's 3·perplexity
// nearest neighbours (beyond them p(j|i) is negligible), found exactly. The second,
// repulsion, pairs every point with every other; Barnes-Hut groups the far ones: a quadtree
// over the map, and a cell seen from y_i at a distance greater than its width / θ acts as
// its point count at its centre of mass. θ = 0 opens every cell: the exact gradient.
//
// The descent is the reference implementation's (bhtsne): the factor 4 is left in the
// learning rate, P is exaggerated (×12) for the first 250 iterations so that clusters form
// before they settle, momentum is 0.5 then 0.8, and each coordinate has an adaptive gain.
// The learning rate defaults to n/12 (at least 50), after Belkina et al. (2019), which
// keeps large maps from stalling with the old fixed 200.

// TSNEOptions are t-SNE's settings; zero values take the defaults in brackets.
type TSNEOptions struct {
	Perplexity   float64 // the effective number of neighbours [30; at least 1, at most (n−1)/3]
	Iterations   int     // gradient steps [1000]
	Theta        float64 // Barnes-Hut accuracy: 0 is exact, larger is faster [0.5]; negative means 0
	LearningRate float64 // [max(n/12, 50)]
	Seed         uint64  // seeds the start, drawn from N(0, 10⁻⁴ I)
}

const (
	exaggeration      = 12
	exaggerationIters = 250
	momentumIters     = 250 // momentum 0.5 before, 0.8 after
	minGain           = 0.01
)

// TSNE maps the n rows of x (n×d, row-major) to the plane and returns the n×2 map.
func TSNE(x []float64, n, d int, o TSNEOptions) ([]float64, error) {
	if err := checkPoints(x, n, d); err != nil {
		return nil, err
	}
	if n < 4 {
		return nil, fmt.Errorf("embed: t-SNE of %d points, want at least 4", n)
	}
	if o.Perplexity == 0 {
		o.Perplexity = 30
	}
	// A perplexity is 2^entropy of a point's neighbour distribution: below 1 it has no
	// distribution at all (and ⌊3·perplexity⌋ neighbours can be none), and each point
	// keeps at most n−1 neighbours, so at most (n−1)/3 of them can count.
	if !(o.Perplexity >= 1) || math.IsInf(o.Perplexity, 0) {
		return nil, fmt.Errorf("embed: perplexity %v, want a number of neighbours from 1 to %g (a third of the %d points less one)", o.Perplexity, float64(n-1)/3, n)
	}
	o.Perplexity = min(o.Perplexity, float64(n-1)/3)
	if o.Iterations == 0 {
		o.Iterations = 1000
	}
	if o.Theta == 0 {
		o.Theta = 0.5
	}
	o.Theta = max(o.Theta, 0)
	if o.LearningRate == 0 {
		o.LearningRate = max(float64(n)/exaggeration, 50)
	}
	p := affinities(x, n, d, o.Perplexity)
	rng := rand.New(rand.NewPCG(o.Seed, 0x74736e65))
	y := make([]float64, 2*n)
	for i := range y {
		y[i] = 1e-4 * rng.NormFloat64()
	}
	s := newSolver(p, y)
	for it := 0; it < o.Iterations; it++ {
		exag, mom := 1.0, 0.8
		if it < exaggerationIters {
			exag = exaggeration
		}
		if it < momentumIters {
			mom = 0.5
		}
		s.gradient(exag, o.Theta)
		s.step(mom, o.LearningRate)
	}
	return y, nil
}

// sparseP is the symmetric affinity matrix in compressed rows: row i's columns are
// cols[start[i]:start[i+1]], ascending, with values vals[…].
type sparseP struct {
	start []int
	cols  []int32
	vals  []float64
}

// affinities computes P over each point's ⌊3·perplexity⌋ nearest neighbours.
func affinities(x []float64, n, d int, perplexity float64) *sparseP {
	k := min(n-1, int(3*perplexity))
	nbrs := make([]int32, n*k)
	cond := make([]float64, n*k) // p(j|i) for j = nbrs[i*k+…]
	parallel.For(n, 16, func(lo, hi int) {
		h := nearest{idx: make([]int32, 0, k), dist: make([]float64, 0, k)}
		dk := make([]float64, k)
		for i := lo; i < hi; i++ {
			xi := x[i*d : (i+1)*d]
			h.idx, h.dist = h.idx[:0], h.dist[:0]
			for j := 0; j < n; j++ {
				if j == i {
					continue
				}
				s := 0.0
				for c, v := range x[j*d : (j+1)*d] {
					t := xi[c] - v
					s += t * t
				}
				h.offer(int32(j), s, k)
			}
			h.sortAscending()
			copy(nbrs[i*k:(i+1)*k], h.idx)
			copy(dk, h.dist)
			conditional(cond[i*k:(i+1)*k], dk, perplexity)
		}
	})
	return symmetrise(nbrs, cond, n, k)
}

// nearest keeps the k nearest points seen so far in a max-heap on (distance, index): the
// index breaks ties, so that the neighbours are the same whatever the order of the scan.
type nearest struct {
	idx  []int32
	dist []float64
}

func (h *nearest) less(a, b int) bool { // a is farther than b
	return h.dist[a] > h.dist[b] || (h.dist[a] == h.dist[b] && h.idx[a] > h.idx[b])
}

func (h *nearest) swap(a, b int) {
	h.idx[a], h.idx[b] = h.idx[b], h.idx[a]
	h.dist[a], h.dist[b] = h.dist[b], h.dist[a]
}

func (h *nearest) offer(j int32, d float64, k int) {
	if len(h.idx) < k {
		h.idx, h.dist = append(h.idx, j), append(h.dist, d)
		for c := len(h.idx) - 1; c > 0 && h.less(c, (c-1)/2); c = (c - 1) / 2 {
			h.swap(c, (c-1)/2)
		}
		return
	}
	if d > h.dist[0] || (d == h.dist[0] && j > h.idx[0]) {
		return
	}
	h.idx[0], h.dist[0] = j, d
	h.down(0, len(h.idx))
}

func (h *nearest) down(p, n int) {
	for {
		c := 2*p + 1
		if c >= n {
			return
		}
		if c+1 < n && h.less(c+1, c) {
			c++
		}
		if !h.less(c, p) {
			return
		}
		h.swap(c, p)
		p = c
	}
}

// sortAscending turns the heap into a list, nearest first (heap sort).
func (h *nearest) sortAscending() {
	for end := len(h.idx) - 1; end > 0; end-- {
		h.swap(0, end)
		h.down(0, end)
	}
}

// conditional sets p to p(j|i) ∝ exp(−β d_j) over one point's squared neighbour distances
// d (ascending), with β bisected until the entropy is log(perplexity) (in nats).
func conditional(p, d []float64, perplexity float64) {
	target := math.Log(perplexity)
	beta, lo, hi := 1.0, 0.0, math.Inf(1)
	for try := 0; try < 200; try++ {
		// Distances shifted by the nearest one: the same distribution, and no underflow to
		// all zeros when the distances are large.
		sum, mean := 0.0, 0.0
		for j, v := range d {
			p[j] = math.Exp(-beta * (v - d[0]))
			sum += p[j]
			mean += p[j] * (v - d[0])
		}
		mean /= sum
		h := math.Log(sum) + beta*mean // the entropy: log Z + β E[d]
		if math.Abs(h-target) < 1e-5 {
			break
		}
		if h > target { // too flat: narrow the kernel
			lo = beta
			if math.IsInf(hi, 1) {
				beta *= 2
			} else {
				beta = (beta + hi) / 2
			}
		} else {
			hi = beta
			beta = (beta + lo) / 2
		}
	}
	sum := 0.0
	for _, v := range p {
		sum += v
	}
	for j := range p {
		p[j] /= sum
	}
}

// symmetrise builds P_ij = (p(j|i) + p(i|j)) / 2n from each point's k neighbours.
func symmetrise(nbrs []int32, cond []float64, n, k int) *sparseP {
	count := make([]int, n+1)
	for i := 0; i < n; i++ {
		for _, j := range nbrs[i*k : (i+1)*k] {
			count[i+1]++
			count[j+1]++
		}
	}
	for i := 0; i < n; i++ {
		count[i+1] += count[i]
	}
	type entry struct {
		col int32
		val float64
	}
	entries := make([]entry, count[n])
	fill := slices.Clone(count[:n])
	for i := 0; i < n; i++ {
		for m, j := range nbrs[i*k : (i+1)*k] {
			v := cond[i*k+m] / float64(2*n)
			entries[fill[i]] = entry{j, v}
			fill[i]++
			entries[fill[j]] = entry{int32(i), v}
			fill[j]++
		}
	}
	p := &sparseP{start: make([]int, n+1)}
	for i := 0; i < n; i++ {
		row := entries[count[i]:count[i+1]]
		slices.SortStableFunc(row, func(a, b entry) int { return int(a.col - b.col) })
		for m := 0; m < len(row); m++ {
			e := row[m]
			for m+1 < len(row) && row[m+1].col == e.col { // i and j each other's neighbours
				m++
				e.val += row[m].val
			}
			p.cols = append(p.cols, e.col)
			p.vals = append(p.vals, e.val)
		}
		p.start[i+1] = len(p.cols)
	}
	return p
}

// solver holds the map and the descent's state.
type solver struct {
	p      *sparseP
	n      int
	y      []float64 // the map, n×2
	grad   []float64 // ∂C/∂y / 4
	rep    []float64 // Σ_j w_ij² (y_i − y_j), before division by Z
	z      []float64 // each point's Σ_j w_ij, summed in order so that Z is the same on any core count
	update []float64 // the last step, for momentum
	gains  []float64
	tree   quadtree
}

func newSolver(p *sparseP, y []float64) *solver {
	n := len(y) / 2
	s := &solver{p: p, n: n, y: y, grad: make([]float64, 2*n), rep: make([]float64, 2*n),
		z: make([]float64, n), update: make([]float64, 2*n), gains: make([]float64, 2*n)}
	for i := range s.gains {
		s.gains[i] = 1
	}
	return s
}

// gradient sets s.grad to ∂C/∂y / 4, with P exaggerated by exag.
func (s *solver) gradient(exag, theta float64) {
	s.tree.build(s.y)
	theta2 := theta * theta
	parallel.For(s.n, 64, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xi, yi := s.y[2*i], s.y[2*i+1]
			var ax, ay float64
			for m := s.p.start[i]; m < s.p.start[i+1]; m++ {
				j := int(s.p.cols[m])
				dx, dy := xi-s.y[2*j], yi-s.y[2*j+1]
				w := s.p.vals[m] / (1 + dx*dx + dy*dy)
				ax += w * dx
				ay += w * dy
			}
			s.grad[2*i], s.grad[2*i+1] = exag*ax, exag*ay
			s.rep[2*i], s.rep[2*i+1], s.z[i] = s.tree.repulsion(xi, yi, theta2)
		}
	})
	z := 0.0
	for _, v := range s.z {
		z += v
	}
	for i := range s.grad {
		s.grad[i] -= s.rep[i] / z
	}
}

// step moves the map against the gradient with momentum and per-coordinate gains (which
// grow while a coordinate keeps its direction and shrink when it turns), then centres it.
func (s *solver) step(momentum, lr float64) {
	for i, g := range s.grad {
		if (g > 0) != (s.update[i] > 0) {
			s.gains[i] += 0.2
		} else {
			s.gains[i] = max(s.gains[i]*0.8, minGain)
		}
		s.update[i] = momentum*s.update[i] - lr*s.gains[i]*g
		s.y[i] += s.update[i]
	}
	var mx, my float64
	for i := 0; i < s.n; i++ {
		mx += s.y[2*i]
		my += s.y[2*i+1]
	}
	mx /= float64(s.n)
	my /= float64(s.n)
	for i := 0; i < s.n; i++ {
		s.y[2*i] -= mx
		s.y[2*i+1] -= my
	}
}
