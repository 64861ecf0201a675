package runtime

import (
	"math/rand/v2"

	"github.com/dlc-lang/dlc/ir"
)

// Kernels of the draw ops and of stop_gradient. A draw's generator is keyed by the run's
// seed, the op's stream (unique in the module) and the program's run count, so the values
// are the same for the same seed whatever else runs, and fresh at every run.

func init() {
	register("random_normal", drawKernel(func(r *rand.Rand, op *ir.Op) func() float32 {
		mean, std := op.Attrs.Float("mean", 0), op.Attrs.Float("std", 1)
		return func() float32 { return float32(mean + std*r.NormFloat64()) }
	}))
	register("random_uniform", drawKernel(func(r *rand.Rand, op *ir.Op) func() float32 {
		lo, hi := op.Attrs.Float("low", 0), op.Attrs.Float("high", 1)
		return func() float32 { return float32(lo + (hi-lo)*r.Float64()) }
	}))
	register("random_bernoulli", drawKernel(func(r *rand.Rand, op *ir.Op) func() float32 {
		p := op.Attrs.Float("p", 0.5)
		return func() float32 {
			if r.Float64() < p {
				return 1
			}
			return 0
		}
	}))
	// stop_gradient only cuts the backward graph; forward it is the operand itself.
	register("stop_gradient", func(c *Ctx, op *ir.Op, args []*Tensor) (*Tensor, error) {
		return &Tensor{Shape: args[0].Shape, Data: args[0].Data}, nil
	})
}

// drawKernel fills a tensor of the op's shape attribute, evaluated under the run's
// bindings, with values from gen.
func drawKernel(gen func(r *rand.Rand, op *ir.Op) func() float32) Kernel {
	return func(c *Ctx, op *ir.Op, _ []*Tensor) (*Tensor, error) {
		shape, err := op.Attrs.Shape("shape").Eval(c.Env)
		if err != nil {
			return nil, opErrorf(op, "%v", err)
		}
		out := c.alloc(shape)
		stream := uint64(op.Attrs.Int("stream", 0))
		r := rand.New(rand.NewPCG(c.Seed^(stream*0x9e3779b97f4a7c15), c.Run))
		next := gen(r, op)
		for i := range out.Data {
			out.Data[i] = next()
		}
		return out, nil
	}
}
