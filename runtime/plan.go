package runtime

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/dlc-lang/dlc/ir"
)

// Buffer planning.
//
// Left alone, every kernel would allocate its result afresh at every run: megabytes of new,
// zeroed tensors per training step, most of them dead a few ops later. Compile instead
// assigns each result that needs storage a buffer slot, once, from the liveness of the
// values, and Run hands the slot's buffer to the kernel through Ctx.alloc; slots are kept
// from run to run, so a run in steady state allocates no tensor storage.
//
// Storage, not values, is what the plan tracks. A kernel either returns new storage (it
// calls Ctx.alloc) or, for the kinds in viewKinds, a view of its first operand; the view's
// storage is its operand's, transitively, and source values (inputs, params, consts) own
// storage the plan never touches. A storage is live until the last use of any value that
// views it; if any of those values is an output of the program, it stays live to the end
// of the run, and its slot is reused only by the next run: outputs are valid until the
// program runs again. A slot freed by step k serves steps after k, never step k itself,
// since a kernel may read its operands while it writes its result.
//
// Sizes are symbolic ([B, 512]) and only known at run time, so the plan matches sizes as
// monomials: each result's element count is a constant times a product of symbols, and a
// dead slot is reused only by a result with the same symbols (preferring the same constant,
// then the nearest larger one, then the largest smaller one, which grows). At run time a
// slot's buffer grows when a result needs more than it holds, and a smaller result (the
// last, partial batch) uses a prefix of it.
//
// An elementwise op (inPlaceKinds) whose first operand's storage dies at it, and has its
// shape, writes its result over the operand: the buffer passes from one value to the next
// without a copy, and a chain of activations and their gradients needs one buffer.
//
// A reused buffer holds the previous value's numbers. Kernels that write every element of
// their result (overwriteKinds, and every unary or pair elementwise loop) get it as it is;
// the others (sum, mean and sum_to, which accumulate, and unslice, which leaves zeros
// outside its slice) get it zeroed, exactly as a fresh allocation. TestPlanDirtyBuffers
// runs every kernel on buffers filled with NaN to prove the table right.

// viewKinds are the op kinds whose kernels return a view of their first operand: the result
// shares the operand's storage. Eval checks every result against this table.
var viewKinds = map[string]bool{"reshape": true, "stop_gradient": true}

// overwriteKinds are the op kinds whose kernels write every element of the result they
// allocate, so that a reused buffer need not be zeroed first. registerUnary and
// registerPair add their kinds.
var overwriteKinds = map[string]bool{
	"add": true, "sub": true, "mul": true, "div": true, "maximum": true, "minimum": true,
	"eq": true, "argmax": true,
	"matmul": true, "dense": true, "matmul_act_grad": true, // gemm with β = 0 stores C
	"transpose": true, "concat": true, "slice": true,
	"softmax": true, "log_softmax": true, "broadcast_like": true,
	"random_normal": true, "random_uniform": true, "random_bernoulli": true,
	"conv2d": true, "max_pool2d": true, "upsample2d": true,
	// These scatter or accumulate, but clear each plane (or image) of their result first.
	"conv_transpose2d": true, "conv2d_weight_grad": true, "max_pool2d_grad": true, "upsample2d_grad": true,
}

// never is the end of a storage that outlives the run: it holds an output.
const never = int(^uint(0) >> 1)

// sizeClass is a result's element count as a monomial: coef times the product of syms.
type sizeClass struct {
	coef int
	syms string // sorted, joined by "*"
}

func sizeClassOf(s ir.Shape) sizeClass {
	c := sizeClass{coef: 1}
	var syms []string
	for _, d := range s {
		c.coef *= d.Coef
		syms = append(syms, d.Syms...)
	}
	sort.Strings(syms)
	c.syms = strings.Join(syms, "*")
	return c
}

// planBuffers assigns a buffer slot to every step whose kernel allocates its result. lastUse
// is the step index of each value's last use (by op index) and isOutput marks the
// program's outputs.
func (p *Program) planBuffers(lastUse []int, isOutput []bool) {
	root, end := p.storageEnds(lastUse, isOutput)
	var classes []sizeClass // by slot: the largest result planned into it
	var free []int
	release := make([][]int, len(p.steps)) // by step: the slots free after it
	bufOf := make([]int, len(p.f.Ops))     // by owner: its slot
	for si := range p.steps {
		s := &p.steps[si]
		s.buf = -1
		// The buffers a pair's first step frees are not the second's to take: the two run
		// at once (pairs.go).
		releaseAfter := func() {
			if s.pair {
				release[si+1] = append(release[si+1], release[si]...)
			} else {
				free = append(free, release[si]...)
			}
		}
		if s.kernel == nil || root[s.slot] != s.slot {
			releaseAfter()
			continue
		}
		secondOfPair := si > 0 && p.steps[si-1].pair
		if p.inPlace(s, si, root, end) && !(secondOfPair && p.pairConflict(si-1, bufOf[root[s.args[0]]], root, bufOf)) {
			b := bufOf[root[s.args[0]]]
			release[si] = slices.DeleteFunc(release[si], func(c int) bool { return c == b })
			s.buf, s.inPlace = b, true
		} else {
			want := sizeClassOf(s.op.Type.Shape)
			b, at := pickSlot(classes, free, want)
			if b < 0 {
				b = len(classes)
				classes = append(classes, want)
			} else {
				free = slices.Delete(free, at, at+1)
				if want.coef > classes[b].coef {
					classes[b] = want
				}
			}
			s.buf, s.zero = b, !overwriteKinds[s.op.Kind]
		}
		bufOf[s.slot] = s.buf
		if e := end[s.slot]; e != never {
			release[e] = append(release[e], s.buf)
		}
		releaseAfter()
		if secondOfPair && p.pairConflict(si-1, s.buf, root, bufOf) {
			p.steps[si-1].pair = false // cannot happen with the release rule above; kept safe
		}
	}
	p.classes = classes
	p.bufs = make([]*Tensor, len(classes))
	for i := range p.bufs {
		p.bufs[i] = &Tensor{}
	}
}

