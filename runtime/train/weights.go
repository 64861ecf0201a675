package train

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/checkpoint"
	"github.com/dlc-lang/dlc/runtime/guard"
)

// The weights a run starts from and ends with: --init (whole or partial), the saved
// checkpoint, the one written at an interrupt, and the check that outputs do not name
// inputs.

// StartVars loads the parameters and state from a checkpoint when path is given, else
// draws them from their initialisers with seed.
func StartVars(tr *Trainer, path string, seed int64) error {
	if path == "" {
		return tr.InitParams(seed)
	}
	_, err := loadCheckpoint(tr, path, false)
	return err
}

// StartVarsPartial draws every parameter and state from its initialiser with seed, then
// replaces those the checkpoint at path holds: greedy layer-wise pre-training starts a
// deeper model from a shallower one's weights (dlc run --init W --init-partial). A name in
// both with another shape is an error. It returns, for the run's report, the names it
// left drawn and the checkpoint's names this model does not have (ignored).
func StartVarsPartial(tr *Trainer, path string, seed int64) (drawn, ignored []string, err error) {
	if err := tr.InitParams(seed); err != nil {
		return nil, nil, err
	}
	ts, _, err := checkpoint.Load(path)
	if err != nil {
		return nil, nil, err
	}
	vars := maps.Clone(tr.Vars)
	for n, t := range ts {
		if strings.HasPrefix(n, optPrefix) {
			continue // the run's optimisers start afresh, as with --init
		}
		if _, ok := vars[n]; !ok {
			ignored = append(ignored, n)
			continue
		}
		vars[n] = &runtime.Tensor{Shape: t.Shape, Data: t.Data}
	}
	for n := range vars {
		if _, ok := ts[n]; !ok {
			drawn = append(drawn, n)
		}
	}
	slices.Sort(drawn)
	slices.Sort(ignored)
	if len(drawn) == len(vars) {
		// Training from scratch with exit 0 would hide that the names do not line up.
		return nil, nil, fmt.Errorf("--init %s --init-partial: none of the file's tensors is one of the model's, so nothing would be loaded; the file holds %s; the model expects %s",
			path, nameList(ignored), nameList(drawn))
	}
	if err := tr.SetVars(vars); err != nil {
		return nil, nil, fmt.Errorf("--init %s: %v", path, err)
	}
	return drawn, ignored, nil
}

// SaveVars writes the parameters, the state and the optimisers' state as a safetensors
// file, atomically, without the run state that --resume needs (Train writes that).
func SaveVars(tr *Trainer, path, source string) error {
	return saveCheckpoint(tr, path, source, nil)
}

// saveInterrupted writes the checkpoint of a run stopped at here, when o asks for one, and
// returns ErrInterrupted.
func saveInterrupted(tr *Trainer, o RunOptions, out io.Writer, here *runState) error {
	if o.Save != "" {
		if err := saveCheckpoint(tr, o.Save, o.Source, here); err != nil {
			return err
		}
		fmt.Fprintf(out, "wrote weights and training state to %s; continue with --resume %s\n", o.Save, o.Save)
	}
	return ErrInterrupted
}

// SameFile reports whether two paths name one file: the same cleaned absolute path, or
// the same file on disk.
func SameFile(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if err1 == nil && err2 == nil && aa == bb {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// checkOutputs declares the run's outputs to runtime/guard before any work: each must be
// writable and free of another process's lock, and none may be one of the files the run
// reads, which the guard refuses whether the file was read before (the source, a
// checkpoint) or is read later (the data, as it is loaded): an hour of training must not
// end in "cannot write", nor overwrite what it read.
func checkOutputs(o RunOptions, spec *ir.TrainSpec) error {
	if o.Resume != "" && o.Init != "" {
		return fmt.Errorf("--resume and --init: give one (--resume continues a run, --init starts one from trained weights)")
	}
	// Saving over the checkpoint being resumed is how a run goes on: it is read whole
	// before training, and replaced atomically.
	replaces := o.Resume != "" && SameFile(o.Resume, o.Save)
	if err := guard.Output("--save", o.Save, guard.Options{Replaces: replaces}); err != nil {
		return err
	}
	if o.Save != "" {
		// The best epoch's copy is replaced as the monitor improves, and on resume.
		best := BestPath(o.Save)
		if err := guard.Output("--save (its best epoch's copy)", best, guard.Options{Replaces: o.Resume != "" && SameFile(BestPath(o.Resume), best)}); err != nil {
			return err
		}
	}
	if err := guard.Output("--metrics", o.Metrics, guard.Options{}); err != nil {
		return err
	}
	if o.OutDir == "" {
		return nil
	}
	// The pictures' directory is made now, as their writers would make it, so that it is
	// checked writable before the first epoch rather than after the last.
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return fmt.Errorf("--out %s: %v", o.OutDir, err)
	}
	return guard.OutputPattern("--out", o.OutDir, PictureBase(o.Source)+"-*.png")
}
