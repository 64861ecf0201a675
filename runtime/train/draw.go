package train

import (
	"fmt"
	"math/rand/v2"

	"github.com/dlc-lang/dlc/ir"
)

// A second, independently ordered batch. An input fed ir.FeedDraw (a CycleGAN's second,
// unpaired domain) takes at each step as many samples as the step's batch has, from the
// same training set, in a permutation of its own: drawn afresh each epoch, after the
// shuffle, from a generator of its own (keyed by the run's seed, on another stream than
// the shuffle's), and walked in step with the main order, so that the batch at positions
// [lo, hi) of the order takes positions [lo, hi) of the permutation. The phases after the
// first reuse the first one's draw, as they reuse its samples, so every input fed a draw
// in every phase of one step gets the same batch. The permutation is drawn even when the
// data is not shuffled: unpaired domains must not pair up.
//
// A checkpoint saves the generator's state at the start of the next epoch, or of the
// interrupted one, which rebuilds its permutation on resume (runState.Draw). Evaluation
// draws the test set in a fixed permutation of its own, the same after every epoch.

const (
	drawStream     = 0x64726177 // "draw": the training set's permutations
	evalDrawStream = 0x65766472 // "evdr": the test set's fixed permutation
)

// drawOrder is a run's draw generator.
type drawOrder struct {
	pcg *rand.PCG
	rng *rand.Rand
}

// draws reports whether the spec feeds any input a draw.
func (t *Trainer) draws() bool {
	_, ok := t.Spec.FeedInput(ir.FeedDraw)
	return ok
}

// drawGen returns the run's draw generator, made from the spec's seed at first use; nil
// when the spec draws nothing.
func (t *Trainer) drawGen() *drawOrder {
	if t.draw == nil && t.draws() {
		pcg := rand.NewPCG(uint64(t.Spec.Seed), drawStream)
		t.draw = &drawOrder{pcg: pcg, rng: rand.New(pcg)}
	}
	return t.draw
}

// drawPerm draws an epoch's permutation of n samples; nil when the spec draws nothing.
func (t *Trainer) drawPerm(n int) []int {
	if d := t.drawGen(); d != nil {
		return d.rng.Perm(n)
	}
	return nil
}

// drawState returns the draw generator's state, for a checkpoint; nil when the spec
// draws nothing.
func (t *Trainer) drawState() []byte {
	d := t.drawGen()
	if d == nil {
		return nil
	}
	b, _ := d.pcg.MarshalBinary()
	return b
}

// setDrawState puts the draw generator in the state b that drawState returned, as the
// run state of the checkpoint at path holds it.
func (t *Trainer) setDrawState(b []byte, path string) error {
	d := t.drawGen()
	switch {
	case d == nil && b == nil:
		return nil
	case d == nil:
		return fmt.Errorf("--resume %s: dlc.run: a draw generator, and this model draws no second batch", path)
	case b == nil:
		return fmt.Errorf("--resume %s: dlc.run: no draw generator, and this model draws a second batch", path)
	}
	if err := d.pcg.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("--resume %s: dlc.run: draw generator: %v", path, err)
	}
	return nil
}

// evalPerm returns the test set's fixed permutation of n samples; nil when the spec
// draws nothing.
func (t *Trainer) evalPerm(n int) []int {
	if !t.draws() {
		return nil
	}
	return rand.New(rand.NewPCG(uint64(t.Spec.Seed), evalDrawStream)).Perm(n)
}