// storageEnds returns, by op index, the op whose result owns each value's storage (-1 for
// sources and views of them) and, by owner, the last step that reads the storage through
// any value (never when one of them is an output). It marks the view steps.
func (p *Program) storageEnds(lastUse []int, isOutput []bool) (root, end []int) {
	root = make([]int, len(p.f.Ops))
	for i := range root {
		root[i] = -1
	}
	end = make([]int, len(p.f.Ops))
	for si := range p.steps {
		s := &p.steps[si]
		i := s.slot
		switch {
		case s.kernel == nil:
			continue
		case viewKinds[s.op.Kind]:
			s.view = true
			root[i] = root[s.args[0]]
		default:
			root[i] = i
		}
		r := root[i]
		if r < 0 {
			continue
		}
		e := max(lastUse[i], si)
		if isOutput[i] {
			e = never
		}
		end[r] = max(end[r], e)
	}
	return root, end
}

// inPlaceKinds are the elementwise kinds whose kernels may write their result over their
// first operand: each result element depends on the operands' elements at its own index
// only, and the loops read that element before they write it (vecmath allows dst to be an
// input). registerUnary and registerPair add their kinds.
var inPlaceKinds = map[string]bool{"add": true, "sub": true, "mul": true, "div": true, "maximum": true, "minimum": true}

// inPlace reports whether step si may write its result into its first operand's buffer:
// an elementwise kind, the operand's storage ours and dead after this step, of the
// result's shape, and no other operand reading the same storage in another shape.
func (p *Program) inPlace(s *step, si int, root, end []int) bool {
	if !inPlaceKinds[s.op.Kind] || len(s.args) == 0 {
		return false
	}
	a := s.args[0]
	r := root[a]
	if r < 0 || end[r] != si || !p.f.Ops[a].Type.Shape.Equal(s.op.Type.Shape) {
		return false
	}
	for _, b := range s.args[1:] {
		if b != a && root[b] == r {
			return false
		}
	}
	return true
}

// pickSlot chooses among the free slots one of want's symbols: the same size, else the
// smallest larger one, else the largest smaller one. It returns the slot and its index in
// free, or -1.
func pickSlot(classes []sizeClass, free []int, want sizeClass) (slot, at int) {
	slot, at = -1, -1
	better := func(c, best sizeClass) bool {
		switch {
		case best.coef == want.coef:
			return false
		case c.coef == want.coef:
			return true
		case c.coef > want.coef:
			return best.coef < want.coef || c.coef < best.coef
		default:
			return best.coef < want.coef && c.coef > best.coef
		}
	}
	for j, b := range free {
		c := classes[b]
		if c.syms != want.syms {
			continue
		}
		if slot < 0 || better(c, classes[slot]) {
			slot, at = b, j
		}
	}
	return slot, at
}

// sameStorage reports whether two slices share their backing array. Go gives no way to ask
// this of arbitrary slices; every slice the runtime makes extends to the end of its array
// (a view keeps its operand's slice, an input may be a window of a larger one), so the
// addresses of the last elements within capacity tell.
func sameStorage(a, b []float32) bool {
	if cap(a) == 0 || cap(b) == 0 {
		return false
	}
	return &a[:cap(a)][cap(a)-1] == &b[:cap(b)][cap(b)-1]
}

// PlanBytes returns the bytes of result buffers the program holds when run with the symbols
// bound as in env (B = 128): what a run at that batch size keeps between runs. Tensors the
// caller supplies (inputs, params) are not counted, nor kernels' own scratch.
func (p *Program) PlanBytes(env map[string]int) (int, error) {
	total := 0
	for _, c := range p.classes {
		n := c.coef
		if c.syms != "" {
			for _, s := range strings.Split(c.syms, "*") {
				v, ok := env[s]
				if !ok {
					return 0, fmt.Errorf("runtime: func %s: symbol %s is not bound", p.f.Name, s)
				}
				n *= v
			}
		}
		total += 4 * n
	}
	return total, nil
}

// PlannedBytes returns the bytes of the buffers the program holds between runs, at the
// largest sizes its runs so far needed.
func (p *Program) PlannedBytes() int {
	n := 0
	for _, t := range p.bufs {
		n += 4 * cap(t.Data)
	}
	return n
}
