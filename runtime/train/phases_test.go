package train

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dlc-lang/dlc/runtime/data"
)

// TestPhasesUpdateWhatTheyDeclare runs one step of each phase of models with several
// phases (written in the train block, as cyclegan.dl's, or a family's) and checks that
// exactly the parameters the phase lists moved: every other parameter (the frozen
// networks') is bit for bit the same, and every listed one changed.
func TestPhasesUpdateWhatTheyDeclare(t *testing.T) {
	for _, ex := range phaseExamples {
		t.Run(ex, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("../../examples", ex))
			if err != nil {
				t.Fatal(err)
			}
			tr := compiledTrainer(t, ex, string(src))
			set := randomImages(256, 784)
			idx, draw := make([]int, 32), make([]int, 32)
			for i := range idx {
				idx[i], draw[i] = i, 255-i
			}
			for i, ph := range tr.Spec.Phases {
				before := map[string][]float32{}
				for name, v := range tr.Vars {
					before[name] = slices.Clone(v.Data)
				}
				// A second batch, in an order of its own, for the models that draw one.
				in, err := tr.feed(ph.Step, set, idx, draw)
				if err != nil {
					t.Fatalf("phase %s: %v", ph.Name, err)
				}
				if _, _, err := tr.runPhase(i, in); err != nil {
					t.Fatalf("phase %s: %v", ph.Name, err)
				}
				updates := map[string]bool{}
				for _, n := range ph.Params {
					updates[n] = true
				}
				for _, prm := range tr.Module.Params() {
					name := prm.Attrs.String("name")
					moved := !slices.Equal(before[name], tr.Vars[name].Data)
					if updates[name] && !moved {
						t.Errorf("phase %s: %s, which it updates, did not move", ph.Name, name)
					}
					if !updates[name] && moved {
						t.Errorf("phase %s: %s moved, but the phase updates only %v", ph.Name, name, ph.Params)
					}
				}
				if len(updates) == 0 {
					t.Errorf("phase %s updates nothing", ph.Name)
				}
			}
		})
	}
}

// phaseExamples are the examples whose training has several phases.
var phaseExamples = []string{"gan/cyclegan.dl", "gan/lsgan.dl", "gan/mlp.dl", "autoencoder/adversarial.dl"}

// randomImages is a set of n rows of f values in [-1, 1].
func randomImages(n, f int) *data.Set {
	rng := rand.New(rand.NewPCG(7, 7))
	x := make([]float32, n*f)
	for i := range x {
		x[i] = float32(2*rng.Float64() - 1)
	}
	return &data.Set{X: x, XShape: []int{n, f}}
}
