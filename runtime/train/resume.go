package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/checkpoint"
)

// A checkpoint that can continue a run holds, besides the parameters and state under their
// own names:
//
//   - each phase's optimiser state as tensors named "opt/PHASE/" + the optimiser's own
//     name for it (Optimizer.State): "opt/d/adam.m/D.dense1.w", "opt/d/adam.step/D.dense1.w";
//   - the metadata entry "dlc.run", a JSON object (runState) with the seed, whether the data
//     is shuffled, the epochs completed, the shuffle generator's state at the start of the
//     next epoch (and the draw generator's, when a second batch is drawn), how far that
//     epoch got if it was interrupted part-way, the phase cursor and each program's draw
//     counter.
//
// Together they make a resumed run compute what the uninterrupted run would have, bit for
// bit: the same batches in the same order, the same noise and dropout masks (draws are keyed
// by seed, stream and run count), and the same optimiser moments.

// optPrefix starts the names of optimiser state tensors; a parameter name never holds "/".
const optPrefix = "opt/"

// ErrInterrupted is returned by Train when RunOptions.Stop ended the run.
var ErrInterrupted = errors.New("interrupted")

// runState is the "dlc.run" metadata entry of a checkpoint.
type runState struct {
	Seed    int64 `json:"seed"`
	Shuffle bool  `json:"shuffle"`
	Steps   int   `json:"steps"`
	// PhaseSteps are the optimiser steps per phase, in the spec's order; nil in a
	// checkpoint from before dlc counted them.
	PhaseSteps []int `json:"phase_steps,omitempty"`
	// Epoch counts the epochs completed; RNG is the shuffle generator (a PCG, as
	// MarshalBinary writes it) at the start of epoch Epoch+1, and Progress how far that
	// epoch got when it was stopped part-way (nil when it has not begun).
	Epoch    int            `json:"epoch"`
	RNG      []byte         `json:"rng"`
	Progress *EpochProgress `json:"progress,omitempty"`
	// Draw is the draw generator (draw.go) at the start of the same epoch as RNG; nil
	// when the model draws no second batch.
	Draw   []byte            `json:"draw_rng,omitempty"`
	Cursor int               `json:"phase_cursor"`
	Turns  int               `json:"phase_turns"`
	Runs   map[string]uint64 `json:"program_runs"`
	// Graph names the data of a graph run (graphresume.go); nil for other runs.
	Graph *graphIdentity `json:"graph,omitempty"`
	// Loop is what the loop watches (monitor.go); nil when it watches nothing.
	Loop *loopState `json:"loop,omitempty"`
}

// programRuns returns the draw counter of every program compiled or restored.
func (t *Trainer) programRuns() map[string]uint64 {
	runs := maps.Clone(t.runs)
	if runs == nil {
		runs = map[string]uint64{}
	}
	for n, p := range t.progs {
		runs[n] = p.Runs
	}
	return runs
}

// standing returns where tr's run stands before its next epoch, epoch done+1: g is the
// generator at that epoch's start and p how far the epoch has got. A run that trains no
// epoch (dlc run --epochs 0, or resumed past its last epoch or its --steps) saves this, so
// that a run resumed from what it saved goes on where the one it resumed from would have;
// it is taken before the run evaluates, whose draws an uninterrupted run never made.
func standing(tr *Trainer, spec *ir.TrainSpec, done int, g *rand.PCG, p *EpochProgress) *runState {
	rs := &runState{Seed: spec.Seed, Shuffle: spec.Shuffle, Steps: tr.Steps, PhaseSteps: slices.Clone(tr.PhaseSteps), Epoch: done, Cursor: tr.cursor, Turns: tr.turns, Runs: tr.programRuns()}
	rs.RNG, _ = g.MarshalBinary()
	rs.Draw = tr.drawState()
	if p.begun() {
		rs.Progress = p
	}
	return rs
}

// begun reports whether p is an epoch's progress rather than a fresh one: an epoch fills
// the maps of sums when it starts, and a progress read from a checkpoint has them.
func (p *EpochProgress) begun() bool { return p.LossSums != nil }

