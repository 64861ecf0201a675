package train

import (
	"math"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
)

// The optimiser tests run three steps on one four-element parameter with fixed gradients.
var (
	optP0    = []float64{1, -2, 3, 0.5}
	optGrads = [3][]float64{
		{0.1, -0.2, 0.3, -0.4},
		{0.5, 0.25, -0.125, 0},
		{-1, 2, -3, 4},
	}
)

// sgdByHand is torch.optim.SGD's update written out per element in float64.
func sgdByHand(lr, mom, damp, wd float64, nesterov bool) [3][]float64 {
	p := append([]float64(nil), optP0...)
	buf := make([]float64, len(p))
	var out [3][]float64
	for t, grad := range optGrads {
		for i := range p {
			g := grad[i] + wd*p[i]
			if mom != 0 {
				if t == 0 {
					buf[i] = g
				} else {
					buf[i] = mom*buf[i] + (1-damp)*g
				}
				if nesterov {
					g += mom * buf[i]
				} else {
					g = buf[i]
				}
			}
			p[i] -= lr * g
		}
		out[t] = append([]float64(nil), p...)
	}
	return out
}

// adamByHand is Adam (Kingma & Ba, algorithm 1) with torch's eps placement and either L2 or
// decoupled (AdamW) weight decay, per element in float64.
func adamByHand(lr, b1, b2, eps, wd float64, decoupled bool) [3][]float64 {
	p := append([]float64(nil), optP0...)
	m := make([]float64, len(p))
	v := make([]float64, len(p))
	var out [3][]float64
	for t, grad := range optGrads {
		step := float64(t + 1)
		for i := range p {
			g := grad[i]
			if decoupled {
				p[i] *= 1 - lr*wd
			} else {
				g += wd * p[i]
			}
			m[i] = b1*m[i] + (1-b1)*g
			v[i] = b2*v[i] + (1-b2)*g*g
			mhat := m[i] / (1 - math.Pow(b1, step))
			vhat := v[i] / (1 - math.Pow(b2, step))
			p[i] -= lr * mhat / (math.Sqrt(vhat) + eps)
		}
		out[t] = append([]float64(nil), p...)
	}
	return out
}

