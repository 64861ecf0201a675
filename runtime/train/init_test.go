package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func newTestRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x646c63)) }

func TestInitFans(t *testing.T) {
	for _, c := range []struct {
		shape       []int
		fanIn, fout int
	}{
		{nil, 1, 1},
		{[]int{7}, 7, 7},
		{[]int{784, 256}, 784, 256},            // dense [in, out]
		{[]int{32, 16, 3, 3}, 144, 288},        // conv2d [out, in, kh, kw]
		{[]int{8, 4, 5}, 20, 40},               // conv1d
		{[]int{8, 4, 2, 3, 3}, 4 * 18, 8 * 18}, // conv3d
	} {
		in, out := Fans(c.shape)
		if in != c.fanIn || out != c.fout {
			t.Errorf("Fans(%v) = %d, %d, want %d, %d", c.shape, in, out, c.fanIn, c.fout)
		}
	}
}

func TestInitConstant(t *testing.T) {
	for _, c := range []struct {
		init string
		want float32
	}{{"zeros", 0}, {"ones", 1}, {" ones ", 1}} {
		x, err := InitTensor(c.init, []int{3, 4}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(x.Shape, []int{3, 4}) || len(x.Data) != 12 {
			t.Fatalf("%s: got shape %v with %d elements, want [3, 4] with 12", c.init, x.Shape, len(x.Data))
		}
		for _, v := range x.Data {
			if v != c.want {
				t.Fatalf("%s: got element %v, want %v", c.init, v, c.want)
			}
		}
	}
}

// TestInitDistributions draws 100k samples per initialiser and checks the bound of the
// uniform ones, the mean, and the standard deviation to within 5%.
func TestInitDistributions(t *testing.T) {
	dense := []int{400, 250} // fan_in 400, fan_out 250
	conv := []int{50, 20, 10, 10}
	for _, c := range []struct {
		init  string
		shape []int
		bound float64 // 0 for unbounded
		std   float64
	}{
		{"glorot_uniform", dense, math.Sqrt(6.0 / 650), math.Sqrt(6.0/650) / math.Sqrt(3)},
		{"xavier_uniform", dense, math.Sqrt(6.0 / 650), math.Sqrt(6.0/650) / math.Sqrt(3)},
		{"glorot_uniform", conv, math.Sqrt(6.0 / 7000), math.Sqrt(6.0/7000) / math.Sqrt(3)},
		{"glorot_normal", dense, 0, math.Sqrt(2.0 / 650)},
		{"he_uniform", dense, math.Sqrt(6.0 / 400), math.Sqrt(2.0 / 400)},
		{"he_uniform", conv, math.Sqrt(6.0 / 2000), math.Sqrt(2.0 / 2000)},
		{"he_normal", dense, 0, math.Sqrt(2.0 / 400)},
		{"kaiming_normal", conv, 0, math.Sqrt(2.0 / 2000)},
		{"normal", dense, 0, 0.02},
		{"normal(0.1)", dense, 0, 0.1},
		{"normal( 1e-3 )", dense, 0, 1e-3},
		{"uniform", dense, 0.05, 0.05 / math.Sqrt(3)},
		{"uniform(0.1)", dense, 0.1, 0.1 / math.Sqrt(3)},
	} {
		x, err := InitTensor(c.init, c.shape, newTestRand(1))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(x.Shape, c.shape) || len(x.Data) != 100_000 {
			t.Fatalf("%s: got shape %v with %d elements, want %v with 100000", c.init, x.Shape, len(x.Data), c.shape)
		}
		var sum, sq float64
		for _, v := range x.Data {
			if c.bound > 0 && math.Abs(float64(v)) > c.bound {
				t.Fatalf("%s %v: got element %v, want |x| <= %v", c.init, c.shape, v, c.bound)
			}
			sum += float64(v)
			sq += float64(v) * float64(v)
		}
		n := float64(len(x.Data))
		mean := sum / n
		std := math.Sqrt(sq/n - mean*mean)
		if math.Abs(std-c.std) > 0.05*c.std {
			t.Errorf("%s %v: got std %.4g, want %.4g ± 5%%", c.init, c.shape, std, c.std)
		}
		// The standard error of the mean is std/√n ≈ 0.003·std; allow five of them.
		if math.Abs(mean) > 5*c.std/math.Sqrt(n) {
			t.Errorf("%s %v: got mean %.3g, want 0 (std %.3g)", c.init, c.shape, mean, c.std)
		}
	}
}

func TestInitDeterministic(t *testing.T) {
	for _, init := range []string{"glorot_uniform", "he_normal", "normal(0.02)"} {
		a, _ := InitTensor(init, []int{30, 20}, newTestRand(42))
		b, _ := InitTensor(init, []int{30, 20}, newTestRand(42))
		c, _ := InitTensor(init, []int{30, 20}, newTestRand(43))
		if !slices.Equal(a.Data, b.Data) {
			t.Errorf("%s: two draws with seed 42 differ", init)
		}
		if slices.Equal(a.Data, c.Data) {
			t.Errorf("%s: seeds 42 and 43 give the same tensor", init)
		}
	}
}

func TestInitErrors(t *testing.T) {
	const want = "want zeros, ones, glorot_uniform, glorot_normal, he_uniform, he_normal, normal(std), uniform(limit)"
	rng := newTestRand(1)
	for _, c := range []struct {
		init  string
		shape []int
		rng   *rand.Rand
		want  string
	}{
		{"glorot", []int{2, 2}, rng, `runtime: init: unknown initializer "glorot" (` + want + `)`},
		{"", []int{2, 2}, rng, `runtime: init: unknown initializer "" (` + want + `)`},
		{"normal(0.1", []int{2}, rng, `runtime: init: "normal(0.1": missing closing parenthesis`},
		{"normal(abc)", []int{2}, rng, `runtime: init: "normal(abc)": got argument "abc", want one number`},
		{"normal(0.1, 0.2)", []int{2}, rng, `runtime: init: "normal(0.1, 0.2)": got argument "0.1, 0.2", want one number`},
		{"normal(-1)", []int{2}, rng, `runtime: init: normal: std: got -1, want a finite value >= 0`},
		{"uniform(Inf)", []int{2}, rng, `runtime: init: uniform: limit: got +Inf, want a finite value >= 0`},
		{"zeros(1)", []int{2}, rng, `runtime: init: zeros takes no argument, got "zeros(1)"`},
		{"he_normal", []int{2, -1}, rng, `runtime: init: he_normal: got shape [2, -1], want no negative dimension`},
		{"he_normal", []int{2, 2}, nil, `runtime: init: he_normal needs a random source, got nil`},
	} {
		_, err := InitTensor(c.init, c.shape, c.rng)
		if err == nil || err.Error() != c.want {
			t.Errorf("InitTensor(%q, %v): got error %v, want %q", c.init, c.shape, err, c.want)
		}
	}
}
