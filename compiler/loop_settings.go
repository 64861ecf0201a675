package compiler

import (
	"slices"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
	"github.com/dlc-lang/dlc/lang"
)

// The settings of the training loop itself, the same for every family and task: the
// validation data, the early stop, and each phase's learning-rate schedule and gradient
// clipping. A monitor (early_stopping's, a plateau schedule's) names a metric of the
// epoch lines; which metrics a run has is known once its phases and evaluation are
// lowered, so monitors are checked then (checkMonitors), each error at the argument that
// names the metric.

// monitorAt is a monitor read from the source, checked once the metrics are known.
type monitorAt struct {
	m    *ir.Monitor
	pos  lang.Pos // where the metric is named (the call, when the default is taken)
	what string   // the message prefix: "train: early_stopping"
}

// monitorOf reads the monitor, min_delta and mode arguments of a checked call, with
// patience n; mode "auto" stays until checkMonitors infers it.
func (p *Program) monitorOf(what string, st setting, n int) *ir.Monitor {
	m := &ir.Monitor{Patience: n, Metric: st.args.word("monitor"), MinDelta: st.args.num("min_delta"), Mode: st.args.word("mode"), Pos: irPos(st.call.Pos)}
	pos := st.call.Pos
	if a := st.args["monitor"]; a.given() {
		pos = a.pos
	}
	p.monitors = append(p.monitors, monitorAt{m: m, pos: pos, what: what + ": " + st.fn.Name})
	return m
}

// earlyStop reads early_stopping = patience(n, monitor: …, min_delta: …, mode: …).
func (p *Program) earlyStop(st setting) *ir.Monitor {
	return p.monitorOf("train: early_stopping", st, int(st.args.num("n")))
}

// schedule reads a schedule setting: every numeric argument, the defaults filled in, and
// a plateau's monitor.
func (p *Program) schedule(what string, st setting) *ir.Schedule {
	sc := &ir.Schedule{Name: st.fn.Name, Args: map[string]float64{}, Pos: irPos(st.call.Pos)}
	for name, a := range st.args {
		if k := a.spec.Kind; k == schema.Int || k == schema.Float {
			sc.Args[name] = a.val.num
		}
	}
	if sc.Name == "plateau" {
		sc.Monitor = p.monitorOf(what, st, int(sc.Args["patience"]))
	}
	sc.PerStep = st.args.word("interval") == "step"
	return sc
}

// clip reads a clip setting: norm(max) or value(max).
func clipOf(st setting) *ir.Clip {
	return &ir.Clip{Kind: st.fn.Name, Max: st.args.num("max"), Pos: irPos(st.call.Pos)}
}

// validation reads validation = fraction(f) or a data source.
func validationOf(st setting) *ir.Validation {
	if st.fn.Name == "fraction" {
		return &ir.Validation{Fraction: st.args.num("f"), Pos: irPos(st.call.Pos)}
	}
	d := st.dataSpec()
	return &ir.Validation{Data: &d, Pos: d.Pos}
}

// readLoopSettings reads the train block's validation, early_stopping, schedule and clip
// settings into tb, and the d_ and g_ ones of a family's phases.
func (p *Program) readLoopSettings(tb *trainBlock, got settings) error {
	spec := tb.spec
	if got.has("validation") {
		spec.Validation = validationOf(got["validation"])
	}
	if got.has("early_stopping") {
		spec.EarlyStop = p.earlyStop(got["early_stopping"])
	}
	tb.schedules, tb.clips = map[string]*ir.Schedule{}, map[string]*ir.Clip{}
	for _, prefix := range []string{"", "d_", "g_"} {
		phase := strings.TrimSuffix(prefix, "_")
		for _, name := range []string{prefix + "schedule", prefix + "clip"} {
			switch {
			case !got.has(name):
			case phase != "" && !hasPhase(p.plans[tb.t.Target], phase):
				return lang.Errorf(tb.setting(name).Pos, "train: %s applies to the phases of a gan or an adversarial autoencoder; use %s (or a phase's own)", name, strings.TrimPrefix(name, prefix))
			case strings.HasSuffix(name, "schedule"):
				tb.schedules[phase] = p.schedule("train: "+name, got[name])
			default:
				tb.clips[phase] = clipOf(got[name])
			}
		}
	}
	return nil
}

// phaseLoop gives phase ph the schedule and clipping the train block sets for it, unless
// the phase sets its own.
func (tb *trainBlock) phaseLoop(ph *ir.Phase) {
	for _, key := range []string{ph.Name, ""} {
		if sc, ok := tb.schedules[key]; ok && ph.Schedule == nil {
			ph.Schedule = sc
		}
		if c, ok := tb.clips[key]; ok && ph.Clip == nil {
			ph.Clip = c
		}
	}
}

// runMetrics lists the metrics the epoch lines of spec's runs name: the training loss
// (each phase's with several), the steps' reported metrics, and the evaluation's loss and
// metrics on the test data (test_) and the validation data (val_), where the run has them.
func runMetrics(m *ir.Module, spec *ir.TrainSpec) []string {
	names := []string{"train_loss"}
	add := func(n string) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, ph := range spec.Phases {
		if len(spec.Phases) > 1 {
			add(ph.Name + "_loss")
		}
		if f := m.Func(ph.Step); f != nil {
			for _, o := range f.Outputs {
				if k, n := o.Kind(); k == ir.OutMetric {
					add(n)
				}
			}
		}
	}
	var evals []string
	if f := m.Func(spec.Eval); f != nil {
		evals = append(evals, "loss")
		for _, o := range f.Outputs {
			if k, n := o.Kind(); k == ir.OutMetric {
				evals = append(evals, n)
			}
		}
		if spec.Task == ir.TaskLink {
			evals = append(evals, "auroc")
		}
	}
	tested := spec.Test != nil || spec.Task == ir.TaskNode || spec.Task == ir.TaskLink
	for _, prefix := range []string{"test_", "val_"} {
		if prefix == "test_" && !tested || prefix == "val_" && spec.Validation == nil {
			continue
		}
		for _, n := range evals {
			add(prefix + n)
		}
	}
	return names
}

// checkMonitors checks every monitor read from the train block against the run's
// metrics, and infers an auto mode from the metric's name.
func (p *Program) checkMonitors(m *ir.Module, spec *ir.TrainSpec) error {
	names := runMetrics(m, spec)
	for _, ma := range p.monitors {
		mon := ma.m
		if !slices.Contains(names, mon.Metric) {
			if strings.HasPrefix(mon.Metric, "val_") && spec.Validation == nil {
				return lang.Errorf(ma.pos, "%s: monitor %q needs validation = fraction(f) or a data source; this run's metrics are %s", ma.what, mon.Metric, strings.Join(names, ", "))
			}
			if s := nearest(mon.Metric, names); s != "" {
				return lang.Errorf(ma.pos, "%s: unknown monitor %q (did you mean %s?); this run's metrics are %s", ma.what, mon.Metric, s, strings.Join(names, ", "))
			}
			return lang.Errorf(ma.pos, "%s: unknown monitor %q; this run's metrics are %s", ma.what, mon.Metric, strings.Join(names, ", "))
		}
		if mon.Mode == "auto" {
			switch n := mon.Metric; {
			case strings.HasSuffix(n, "loss"):
				mon.Mode = "min"
			case strings.HasSuffix(n, "accuracy") || strings.HasSuffix(n, "auroc"):
				mon.Mode = "max"
			default:
				return lang.Errorf(ma.pos, "%s: cannot tell whether %s should fall or rise; give mode: \"min\" or \"max\"", ma.what, n)
			}
		}
	}
	return nil
}
