package train

import (
	"math"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
)

// Gradient clipping, applied to a phase's gradients before its optimiser steps, as
// torch.nn.utils does it:
//
//	norm(max)   the global L2 norm over every gradient the phase has, n = √Σ g²; when
//	            n > max every gradient is scaled by max/(n + 1e-6) (clip_grad_norm_)
//	value(max)  every element clamped to [−max, max] (clip_grad_value_)
//
// The norm is summed in float64 in the phase's parameter order, so it does not depend on
// map order.

// clipGrads clips the gradients of params in grads in place, as c says; it returns the
// norm before clipping (0 for value clipping).
func clipGrads(c *ir.Clip, params []string, grads map[string]*runtime.Tensor) float64 {
	if c.Kind == "value" {
		hi := float32(c.Max)
		for _, n := range params {
			g := grads[n].Data
			for i, v := range g {
				g[i] = max(-hi, min(hi, v))
			}
		}
		return 0
	}
	norm := gradNorm(params, grads)
	if norm <= c.Max {
		return norm
	}
	scale := float32(c.Max / (norm + 1e-6))
	for _, n := range params {
		g := grads[n].Data
		for i := range g {
			g[i] *= scale
		}
	}
	return norm
}

// gradNorm is the global L2 norm of the gradients of params.
func gradNorm(params []string, grads map[string]*runtime.Tensor) float64 {
	var sum float64
	for _, n := range params {
		for _, v := range grads[n].Data {
			sum += float64(v) * float64(v)
		}
	}
	return math.Sqrt(sum)
}
