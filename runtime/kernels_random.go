package runtime

import (
	"math/rand/v2"

	"github.com/dlc-lang/dlc/ir"
)

// Kernels of the draw ops and of stop_gradient. A draw's generator is keyed by the run's
// seed, the op's stream (unique in the module) and the program's run count, so the values
// are the same for the same seed whatever else runs, and fresh at every run.

func init() {
	register("random_normal", drawKernel(func(r *rand.Rand, op *ir.Op, dst []float32) {
		mean, std := op.Attrs.Float("mean", 0), op.Attrs.Float("std", 1)
		for i := range dst {
			dst[i] = float32(mean + std*r.NormFloat64())
		}
	}))
	register("random_uniform", drawKernel(func(r *rand.Rand, op *ir.Op, dst []float32) {
		lo, hi := op.Attrs.Float("low", 0), op.Attrs.Float("high", 1)
		for i := range dst {
			dst[i] = float32(lo + (hi-lo)*r.Float64())
		}
	}))
	register("random_bernoulli", drawKernel(func(r *rand.Rand, op *ir.Op, dst []float32) {
		p := op.Attrs.Float("p", 0.5)
		for i := range dst {
			dst[i] = 0
			if r.Float64() < p {
				dst[i] = 1
			}
		}
	}))
	// stop_gradient only cuts the backward graph; forward it is the operand itself.
	register("stop_gradient", func(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
		t := c.view(args[0])
		t.Shape = append(t.Shape, args[0].Shape...)
		return t, nil
	})
}

// drawKernel fills a tensor of the op's shape attribute, evaluated under the run's
// bindings, with values from fill. The generator is the Ctx's, reseeded: a rand.Rand
// keeps no state of its own beyond its source, so the values are those of a fresh one.
func drawKernel(fill func(r *rand.Rand, op *ir.Op, dst []float32)) Kernel {
	return func(c *Ctx, op *ir.Op, _ []*Tensor) (*Tensor, error) {
		var buf shapeScratch
		shape := buf[:0]
		for _, d := range op.Attrs.Shape("shape") {
			v, err := d.Eval(c.Env)
			if err != nil {
				return nil, opErrorf(op, "%v", err)
			}
			shape = append(shape, v)
		}
		out := c.alloc(shape)
		stream := uint64(op.Attrs.Int("stream", 0))
		if c.pcg == nil {
			c.pcg = rand.NewPCG(0, 0)
			c.rng = rand.New(c.pcg)
		}
		c.pcg.Seed(c.Seed^(stream*0x9e3779b97f4a7c15), c.Run)
		fill(c.rng, op, out.Data)
		return out, nil
	}
}
