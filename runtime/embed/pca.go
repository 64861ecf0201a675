// Package embed maps high-dimensional points (an autoencoder's codes) to two dimensions, for
// a scatter picture: PCA, a fast linear projection, and t-SNE, a non-linear map that keeps
// each point's near neighbours near (van der Maaten and Hinton, 2008), computed with the
// Barnes-Hut approximation (van der Maaten, 2014) so that 5,000 points take seconds. It
// also clusters them by k-means (KMeans) and scores a clustering against class labels
// (Purity, NMI).
//
// Points are n rows of d float64 values, back to back. The maps and the clustering are
// deterministic: PCA fixes the sign of each axis, and t-SNE and k-means draw their starts
// from seeded generators and split their work so that the result does not depend on the
// number of cores.
package embed

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// PCA projects the n rows of x (n×d, row-major) onto their k leading principal axes and
// returns the projections (n×k) and the variance along every one of the d axes, largest
// first (their sum is the total variance, for the share the k axes explain). Each
// axis is signed so that its largest component is positive, which makes the result the
// same on every run and machine.
func PCA(x []float64, n, d, k int) (proj, variances []float64, err error) {
	if err := checkPoints(x, n, d); err != nil {
		return nil, nil, err
	}
	if k < 1 || k > d {
		return nil, nil, fmt.Errorf("embed: pca to %d dimensions of %d, want 1 to %d", k, d, d)
	}
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range x[i*d : (i+1)*d] {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	c := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			c.Set(i, j, x[i*d+j]-mean[j])
		}
	}
	cov := mat.NewSymDense(d, nil)
	cov.SymOuterK(1/float64(max(n-1, 1)), c.T())
	var eig mat.EigenSym
	if !eig.Factorize(cov, true) {
		return nil, nil, fmt.Errorf("embed: pca: the eigen-decomposition of the %d×%d covariance did not converge", d, d)
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	order := make([]int, d)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return vals[order[a]] > vals[order[b]] })
	variances = make([]float64, d)
	for a, col := range order {
		variances[a] = math.Max(vals[col], 0)
	}
	axes := mat.NewDense(d, k, nil)
	for a := 0; a < k; a++ {
		col := order[a]
		big, sign := 0.0, 1.0
		for j := 0; j < d; j++ {
			if v := vecs.At(j, col); math.Abs(v) > big {
				big, sign = math.Abs(v), math.Copysign(1, v)
			}
		}
		for j := 0; j < d; j++ {
			axes.Set(j, a, sign*vecs.At(j, col))
		}
	}
	var p mat.Dense
	p.Mul(c, axes)
	return p.RawMatrix().Data, variances, nil
}

// checkPoints refuses an empty, misshapen or non-finite point set.
func checkPoints(x []float64, n, d int) error {
	switch {
	case n < 1 || d < 1:
		return fmt.Errorf("embed: %d points of %d values, want at least one of each", n, d)
	case len(x) != n*d:
		return fmt.Errorf("embed: %d values for %d points of %d, want %d", len(x), n, d, n*d)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("embed: point %d, value %d is %v, want finite values", i/d, i%d, v)
		}
	}
	return nil
}