// upgrade makes a progress read from the checkpoint at path, saved by a run of task, current,
// or refuses it. An older dlc saved no weights: a graph-level run's sums were weighted by
// the graphs of each batch already, so its weights are the graphs done; a samples run's
// means were unweighted, and its sums cannot be weighted after the fact bit for bit.
func (p *EpochProgress) upgrade(task ir.Task, path string) error {
	switch {
	case p == nil || p.LossWeights != nil:
		return nil
	case task == ir.TaskGraph && len(p.MetricSums) == 0:
		p.LossWeights = map[string]int{}
		for k := range p.LossSums {
			p.LossWeights[k] = p.Samples
		}
		return nil
	case len(p.LossSums) == 0 && len(p.MetricSums) == 0:
		return nil // an epoch begun and not stepped
	}
	return fmt.Errorf("--resume %s: the checkpoint stopped inside an epoch whose means an older dlc did not weight by batch size; "+
		"resume it with that dlc, or start from its weights with --init", path)
}

// withRuns updates the draw counters of rs to the trainer's, for a save after more runs.
func (rs *runState) withRuns(t *Trainer) *runState {
	rs.Runs = t.programRuns()
	return rs
}

// saveCheckpoint writes the parameters, the state and the optimisers' state as a
// safetensors file, atomically, with rs as "dlc.run" when it is not nil. Nothing non-finite
// is ever saved, so a run gone bad cannot replace a good checkpoint.
func saveCheckpoint(tr *Trainer, path, source string, rs *runState) error {
	ts := map[string]checkpoint.Tensor{}
	add := func(n string, p *runtime.Tensor) error {
		if i := firstNonFinite(p.Data); i >= 0 {
			return fmt.Errorf("%s: not saved: %s element %d is %v", path, n, i, p.Data[i])
		}
		ts[n] = checkpoint.Tensor{Shape: p.Shape, Data: p.Data}
		return nil
	}
	for n, p := range tr.Vars {
		if err := add(n, p); err != nil {
			return err
		}
	}
	for i, opt := range tr.Opts {
		for k, p := range opt.State() {
			if err := add(optPrefix+tr.Spec.Phases[i].Name+"/"+k, p); err != nil {
				return err
			}
		}
	}
	meta := map[string]string{"dlc.source": source, "dlc.steps": fmt.Sprint(tr.Steps), "dlc.settings": settingsText(tr.Spec)}
	if rs != nil {
		b, err := json.Marshal(rs)
		if err != nil {
			return fmt.Errorf("%s: not saved: %v", path, err)
		}
		meta["dlc.run"] = string(b)
	}
	return checkpoint.Save(path, ts, meta)
}

