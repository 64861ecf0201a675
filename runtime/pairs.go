package runtime

import (
	"slices"

	"github.com/dlc-lang/dlc/runtime/parallel"
)

// Independent steps in pairs.
//
// A training step's backward pass computes, for each dense layer, the weight gradient
// dW = hᵀ·dz and the gradient dh = dz·Wᵀ that goes on down: two products of about the same
// size that read the same dz and do not read each other. Run one after the other, each is
// split over both cores, and each split ends in a barrier where the faster core waits. Run
// side by side, one per core, each product runs whole on its core and the two meet once.
//
// Compile finds such pairs among the heavy steps (pairKinds): for each heavy step, the next
// heavy step after it is its partner when the two are independent, and one of them can move
// next to the other without breaking the order: the partner moves up when every operand it
// reads is computed before the first, or the first moves down when nothing between them
// reads its result. The buffer plan then treats the pair as one instant: the buffers freed
// by the first step are not handed to the second, and the second does not write over an
// operand the first reads (see planBuffers). Run hands the pair to the worker pool as two
// tasks (parallel.Do), each with its own Ctx; kernels that split their work themselves
// (GEMM, conv) run serially inside a task.
//
// Two fused elementwise programs over the same number of elements, such as an
// autoencoder's loss mean(bce_logits(z, x)) and its gradient (σ(z) − x)/n, pair too, and
// run as one loop instead: block by block, the first program and then the second, so that
// z and x are read from memory once for both (the fused loss head).

// pairKinds are the kinds worth running side by side: their work dwarfs the hand-off.
var pairKinds = map[string]bool{
	"matmul": true, "dense": true, "matmul_act_grad": true,
	"conv2d": true, "conv_transpose2d": true, "conv2d_weight_grad": true,
	"fused_elementwise": true,
}

// pairState is a Program's scratch for running a pair: the second step's operands and Ctx,
// each task's result, and the two tasks, bound once so that a run allocates nothing.
type pairState struct {
	steps [2]*step
	args  []*Tensor
	ctx   Ctx
	out   [2]*Tensor
	err   [2]error
	tasks []func()
}

// pairing switches pair scheduling, for tests that compare with a serial run.
var pairing = true

// schedulePairs reorders p.steps so that pairable heavy steps are adjacent, and marks the
// first of each pair. nOps is the number of value slots.
func (p *Program) schedulePairs(nOps int) {
	if !pairing {
		return
	}
	heavy := func(s *step) bool { return s.kernel != nil && pairKinds[s.op.Kind] }
	for i := 0; i+1 < len(p.steps); i++ {
		if !heavy(&p.steps[i]) {
			continue
		}
		j := i + 1
		for j < len(p.steps) && !heavy(&p.steps[j]) {
			j++
		}
		if j == len(p.steps) {
			return
		}
		prod := p.producers(nOps)
		reads := func(s *step, slot int) bool { return slices.Contains(s.args, slot) }
		switch {
		case p.readsOnlyBefore(&p.steps[j], i, prod):
			// The partner moves up to i+1.
			s := p.steps[j]
			copy(p.steps[i+2:j+1], p.steps[i+1:j])
			p.steps[i+1] = s
		case !slices.ContainsFunc(p.steps[i+1:j+1], func(s step) bool { return reads(&s, p.steps[i].slot) }):
			// Nothing up to the partner reads the first step: it moves down to j-1.
			s := p.steps[i]
			copy(p.steps[i:j-1], p.steps[i+1:j])
			p.steps[j-1] = s
			i = j - 1
		default:
			continue
		}
		p.steps[i].pair = true
		i++
	}
}

// producers maps each value slot to the index of the step computing it (-1 for inputs).
func (p *Program) producers(nOps int) []int {
	prod := make([]int, nOps)
	for i := range prod {
		prod[i] = -1
	}
	for si, s := range p.steps {
		prod[s.slot] = si
	}
	return prod
}

// readsOnlyBefore reports whether every operand of s is computed before step i.
func (p *Program) readsOnlyBefore(s *step, i int, prod []int) bool {
	for _, a := range s.args {
		if prod[a] >= i {
			return false
		}
	}
	return true
}

// pairConflict reports whether the second step of the pair at si, planned into buffer b
// (in place when inPlace), would write storage the first step reads: then the two may not
// run at once. root maps a value to the step owning its storage, bufOf an owner to its
// buffer.
func (p *Program) pairConflict(si, b int, root, bufOf []int) bool {
	for _, a := range p.steps[si].args {
		if r := root[a]; r >= 0 && bufOf[r] == b {
			return true
		}
	}
	return false
}

// evalPair runs the pair a, b (b the step after a) and stores both results.
func (p *Program) evalPair(a, b *step) error {
	ps := &p.pair
	ps.steps = [2]*step{a, b}
	argsA, argsB := p.args[:0], ps.args[:0]
	for _, i := range a.args {
		argsA = append(argsA, p.vals[i])
	}
	for _, i := range b.args {
		argsB = append(argsB, p.vals[i])
	}
	p.args, ps.args = argsA, argsB
	if p.CheckFinite {
		for k, s := range ps.steps {
			if s.op.Kind == "fused_elementwise" {
				if err := checkElemFinite(s.op, [][]*Tensor{argsA, argsB}[k]); err != nil {
					clear(argsA)
					clear(argsB)
					return err
				}
			}
		}
	}
	ps.ctx.Env, ps.ctx.Seed, ps.ctx.Run = p.ctx.Env, p.ctx.Seed, p.ctx.Run
	p.ctx.next, ps.ctx.next = nil, nil
	if a.buf >= 0 {
		p.ctx.next, p.ctx.zero = p.bufs[a.buf], a.zero
	}
	if b.buf >= 0 {
		ps.ctx.next, ps.ctx.zero = p.bufs[b.buf], b.zero
	}
	if a.op.Kind == "fused_elementwise" && b.op.Kind == "fused_elementwise" {
		ps.out[0], ps.out[1], ps.err[0], ps.err[1] = fusedElementwisePair(&p.ctx, &ps.ctx, a.op, b.op, argsA, argsB)
	} else {
		parallel.Do(ps.tasks)
	}
	p.ctx.next, ps.ctx.next = nil, nil
	outA, errA := p.finish(a, ps.out[0], argsA, ps.err[0])
	outB, errB := p.finish(b, ps.out[1], argsB, ps.err[1])
	ps.out, ps.err, ps.steps = [2]*Tensor{}, [2]error{}, [2]*step{}
	if errA != nil {
		return errA
	}
	if errB != nil {
		return errB
	}
	p.vals[a.slot], p.vals[b.slot] = outA, outB
	for _, s := range []*step{a, b} {
		for _, j := range s.free {
			p.vals[j] = nil
		}
	}
	return nil
}

// runPairStep is task k of a pair: the kernel of the pair's step k.
func (p *Program) runPairStep(k int) {
	ps := &p.pair
	s := ps.steps[k]
	c, args := &p.ctx, p.args
	if k == 1 {
		c, args = &ps.ctx, ps.args
	}
	ps.out[k], ps.err[k] = s.kernel(c, s.op, args)
}