var optimCases = []struct {
	name   string
	spec   ir.OptSpec
	byHand [3][]float64
	// torch holds the parameter after each step as computed by PyTorch 1.13 (float32) with
	// the same start, gradients and hyperparameters:
	//	p = torch.tensor(optP0, requires_grad=True); opt = torch.optim.X([p], ...)
	//	for g in optGrads: p.grad = torch.tensor(g); opt.step(); print(p)
	torch [3][]float64
}{
	{
		name:   "sgd",
		spec:   ir.OptSpec{Name: "sgd", Args: map[string]float64{"lr": 0.1}},
		byHand: sgdByHand(0.1, 0, 0, 0, false),
		// torch.optim.SGD([p], lr=0.1)
		torch: [3][]float64{
			{0.9900000095367432, -1.9800000190734863, 2.9700000286102295, 0.5400000214576721},
			{0.9399999976158142, -2.005000114440918, 2.9825000762939453, 0.5400000214576721},
			{1.0399999618530273, -2.205000162124634, 3.2825000286102295, 0.14000001549720764},
		},
	},
	{
		name: "sgd momentum",
		spec: ir.OptSpec{Name: "sgd", Args: map[string]float64{
			"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}},
		byHand: sgdByHand(0.1, 0.9, 0.1, 0.01, false),
		// torch.optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)
		torch: [3][]float64{
			{0.9890000224113464, -1.9780000448226929, 2.9670000076293945, 0.5394999980926514},
			{0.9332098960876465, -1.9789198637008667, 2.9458796977996826, 0.5745644569396973},
			{0.9721589088439941, -2.1579666137695312, 3.1942200660705566, 0.24560536444187164},
		},
	},
	{
		name: "sgd nesterov",
		spec: ir.OptSpec{Name: "sgd", Args: map[string]float64{
			"lr": 0.1, "momentum": 0.9, "nesterov": 1, "weight_decay": 0.01}},
		byHand: sgdByHand(0.1, 0.9, 0, 0.01, true),
		// torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
		torch: [3][]float64{
			{0.9790999889373779, -1.9581999778747559, 2.937299966812134, 0.5750499963760376},
			{0.8733296990394592, -1.9841593503952026, 2.928739070892334, 0.6059523820877075},
			{1.01235830783844, -2.3630154132843018, 3.476863145828247, -0.12686923146247864},
		},
	},
	{
		name: "adam",
		spec: ir.OptSpec{Name: "adam", Args: map[string]float64{
			"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1}},
		byHand: adamByHand(0.01, 0.9, 0.999, 1e-8, 0.1, false),
		// torch.optim.Adam([p], lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
		torch: [3][]float64{
			{0.9900000095367432, -1.9900000095367432, 2.990000009536743, 0.5099999904632568},
			{0.9808201789855957, -1.9842948913574219, 2.9814913272857666, 0.5155569911003113},
			{0.9819855093955994, -1.989566683769226, 2.9862351417541504, 0.5095662474632263},
		},
	},
	{
		name:   "adamw",
		spec:   ir.OptSpec{Name: "adamw", Args: map[string]float64{"lr": 0.01, "weight_decay": 0.1}},
		byHand: adamByHand(0.01, 0.9, 0.999, 1e-8, 0.1, true),
		// torch.optim.AdamW([p], lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
		torch: [3][]float64{
			{0.9890000224113464, -1.9880000352859497, 2.986999988555908, 0.5095000267028809},
			{0.9794005751609802, -1.9876394271850586, 2.98069167137146, 0.5156911015510559},
			{0.9810906052589417, -1.9921585321426392, 2.983785629272461, 0.5093337893486023},
		},
	},
	{
		// Small betas and a large eps make the bias corrections and eps visible.
		name:   "adam small betas",
		spec:   ir.OptSpec{Name: "adam", Args: map[string]float64{"lr": 0.5, "beta1": 0.5, "beta2": 0.75, "eps": 1e-3}},
		byHand: adamByHand(0.5, 0.5, 0.75, 1e-3, 0, false),
		// torch.optim.Adam([p], lr=0.5, betas=(0.5, 0.75), eps=1e-3)
		torch: [3][]float64{
			{0.5049505233764648, -1.5024875402450562, 2.5016610622406006, 0.9987531304359436},
			{0.02825489640235901, -1.7190251350402832, 2.463599681854248, 1.252372145652771},
			{0.31623584032058716, -2.1656057834625244, 2.894563913345337, 0.8300976753234863},
		},
	},
}

func optTensor(xs []float64) *runtime.Tensor {
	t := runtime.NewTensor(len(xs))
	for i, x := range xs {
		t.Data[i] = float32(x)
	}
	return t
}

func TestOptimNumerics(t *testing.T) {
	for _, c := range optimCases {
		t.Run(c.name, func(t *testing.T) {
			opt, err := NewOptimizer(c.spec)
			if err != nil {
				t.Fatal(err)
			}
			params := map[string]*runtime.Tensor{"w": optTensor(optP0)}
			for step, g := range optGrads {
				if err := opt.Step(params, map[string]*runtime.Tensor{"w": optTensor(g)}); err != nil {
					t.Fatal(err)
				}
				for i, got := range params["w"].Data {
					// float32 arithmetic against a float64 derivation: a few ulps of the
					// values involved.
					if want := c.byHand[step][i]; !closeTo(float64(got), want, 1e-6) {
						t.Errorf("step %d: w[%d] = %.9g, by hand %.9g", step+1, i, got, want)
					}
					if want := c.torch[step][i]; !closeTo(float64(got), want, 1e-6) {
						t.Errorf("step %d: w[%d] = %.9g, torch %.9g", step+1, i, got, want)
					}
				}
			}
		})
	}
}

func closeTo(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

// TestOptimQuadratic minimises ½·Σ aᵢ(wᵢ - cᵢ)², an ill-conditioned bowl, with each optimiser.
func TestOptimQuadratic(t *testing.T) {
	a := []float32{1, 4, 0.25, 2, 0.5}
	c := []float32{1, -2, 3, 0.5, -1}
	loss := func(w []float32) float64 {
		var l float64
		for i := range w {
			d := float64(w[i] - c[i])
			l += 0.5 * float64(a[i]) * d * d
		}
		return l
	}
	for _, tc := range []struct {
		spec  ir.OptSpec
		steps int
		bound float64
	}{
		{ir.OptSpec{Name: "sgd", Args: map[string]float64{"lr": 0.2}}, 200, 1e-6},
		{ir.OptSpec{Name: "sgd", Args: map[string]float64{"lr": 0.1, "momentum": 0.9}}, 200, 1e-6},
		{ir.OptSpec{Name: "sgd", Args: map[string]float64{"lr": 0.1, "momentum": 0.9, "nesterov": 1}}, 200, 1e-6},
		{ir.OptSpec{Name: "adam", Args: map[string]float64{"lr": 0.05}}, 500, 1e-4},
		{ir.OptSpec{Name: "adamw", Args: map[string]float64{"lr": 0.05, "weight_decay": 0}}, 500, 1e-4},
	} {
		opt, err := NewOptimizer(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		w := runtime.NewTensor(len(a))
		grad := runtime.NewTensor(len(a))
		params, grads := map[string]*runtime.Tensor{"w": w}, map[string]*runtime.Tensor{"w": grad}
		start := loss(w.Data)
		for range tc.steps {
			for i := range w.Data {
				grad.Data[i] = a[i] * (w.Data[i] - c[i])
			}
			if err := opt.Step(params, grads); err != nil {
				t.Fatal(err)
			}
		}
		if l := loss(w.Data); !(l < tc.bound) {
			t.Errorf("%s %v: loss %g → %g after %d steps, want < %g", tc.spec.Name, tc.spec.Args, start, l, tc.steps, tc.bound)
		}
	}
}

func TestOptimErrors(t *testing.T) {
	pos := ir.Pos{File: "ae.dl", Line: 12, Col: 14}
	for _, c := range []struct {
		spec ir.OptSpec
		want string
	}{
		{ir.OptSpec{Name: "adamx", Pos: pos}, `ae.dl:12:14: unknown optimizer "adamx" (want sgd, adam, adamw)`},
		{ir.OptSpec{Name: "adam", Args: map[string]float64{"betta1": 0.9}, Pos: pos},
			`ae.dl:12:14: adam: unknown argument "betta1" (want lr, beta1, beta2, eps, weight_decay)`},
		{ir.OptSpec{Name: "sgd", Args: map[string]float64{"lr": -1}},
			`sgd: lr: got -1, want a finite value >= 0`},
		{ir.OptSpec{Name: "sgd", Args: map[string]float64{"lr": math.NaN()}},
			`sgd: lr: got NaN, want a finite value >= 0`},
		{ir.OptSpec{Name: "adamw", Args: map[string]float64{"beta2": 1}},
			`adamw: beta2: got 1, want a value in [0, 1)`},
		{ir.OptSpec{Name: "adam", Args: map[string]float64{"beta1": -0.1}},
			`adam: beta1: got -0.1, want a value in [0, 1)`},
		{ir.OptSpec{Name: "sgd", Args: map[string]float64{"nesterov": 0.5}},
			`sgd: nesterov: got 0.5, want 0 or 1`},
		{ir.OptSpec{Name: "sgd", Args: map[string]float64{"nesterov": 1}},
			`sgd: nesterov needs momentum > 0 and dampening 0, got momentum 0, dampening 0`},
		{ir.OptSpec{Name: "sgd", Args: map[string]float64{"momentum": 0.9, "beta1": 0.9}},
			`sgd: unknown argument "beta1" (want lr, momentum, dampening, nesterov, weight_decay)`},
	} {
		_, err := NewOptimizer(c.spec)
		if err == nil || err.Error() != c.want {
			t.Errorf("NewOptimizer(%s %v): got error %v, want %q", c.spec.Name, c.spec.Args, err, c.want)
		}
	}
}

func TestOptimDefaults(t *testing.T) {
	for _, c := range []struct {
		name string
		want Optimizer
	}{
		{"sgd", &SGD{LR: 0.01}},
		{"adam", &Adam{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}},
		{"adamw", &Adam{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01, Decoupled: true}},
	} {
		opt, err := NewOptimizer(ir.OptSpec{Name: c.name})
		if err != nil {
			t.Fatal(err)
		}
		if opt.Name() != c.name {
			t.Errorf("Name() = %q, want %q", opt.Name(), c.name)
		}
		switch want := c.want.(type) {
		case *SGD:
			if got := *opt.(*SGD); got.LR != want.LR || got.Momentum != 0 || got.Nesterov || got.WeightDecay != 0 {
				t.Errorf("%s defaults: got %+v, want %+v", c.name, got, *want)
			}
		case *Adam:
			got := *opt.(*Adam)
			if got.LR != want.LR || got.Beta1 != want.Beta1 || got.Beta2 != want.Beta2 || got.Eps != want.Eps ||
				got.WeightDecay != want.WeightDecay || got.Decoupled != want.Decoupled {
				t.Errorf("%s defaults: got %+v, want %+v", c.name, got, *want)
			}
		}
	}
}

func TestOptimStepErrors(t *testing.T) {
	opt, err := NewOptimizer(ir.OptSpec{Name: "adam"})
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]*runtime.Tensor{"a": optTensor([]float64{1, 2}), "b": optTensor([]float64{3})}
	for _, c := range []struct {
		grads map[string]*runtime.Tensor
		want  string
	}{
		{map[string]*runtime.Tensor{"a": optTensor([]float64{1, 1}), "c": optTensor([]float64{1})},
			`runtime: adam: gradient for unknown parameter "c"`},
		{map[string]*runtime.Tensor{"a": optTensor([]float64{1, 1}), "b": optTensor([]float64{1, 1})},
			`runtime: adam: gradient of b: got [2] (2 elements), want [1]`},
		{map[string]*runtime.Tensor{"a": nil},
			`runtime: adam: gradient of a: got nil, want [2]`},
	} {
		err := opt.Step(params, c.grads)
		if err == nil || err.Error() != c.want {
			t.Errorf("Step: got error %v, want %q", err, c.want)
		}
	}
	if a, b := params["a"].Data, params["b"].Data; a[0] != 1 || a[1] != 2 || b[0] != 3 {
		t.Errorf("failed Steps changed the parameters: a %v, b %v", a, b)
	}
	if st := opt.State(); len(st) != 0 {
		t.Errorf("failed Steps left state %v", st)
	}
}

// TestOptimFrozen checks that a parameter without a gradient is untouched and that its step
// count (and so its bias correction) does not advance.
func TestOptimFrozen(t *testing.T) {
	opt, _ := NewOptimizer(ir.OptSpec{Name: "adam", Args: map[string]float64{"lr": 0.1}})
	params := map[string]*runtime.Tensor{"a": optTensor([]float64{1}), "b": optTensor([]float64{1})}
	g := optTensor([]float64{0.5})
	must(t, opt.Step(params, map[string]*runtime.Tensor{"a": g, "b": g}))
	must(t, opt.Step(params, map[string]*runtime.Tensor{"a": g}))
	if got := params["b"].Data[0]; !closeTo(float64(got), 0.9, 1e-6) {
		t.Errorf("frozen b = %v, want 0.9 (one step of lr 0.1)", got)
	}
	st := opt.State()
	if a, b := st["adam.step/a"].Data[0], st["adam.step/b"].Data[0]; a != 2 || b != 1 {
		t.Errorf("step counts a %v, b %v, want 2, 1", a, b)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestOptimState checks that an optimiser rebuilt from State continues exactly as the
// original would have.
func TestOptimState(t *testing.T) {
	for _, c := range optimCases {
		t.Run(c.name, func(t *testing.T) {
			orig, _ := NewOptimizer(c.spec)
			p1 := map[string]*runtime.Tensor{"Enc.dense0.weight": optTensor(optP0)}
			grad := func(i int) map[string]*runtime.Tensor {
				return map[string]*runtime.Tensor{"Enc.dense0.weight": optTensor(optGrads[i])}
			}
			must(t, orig.Step(p1, grad(0)))
			must(t, orig.Step(p1, grad(1)))

			st := orig.State()
			for k := range st {
				if !strings.HasPrefix(k, c.spec.Name+".") || !strings.HasSuffix(k, "/Enc.dense0.weight") {
					t.Errorf("state name %q, want %s.SLOT/Enc.dense0.weight", k, c.spec.Name)
				}
			}
			resumed, _ := NewOptimizer(c.spec)
			must(t, resumed.SetState(st))
			p2 := map[string]*runtime.Tensor{"Enc.dense0.weight": p1["Enc.dense0.weight"].Clone()}

			must(t, orig.Step(p1, grad(2)))
			must(t, resumed.Step(p2, grad(2)))
			for i := range p1["Enc.dense0.weight"].Data {
				if a, b := p1["Enc.dense0.weight"].Data[i], p2["Enc.dense0.weight"].Data[i]; a != b {
					t.Errorf("w[%d]: uninterrupted %v, resumed %v", i, a, b)
				}
			}
		})
	}
	names := func(opt Optimizer) string { return strings.Join(optimSortedNames(opt.State()), " ") }
	adam, _ := NewOptimizer(ir.OptSpec{Name: "adam"})
	must(t, adam.Step(map[string]*runtime.Tensor{"w": optTensor([]float64{1})}, map[string]*runtime.Tensor{"w": optTensor([]float64{1})}))
	if got, want := names(adam), "adam.m/w adam.step/w adam.v/w"; got != want {
		t.Errorf("adam state names %q, want %q", got, want)
	}
	sgd, _ := NewOptimizer(ir.OptSpec{Name: "sgd", Args: map[string]float64{"momentum": 0.5}})
	must(t, sgd.Step(map[string]*runtime.Tensor{"w": optTensor([]float64{1})}, map[string]*runtime.Tensor{"w": optTensor([]float64{1})}))
	if got, want := names(sgd), "sgd.momentum/w"; got != want {
		t.Errorf("sgd state names %q, want %q", got, want)
	}
}

func TestOptimSetStateErrors(t *testing.T) {
	one := optTensor([]float64{1})
	for _, c := range []struct {
		opt  string
		st   map[string]*runtime.Tensor
		want string
	}{
		{"adam", map[string]*runtime.Tensor{"adam.mom/w": one},
			`runtime: adam: unknown state "adam.mom/w" (want adam.m/PARAM, adam.v/PARAM, adam.step/PARAM)`},
		{"adamw", map[string]*runtime.Tensor{"adam.m/w": one},
			`runtime: adamw: unknown state "adam.m/w" (want adamw.m/PARAM, adamw.v/PARAM, adamw.step/PARAM)`},
		{"adam", map[string]*runtime.Tensor{"adam.m/w": one, "adam.v/w": one},
			`runtime: adam: state for "w": want adam.m, adam.v and adam.step together`},
		{"adam", map[string]*runtime.Tensor{"adam.m/w": one, "adam.v/w": one, "adam.step/w": optTensor([]float64{0.5})},
			`runtime: adam: state "adam.step/w": got [0.5], want one whole step count >= 1`},
		{"sgd", map[string]*runtime.Tensor{"sgd.momentum/w": nil},
			`runtime: sgd: state "sgd.momentum/w" is nil`},
	} {
		opt, _ := NewOptimizer(ir.OptSpec{Name: c.opt})
		if err := opt.SetState(c.st); err == nil || err.Error() != c.want {
			t.Errorf("%s.SetState: got error %v, want %q", c.opt, err, c.want)
		}
	}
	// A restored buffer of the wrong shape is caught at the next Step, before any update.
	opt, _ := NewOptimizer(ir.OptSpec{Name: "sgd", Args: map[string]float64{"momentum": 0.9}})
	must(t, opt.SetState(map[string]*runtime.Tensor{"sgd.momentum/w": optTensor([]float64{1, 2})}))
	w := optTensor([]float64{1})
	err := opt.Step(map[string]*runtime.Tensor{"w": w}, map[string]*runtime.Tensor{"w": one})
	if want := `runtime: sgd: state sgd.momentum/w: got [2], want [1]`; err == nil || err.Error() != want {
		t.Errorf("Step: got error %v, want %q", err, want)
	}
	if w.Data[0] != 1 {
		t.Errorf("failed Step changed w to %v", w.Data[0])
	}

	// Nor does it create state for the parameters sorted before the bad one.
	adam, _ := NewOptimizer(ir.OptSpec{Name: "adam"})
	two := optTensor([]float64{1, 2})
	must(t, adam.SetState(map[string]*runtime.Tensor{"adam.m/w": two, "adam.v/w": one, "adam.step/w": one}))
	a := optTensor([]float64{1})
	err = adam.Step(map[string]*runtime.Tensor{"a": a, "w": w}, map[string]*runtime.Tensor{"a": one, "w": one})
	if want := `runtime: adam: state adam.m/w: got [2], want [1]`; err == nil || err.Error() != want {
		t.Errorf("Step: got error %v, want %q", err, want)
	}
	if got := strings.Join(optimSortedNames(adam.State()), " "); got != "adam.m/w adam.step/w adam.v/w" || a.Data[0] != 1 {
		t.Errorf("failed Step left state %q and a = %v, want only w's state and a = 1", got, a.Data[0])
	}
}

func BenchmarkOptimAdam(b *testing.B) {
	// ~400k parameters, the size of a small MNIST autoencoder.
	params := map[string]*runtime.Tensor{"Enc.dense0.weight": runtime.NewTensor(784, 256), "Dec.dense0.weight": runtime.NewTensor(256, 784)}
	grads := map[string]*runtime.Tensor{}
	for n, p := range params {
		g := runtime.NewTensor(p.Shape...)
		for i := range g.Data {
			g.Data[i] = float32(i%7) - 3
		}
		grads[n] = g
	}
	opt, _ := NewOptimizer(ir.OptSpec{Name: "adam"})
	b.SetBytes(int64(4 * 4 * 2 * 784 * 256)) // p, g, m, v
	for b.Loop() {
		if err := opt.Step(params, grads); err != nil {
			b.Fatal(err)
		}
	}
}