// loadCheckpoint reads a checkpoint into tr: its parameters and state always, the
// optimisers' state and the run state only when resume is set (--init starts a new run from
// trained weights, with fresh optimisers). It returns the run state, nil without resume.
func loadCheckpoint(tr *Trainer, path string, resume bool) (*runState, error) {
	ts, meta, err := checkpoint.Load(path)
	if err != nil {
		return nil, err
	}
	flag := "--init"
	if resume {
		flag = "--resume"
	}
	vars := map[string]*runtime.Tensor{}
	opts := map[string]map[string]*runtime.Tensor{}
	for n, t := range ts {
		rest, ok := strings.CutPrefix(n, optPrefix)
		if !ok {
			vars[n] = &runtime.Tensor{Shape: t.Shape, Data: t.Data}
			continue
		}
		phase, key, ok := strings.Cut(rest, "/")
		if !ok {
			return nil, fmt.Errorf("%s %s: optimiser state %q: want opt/PHASE/NAME", flag, path, n)
		}
		if opts[phase] == nil {
			opts[phase] = map[string]*runtime.Tensor{}
		}
		opts[phase][key] = &runtime.Tensor{Shape: t.Shape, Data: t.Data}
	}
	if err := tr.SetVars(vars); err != nil {
		return nil, fmt.Errorf("%s %s: %v", flag, path, err)
	}
	if !resume {
		return nil, nil
	}
	raw, ok := meta["dlc.run"]
	if !ok {
		return nil, fmt.Errorf("--resume %s: the checkpoint holds no run state (dlc.run); it can start a new run with --init", path)
	}
	var rs runState
	if err := json.Unmarshal([]byte(raw), &rs); err != nil {
		return nil, fmt.Errorf("--resume %s: dlc.run: %v", path, err)
	}
	phases := len(tr.Spec.Phases)
	switch {
	case rs.Epoch < 0 || rs.Steps < 0:
		return nil, fmt.Errorf("--resume %s: dlc.run: epoch %d, steps %d, want both >= 0", path, rs.Epoch, rs.Steps)
	case rs.Cursor < 0 || rs.Cursor >= phases || rs.Turns < 0 || rs.Turns >= tr.Spec.Phases[rs.Cursor].Repeat:
		return nil, fmt.Errorf("--resume %s: dlc.run: phase cursor %d (turn %d) does not fit the model's %d phases", path, rs.Cursor, rs.Turns, phases)
	}
	for _, phase := range slices.Sorted(maps.Keys(opts)) {
		i := slices.IndexFunc(tr.Spec.Phases, func(p ir.Phase) bool { return p.Name == phase })
		if i < 0 {
			return nil, fmt.Errorf("--resume %s: optimiser state of phase %q, which the model does not have", path, phase)
		}
		if err := tr.Opts[i].SetState(opts[phase]); err != nil {
			return nil, fmt.Errorf("--resume %s: phase %s: %v", path, phase, err)
		}
	}
	switch {
	case rs.PhaseSteps == nil && slices.ContainsFunc(tr.Spec.Phases, func(p ir.Phase) bool { return p.Schedule != nil && p.Schedule.PerStep }):
		return nil, fmt.Errorf("--resume %s: dlc.run has no phase_steps (a checkpoint of an older dlc), which a schedule with interval: \"step\" needs", path)
	case rs.PhaseSteps != nil && len(rs.PhaseSteps) != phases:
		return nil, fmt.Errorf("--resume %s: dlc.run: phase_steps has %d counts, want one for each of the model's %d phases", path, len(rs.PhaseSteps), phases)
	case slices.ContainsFunc(rs.PhaseSteps, func(n int) bool { return n < 0 }):
		return nil, fmt.Errorf("--resume %s: dlc.run: phase_steps %v, want counts >= 0", path, rs.PhaseSteps)
	}
	if rs.PhaseSteps != nil {
		copy(tr.PhaseSteps, rs.PhaseSteps)
	}
	tr.Steps, tr.cursor, tr.turns = rs.Steps, rs.Cursor, rs.Turns
	tr.runs = rs.Runs
	for n, p := range tr.progs {
		p.Runs = rs.Runs[n]
	}
	return &rs, nil
}

// startRun sets tr's parameters, state and (resuming) optimisers and run position from
// o.Resume, o.Init or the initialisers, and keys the draws by the run's seed. A resumed run
// keeps the seed and shuffling it was saved with, which spec takes; it returns the run
// state, nil for a new run.
func startRun(tr *Trainer, o RunOptions, spec *ir.TrainSpec) (*runState, error) {
	var rs *runState
	if o.Resume != "" {
		var err error
		if rs, err = loadCheckpoint(tr, o.Resume, true); err != nil {
			return nil, err
		}
		// The seed keys the draws and the order.
		if o.Seed >= 0 && o.Seed != rs.Seed {
			return nil, fmt.Errorf("--seed %d: the run in %s has seed %d; a resumed run keeps its seed", o.Seed, o.Resume, rs.Seed)
		}
		if o.NoShuffle && rs.Shuffle {
			return nil, fmt.Errorf("--shuffle=false: the run in %s shuffles its data; a resumed run keeps its order", o.Resume)
		}
		spec.Seed, spec.Shuffle = rs.Seed, rs.Shuffle
	} else if o.InitPartial && o.Init != "" {
		drawn, ignored, err := StartVarsPartial(tr, o.Init, spec.Seed)
		if err != nil {
			return nil, err
		}
		if o.Out != nil {
			fmt.Fprintf(o.Out, "--init-partial: %d tensors from %s; drawn from their initialisers: %s; ignored: %s\n",
				len(tr.Vars)-len(drawn), o.Init, listOrNone(drawn), listOrNone(ignored))
		}
	} else if err := StartVars(tr, o.Init, spec.Seed); err != nil {
		return nil, err
	}
	tr.DrawSeed = uint64(spec.Seed)*0x2545f4914f6cdd1d + 0x64726177
	for _, p := range tr.progs {
		p.Seed = tr.DrawSeed
	}
	return rs, nil
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
