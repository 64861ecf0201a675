package train

import (
	"errors"
	"fmt"
	"math"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
)

// Learning-rate schedules, one per phase that sets one, under schema.Schedules' names.
// Each sets its phase's rate at the start of every epoch e = 1, 2, … from the rate the
// optimiser was built with (base), as a PyTorch scheduler stepped once an epoch does:
//
//	step(every, gamma)             base·gamma^⌊(e−1)/every⌋                    (StepLR)
//	exponential(gamma)             base·gamma^(e−1)                            (ExponentialLR)
//	cosine(warmup, min_lr, epochs) base·e/(warmup+1) for e ≤ warmup, then
//	                               min_lr + (base−min_lr)·(1+cos(π·(e−1−warmup)/(T−warmup)))/2,
//	                               T = epochs, or the run's epochs when 0     (CosineAnnealingLR)
//	plateau(patience, factor, …)   base·scale, scale multiplied by factor after patience epochs
//	                               in which its monitor did not improve, the rate kept ≥ min_lr
//	                               (ReduceLROnPlateau)
//
// With interval: "step" (ir.Schedule.PerStep) e counts the phase's optimiser steps
// instead, and the rate is set before each of them (Trainer.runPhase), as a Lightning
// scheduler of interval "step"; warmup, every and a cosine's T (which must be given) are
// then in steps. A plateau always counts epochs.
//
// All but plateau are functions of the epoch alone (or of the phase's step count, which the
// checkpoint's run state keeps), so a resumed run gets the same rates; a plateau's scale
// and its monitor's standing go in the checkpoint's run state too (resume.go).

// schedule is one phase's schedule at run time.
type schedule struct {
	spec   *ir.Schedule
	args   map[string]float64 // every argument, the defaults filled in
	base   float64
	epochs int // the run's epochs, for a cosine of epochs 0
	// plateau: the factor so far, and its monitor's standing
	scale float64
	watch *monitorState
}

// newSchedule checks a phase's schedule against schema.Schedules (a module read from its
// text form has not been checked by the compiler) and starts it at the optimiser's rate.
func newSchedule(sc *ir.Schedule, base float64, epochs int) (*schedule, error) {
	fail := func(format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		if sc.Pos.IsValid() {
			msg = sc.Pos.String() + ": " + msg
		}
		return errors.New(msg)
	}
	call, ok := schema.Find(schema.Schedules, sc.Name)
	if !ok {
		return nil, fail("unknown schedule %q (want %s)", sc.Name, schema.OrList(schema.CallNames(schema.Schedules)))
	}
	nums := map[string]float64{}
	for k, v := range sc.Args {
		if a, ok := call.Arg(k); ok && (a.Kind == schema.Int || a.Kind == schema.Float) {
			nums[k] = v
		} else {
			return nil, fail("schedule %s: unknown argument %q (want %s)", sc.Name, k, schema.OrList(call.ArgNames()))
		}
	}
	for i := range call.Args {
		a := &call.Args[i]
		if a.Kind != schema.Int && a.Kind != schema.Float {
			continue
		}
		if _, ok := nums[a.Name]; !ok && a.Required {
			return nil, fail("schedule %s: missing argument %s", sc.Name, a.Name)
		}
	}
	vals, err := callArgs(&schema.Call{Name: call.Name, Args: numericArgs(call)}, nums)
	if err != nil {
		return nil, fail("schedule %v", err)
	}
	if call.Check != nil {
		if _, msg := call.Check(vals); msg != "" {
			return nil, fail("schedule %s: %s", call.Name, msg)
		}
	}
	s := &schedule{spec: sc, args: vals, base: base, epochs: epochs, scale: 1}
	if sc.Name == "plateau" {
		if sc.Monitor == nil {
			return nil, fail("schedule plateau: no monitor")
		}
		s.watch = &monitorState{}
	}
	return s, nil
}

// numericArgs are a call's int and float arguments.
func numericArgs(c *schema.Call) []schema.Setting {
	var out []schema.Setting
	for _, a := range c.Args {
		if a.Kind == schema.Int || a.Kind == schema.Float {
			out = append(out, a)
		}
	}
	return out
}

// rate is the learning rate of epoch e (from 1).
func (s *schedule) rate(e int) float64 {
	a, base := s.args, s.base
	switch s.spec.Name {
	case "step":
		return base * math.Pow(a["gamma"], math.Floor(float64(e-1)/a["every"]))
	case "exponential":
		return base * math.Pow(a["gamma"], float64(e-1))
	case "cosine":
		w, lo := int(a["warmup"]), a["min_lr"]
		t := int(a["epochs"])
		if t == 0 {
			t = s.epochs
		}
		if e <= w {
			return base * float64(e) / float64(w+1)
		}
		if t <= w {
			return base
		}
		k := min(e-1-w, t-w)
		return lo + (base-lo)*(1+math.Cos(math.Pi*float64(k)/float64(t-w)))/2
	case "plateau":
		return max(base*s.scale, min(base, s.args["min_lr"]))
	}
	return base
}

// observe gives a plateau schedule the epoch's value of its monitor; it cuts the scale
// when the monitor has waited out its patience, as ReduceLROnPlateau does (and, as it
// does, starts counting afresh after a cut).
func (s *schedule) observe(v float64) {
	if s.watch == nil {
		return
	}
	m := s.spec.Monitor
	if s.watch.see(m, v, 0) {
		return
	}
	if s.watch.Bad > m.Patience {
		s.scale *= s.args["factor"]
		s.watch.Bad = 0
	}
}
