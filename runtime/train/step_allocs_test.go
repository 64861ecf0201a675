package train

import (
	"testing"

	"github.com/dlc-lang/dlc/compiler"
)

// TestTrainStepAllocs: a whole training step of the trainer (the batch gathered into the
// inputs, the step program, Adam on every parameter, the loss and metrics read back)
// allocates nothing in steady state, for a classifier and an autoencoder as dlc compiles them.
func TestTrainStepAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector")
	}
	for name, src := range map[string]string{
		"classifier": passSources["classifier"],
		"autoencoder": `encoder E(x: [B, 20]) -> [B, 4] {
    return relu(dense(x, 4))
}
decoder D(z: [B, 4]) -> [B, 20] {
    return sigmoid(dense(z, 20))
}
autoencoder AE(enc: E, dec: D) {
    loss = bce
}
train AE {
    data      = mnist(split: "train")
    optimizer = adam(lr: 1e-3)
    batch     = 8
}
`} {
		t.Run(name, func(t *testing.T) {
			tr := compiledTrainer(t, name, src)
			n := 64
			set := smallSet(n)
			idx := []int{3, 1, 4, 15, 9, 26, 5, 35}
			step := func() {
				if _, _, err := tr.StepPhase(0, set, idx); err != nil {
					t.Fatal(err)
				}
			}
			step()
			if a := testing.AllocsPerRun(20, step); a != 0 {
				t.Errorf("%.1f allocations per training step, want 0", a)
			}
		})
	}
}

// TestPassStepAllocs: a step of an epoch with a progress callback (the step, the epoch's
// sums, the running means handed to the callback) allocates nothing in steady state, for a
// classifier and a GAN, whose callback comes after its discriminator's steps only.
func TestPassStepAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector")
	}
	for name, tc := range map[string]struct {
		src   string
		phase string // the first phase, whose running mean the callback gets
	}{
		"classifier": {passSources["classifier"], "train"},
		"gan":        {passSources["gan"], "d"},
	} {
		t.Run(name, func(t *testing.T) {
			tr := compiledTrainer(t, name, tc.src)
			n := 1024 // 128 batches: the pass does not end while it is measured
			set := smallSet(n)
			order := make([]int, n)
			for i := range order {
				order[i] = (i * 7) % n
			}
			calls, done := 0, 0
			progress := func(d, total int, losses map[string]float64) {
				calls, done = calls+1, d
				if _, ok := losses[tc.phase]; !ok || total != n {
					t.Fatalf("progress(%d, %d, %v): want %d samples in all and the running loss of phase %s", d, total, losses, n, tc.phase)
				}
			}
			e, err := tr.newPass(set, order, &EpochProgress{}, progress)
			if err != nil {
				t.Fatal(err)
			}
			step := func() {
				over, err := tr.passStep(e)
				if err != nil || over {
					t.Fatalf("passStep: over %v, %v", over, err)
				}
			}
			for range 2 * len(tr.Spec.Phases) { // every phase's buffers made
				step()
			}
			if a := testing.AllocsPerRun(20, step); a != 0 {
				t.Errorf("%.1f allocations per step with a progress callback, want 0", a)
			}
			if calls == 0 || done != e.p.Samples {
				t.Errorf("progress called %d times, last at %d samples; the pass has taken %d", calls, done, e.p.Samples)
			}
		})
	}
}

// compiledTrainer compiles src (optimised, as dlc does) and returns a trainer with its
// parameters drawn from seed 1.
func compiledTrainer(t *testing.T, name, src string) *Trainer {
	t.Helper()
	m, _, err := compiler.Compile(name+".dl", []byte(src), compiler.Options{Optimize: true})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.InitParams(1); err != nil {
		t.Fatal(err)
	}
	return tr
}

// passSources are a classifier's and a GAN's (two discriminator steps to a generator step)
// sources, on samples of 20 values and 4 classes.
var passSources = map[string]string{
	"classifier": `model M(x: [B, 20]) -> [B, 4] {
    return dense(relu(dense(x, 16)), 4)
}
train M {
    data      = mnist(split: "train")
    loss      = cross_entropy
    optimizer = adam(lr: 1e-3)
    batch     = 8
}
`,
	"gan": `generator G(z: [B, 4]) -> [B, 20] {
    return dense(relu(dense(z, 16)), 20)
}
discriminator D(x: [B, 20]) -> [B, 1] {
    return dense(leaky_relu(dense(x, 16), 0.2), 1)
}
gan GAN(gen: G, disc: D) {
    noise   = normal(4)
    d_steps = 2
}
train GAN {
    data      = mnist(split: "train")
    optimizer = adam(lr: 1e-3)
    batch     = 8
}
`,
}
