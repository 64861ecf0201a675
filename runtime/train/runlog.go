package train

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dlc-lang/dlc/ir"
)

// A run's log directory (dlc run --log-dir DIR), laid out as Lightning's CSVLogger lays
// out its own: every run gets a new folder DIR/version_N, N one more than the largest
// there (0 for the first), created afresh so that no run ever writes into another's. It
// holds
//
//	metrics.csv    one row per epoch: the fields of the --metrics line
//	steps.csv      one row every LogEvery optimiser steps: step, epoch, phase, loss, lr
//	               and the step's metrics
//	settings.txt   the run's resolved settings, one `name = value` a line, as a train
//	               block writes them
//	source/…       the .dl file and its imports, as compiled
//
// A resumed run logs to a version of its own too, its rows starting where it resumed.

// runLog writes a run's log directory; its nil value writes nothing.
type runLog struct {
	dir            string
	every          int
	epochs, steps  *os.File
	epochW, stepsW *csv.Writer
	epochCols      []string
	stepMetrics    []string // the steps' metric columns, in order
	curEpoch       int
	err            error // the first error writing a step's row
	lr             func(phase string) (float64, bool)
}

var versionDir = regexp.MustCompile(`^version_(\d+)$`)

// openRunLog makes the next version folder under dir and writes the settings and sources
// into it.
func openRunLog(dir string, every int, tr *Trainer, spec *ir.TrainSpec, sources map[string][]byte, out io.Writer) (*runLog, error) {
	if dir == "" {
		return nil, nil
	}
	if every < 1 {
		return nil, fmt.Errorf("--log-every %d, want at least 1", every)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--log-dir: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("--log-dir: %v", err)
	}
	next := 0
	for _, e := range entries {
		if m := versionDir.FindStringSubmatch(e.Name()); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n >= next {
				next = n + 1
			}
		}
	}
	var vdir string
	for ; ; next++ {
		vdir = filepath.Join(dir, fmt.Sprintf("version_%d", next))
		err := os.Mkdir(vdir, 0o755)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("--log-dir: %v", err)
		}
	}
	l := &runLog{dir: vdir, every: every}
	if err := os.WriteFile(filepath.Join(vdir, "settings.txt"), []byte(settingsText(spec)), 0o644); err != nil {
		return nil, fmt.Errorf("--log-dir: %v", err)
	}
	if err := copySources(filepath.Join(vdir, "source"), sources); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, ph := range spec.Phases {
		if f := tr.Module.Func(ph.Step); f != nil {
			for _, o := range f.Outputs {
				if k, n := o.Kind(); k == ir.OutMetric && !seen[n] {
					seen[n] = true
					l.stepMetrics = append(l.stepMetrics, n)
				}
			}
		}
	}
	slices.Sort(l.stepMetrics)
	if l.epochs, err = os.Create(filepath.Join(vdir, "metrics.csv")); err != nil {
		return nil, fmt.Errorf("--log-dir: %v", err)
	}
	if l.steps, err = os.Create(filepath.Join(vdir, "steps.csv")); err != nil {
		return nil, fmt.Errorf("--log-dir: %v", err)
	}
	l.epochW, l.stepsW = csv.NewWriter(l.epochs), csv.NewWriter(l.steps)
	if err := l.stepsW.Write(append([]string{"step", "epoch", "phase", "loss", "lr"}, l.stepMetrics...)); err != nil {
		return nil, fmt.Errorf("--log-dir: %v", err)
	}
	l.lr = func(phase string) (float64, bool) {
		i := slices.IndexFunc(spec.Phases, func(p ir.Phase) bool { return p.Name == phase })
		if i < 0 {
			return 0, false
		}
		return tr.Opts[i].LearningRate(), true
	}
	fmt.Fprintf(out, "logging to %s\n", vdir)
	return l, nil
}

// settingsText writes the run's resolved settings one `name = value` a line, as a train
// block writes them: settings.txt, and a checkpoint's dlc.settings.
func settingsText(spec *ir.TrainSpec) string {
	var sb strings.Builder
	for _, s := range spec.Settings() {
		fmt.Fprintf(&sb, "%s = %s\n", s.Name, s.Value)
	}
	return sb.String()
}

// copySources writes each source file under dir by its path, made relative and kept
// inside dir (an import above the main file's folder goes under its cleaned path).
func copySources(dir string, sources map[string][]byte) error {
	for _, name := range slices.Sorted(maps.Keys(sources)) {
		rel := filepath.Clean(name)
		if filepath.IsAbs(rel) {
			rel = strings.TrimPrefix(rel, filepath.VolumeName(rel))
		}
		rel = strings.TrimLeft(strings.ReplaceAll(rel, ".."+string(filepath.Separator), "up"+string(filepath.Separator)), string(filepath.Separator))
		if rel == ".." {
			rel = "up"
		}
		path := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("--log-dir: %v", err)
		}
		if err := os.WriteFile(path, sources[name], 0o644); err != nil {
			return fmt.Errorf("--log-dir: %v", err)
		}
	}
	return nil
}

// epoch writes an epoch's row; the first row's fields make the header.
func (l *runLog) epoch(rec *EpochRecord) error {
	if l == nil {
		return nil
	}
	if l.err != nil {
		return l.err
	}
	l.stepsW.Flush()
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("--log-dir: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("--log-dir: %v", err)
	}
	if l.epochCols == nil {
		l.epochCols = append([]string{"epoch"}, slices.DeleteFunc(slices.Sorted(maps.Keys(m)), func(k string) bool { return k == "epoch" })...)
		if err := l.epochW.Write(l.epochCols); err != nil {
			return fmt.Errorf("--log-dir: %v", err)
		}
	}
	row := make([]string, len(l.epochCols))
	for i, c := range l.epochCols {
		if v, ok := m[c]; ok {
			row[i] = fmt.Sprint(v)
		}
	}
	if err := l.epochW.Write(row); err != nil {
		return fmt.Errorf("--log-dir: %v", err)
	}
	l.epochW.Flush()
	return l.epochW.Error()
}

// step writes a step's row when the run's step count is a multiple of every; an error
// is kept for the epoch's row to return.
func (l *runLog) step(steps int, phase string, loss float64, metrics map[string]float64) {
	if l.err == nil && steps%l.every == 0 {
		l.err = l.stepRow(steps, phase, loss, metrics)
	}
}

func (l *runLog) stepRow(steps int, phase string, loss float64, metrics map[string]float64) error {
	row := []string{strconv.Itoa(steps), strconv.Itoa(l.curEpoch), phase, strconv.FormatFloat(loss, 'g', -1, 64), ""}
	if lr, ok := l.lr(phase); ok {
		row[4] = strconv.FormatFloat(lr, 'g', -1, 64)
	}
	for _, n := range l.stepMetrics {
		v, ok := metrics[n]
		cell := ""
		if ok {
			cell = strconv.FormatFloat(v, 'g', -1, 64)
		}
		row = append(row, cell)
	}
	if err := l.stepsW.Write(row); err != nil {
		return fmt.Errorf("--log-dir: %v", err)
	}
	return nil
}

// close flushes and closes the log's files; closing again does nothing.
func (l *runLog) close() error {
	if l == nil || l.steps == nil {
		return nil
	}
	l.stepsW.Flush()
	err := errors.Join(l.stepsW.Error(), l.steps.Close(), l.epochs.Close())
	l.steps, l.epochs = nil, nil
	if err != nil {
		return fmt.Errorf("--log-dir: %v", err)
	}
	return nil
}
