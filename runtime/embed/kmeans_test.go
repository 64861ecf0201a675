package embed

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// blobs draws per points around each centre (dim = len(centres[0])) with standard
// deviation sd, and returns them with each point's blob.
func blobs(centres [][]float64, per int, sd float64, seed uint64) (x []float64, blob []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for b, c := range centres {
		for i := 0; i < per; i++ {
			for _, v := range c {
				x = append(x, v+sd*rng.NormFloat64())
			}
			blob = append(blob, b)
		}
	}
	return x, blob
}

// within is Σ_i ‖x_i − mean of x_i's group‖².
func within(x []float64, dim int, group []int, k int) float64 {
	mean := make([]float64, k*dim)
	count := make([]float64, k)
	for i, g := range group {
		count[g]++
		for j := 0; j < dim; j++ {
			mean[g*dim+j] += x[i*dim+j]
		}
	}
	for g := 0; g < k; g++ {
		for j := 0; j < dim; j++ {
			mean[g*dim+j] /= count[g]
		}
	}
	s := 0.0
	for i, g := range group {
		s += sqDist(x[i*dim:(i+1)*dim], mean[g*dim:(g+1)*dim])
	}
	return s
}

func TestKMeansRecoversClusters(t *testing.T) {
	cases := []struct {
		name    string
		centres [][]float64
		per     int
		sd      float64
	}{
		{"three in the plane", [][]float64{{0, 0}, {10, 0}, {0, 10}}, 50, 1},
		{"five in 20-D", func() [][]float64 {
			var cs [][]float64
			for b := 0; b < 5; b++ {
				c := make([]float64, 20)
				c[b*3] = 8
				cs = append(cs, c)
			}
			return cs
		}(), 40, 0.5},
		{"two tight blobs in 3-D", [][]float64{{-5, -5, -5}, {5, 5, 5}}, 7, 0.1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dim, k := len(tc.centres[0]), len(tc.centres)
			x, blob := blobs(tc.centres, tc.per, tc.sd, 3)
			n := len(blob)
			c, err := KMeans(x, n, dim, KMeansOptions{K: k, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if p := Purity(c.Assign, blob); p != 1 {
				t.Errorf("purity %v, want 1 (every blob its own cluster)", p)
			}
			if v := NMI(c.Assign, blob); math.Abs(v-1) > 1e-12 {
				t.Errorf("NMI %v, want 1", v)
			}
			if want := within(x, dim, blob, k); math.Abs(c.Inertia-want) > 1e-9*want {
				t.Errorf("inertia %v, want the blobs' own %v", c.Inertia, want)
			}
			if c.Restarts != 10 || c.Iterations < 1 || c.Iterations > 300 {
				t.Errorf("%d restarts, %d iterations; want 10 and 1 to 300", c.Restarts, c.Iterations)
			}
			again, _ := KMeans(x, n, dim, KMeansOptions{K: k, Seed: 1})
			if !slices.Equal(again.Assign, c.Assign) || again.Inertia != c.Inertia {
				t.Error("the same seed gave another clustering")
			}
		})
	}
}

func TestKMeansRestartsKeepTheBest(t *testing.T) {
	// Four blobs on a line, two close pairs: a bad start can split a pair. The first of
	// ten starts is the one start of the same seed, so the best of ten is never worse.
	x, _ := blobs([][]float64{{0}, {1}, {10}, {11}}, 25, 0.2, 5)
	for seed := uint64(0); seed < 5; seed++ {
		one, err := KMeans(x, 100, 1, KMeansOptions{K: 4, Restarts: 1, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		ten, _ := KMeans(x, 100, 1, KMeansOptions{K: 4, Restarts: 10, Seed: seed})
		if ten.Inertia > one.Inertia {
			t.Errorf("seed %d: 10 starts inertia %v > 1 start's %v", seed, ten.Inertia, one.Inertia)
		}
	}
}

func TestKMeansDegenerate(t *testing.T) {
	// Points that coincide: more clusters than distinct points leaves some empty, which
	// must neither panic nor lose a point.
	x := []float64{1, 1, 1, 1, 2, 2}
	c, err := KMeans(x, 3, 2, KMeansOptions{K: 3, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if c.Inertia != 0 || c.Assign[0] != c.Assign[1] || c.Assign[0] == c.Assign[2] {
		t.Errorf("got %v (inertia %v), want the two equal points together, inertia 0", c.Assign, c.Inertia)
	}
	for _, a := range c.Assign {
		if a < 0 || a >= 3 {
			t.Errorf("cluster %d out of [0, 3)", a)
		}
	}
	if c, _ := KMeans(x, 3, 2, KMeansOptions{K: 1}); math.Abs(c.Inertia-4.0/3) > 1e-12 {
		t.Errorf("k = 1: inertia %v, want 4/3 (2·2/9 + 8/9 around the mean (4/3, 4/3))", c.Inertia)
	}
}

func TestKMeansErrors(t *testing.T) {
	cases := []struct {
		x    []float64
		n, k int
		want string
	}{
		{[]float64{1, 2}, 2, 0, "k = 0, want 1 to the 2 points"},
		{[]float64{1, 2}, 2, 3, "k = 3, want 1 to the 2 points"},
		{[]float64{1, math.NaN()}, 2, 1, "point 1 holds NaN"},
		{[]float64{1, 2, 3}, 2, 1, "got 3 values, want 2 points × 1"},
	}
	for _, tc := range cases {
		if _, err := KMeans(tc.x, tc.n, 1, KMeansOptions{K: tc.k}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("KMeans(%v, k = %d): got %v, want an error containing %q", tc.x, tc.k, err, tc.want)
		}
	}
}

// TestPurityNMI checks hand-computed cases. The NMI values are scikit-learn's
// normalized_mutual_info_score (average_method="arithmetic"), MI / ((H(C) + H(L))/2) with
// natural logs, computed by hand here; scikit-learn 1.2.1 gives the same five values
// (0.5158037429793888 for the split class).
func TestPurityNMI(t *testing.T) {
	cases := []struct {
		name             string
		clusters, labels []int
		purity, nmi      float64
	}{
		// The same partition under other names.
		{"renamed", []int{0, 0, 1, 1}, []int{1, 1, 0, 0}, 1, 1},
		// One cluster for two classes: MI 0 (sklearn's docstring: 0.0).
		{"one cluster", []int{0, 0, 0, 0}, []int{0, 0, 1, 1}, 0.5, 0},
		// Both one class: sklearn's limit case, 1.0.
		{"one class, one cluster", []int{3, 3, 3}, []int{7, 7, 7}, 1, 1},
		// Clusters {0,0} {0,1} {1,1}: MI = (2/3) ln 2, H(L) = ln 2, H(C) = ln 3, so
		// NMI = (4/3) ln 2 / ln 6 = 0.5158037429793888; purity (2 + 1 + 2)/6.
		{"a split class", []int{0, 0, 1, 1, 2, 2}, []int{0, 0, 0, 1, 1, 1}, 5.0 / 6, 4.0 / 3 * math.Ln2 / math.Log(6)},
		// A cluster per point: MI = H(L) = ln 2, H(C) = ln 4: NMI = 2/3, purity 1.
		{"a cluster each", []int{0, 1, 2, 3}, []int{5, 5, 6, 6}, 1, 2.0 / 3},
		// Independent: every cluster holds each class equally, MI 0.
		{"independent", []int{0, 0, 1, 1}, []int{0, 1, 0, 1}, 0.5, 0},
	}
	for _, tc := range cases {
		if got := Purity(tc.clusters, tc.labels); math.Abs(got-tc.purity) > 1e-12 {
			t.Errorf("%s: purity %v, want %v", tc.name, got, tc.purity)
		}
		if got := NMI(tc.clusters, tc.labels); math.Abs(got-tc.nmi) > 1e-12 {
			t.Errorf("%s: NMI %v, want %v", tc.name, got, tc.nmi)
		}
		// Both are symmetric in what they compare but purity: NMI(C, L) = NMI(L, C).
		if a, b := NMI(tc.clusters, tc.labels), NMI(tc.labels, tc.clusters); math.Abs(a-b) > 1e-12 {
			t.Errorf("%s: NMI not symmetric: %v and %v", tc.name, a, b)
		}
	}
	if got := 4.0 / 3 * math.Ln2 / math.Log(6); math.Abs(got-0.5158037429793888) > 1e-15 {
		t.Errorf("the hand-computed NMI is %v, want 0.5158037429793888", got)
	}
}
