package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime"
	"github.com/dlc-lang/dlc/runtime/data"
	dlctrain "github.com/dlc-lang/dlc/runtime/train"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

type runFlags struct {
	epochs      int
	steps       int
	seed        int64
	shuffle     bool
	init        string
	initPartial bool
	resume      string
	save        string
	metrics     string
	out         string
	noOpt       bool
	progress    string
	checkFinite bool
	dataDir     string
	maxMemory   string
}

func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var f runFlags
	fs.IntVar(&f.epochs, "epochs", -1, "number of epochs (default: the train block's); 0 only evaluates")
	fs.IntVar(&f.steps, "steps", 0, "stop after this many optimiser steps (0: no limit)")
	fs.Int64Var(&f.seed, "seed", -1, "random seed for initialisation and shuffling (default: the train block's)")
	fs.BoolVar(&f.shuffle, "shuffle", true, "shuffle the training data each epoch (and the train block says so)")
	fs.StringVar(&f.init, "init", "", "start from the weights in this .safetensors file")
	fs.BoolVar(&f.initPartial, "init-partial", false, "with --init: the checkpoint may lack parameters (drawn from their initialisers) and hold others (ignored), for layer-wise pre-training")
	fs.StringVar(&f.resume, "resume", "", "continue the run saved in this .safetensors file (by --save or an interrupt): weights, optimiser state, data order and draws")
	fs.StringVar(&f.save, "save", "", "write the weights (and training state) to this .safetensors file after every epoch, atomically")
	fs.StringVar(&f.metrics, "metrics", "", "write one JSON line per epoch to this file")
	fs.StringVar(&f.out, "out", ".", "directory for the pictures (loss curve, reconstructions)")
	fs.BoolVar(&f.noOpt, "O0", false, "do not optimise the IR (no fusion); for comparisons")
	fs.StringVar(&f.dataDir, "data-dir", "", "directory holding MNIST's four IDX files (default: $DLC_MNIST_DIR, else the GoMNIST module)")
	fs.BoolVar(&f.checkFinite, "check-finite", false, "check every op's result for NaN and infinity, naming the first op (and its .dl line) that makes one")
	fs.StringVar(&f.maxMemory, "max-memory", "auto", "refuse a run whose estimated memory (dlc params shows it) exceeds this: bytes with an optional K, M, G or T (binary units), auto (the memory the system has available) or none")
	fs.StringVar(&f.progress, "progress", "auto", "progress bar: auto (when stderr is a terminal), always or never")
	file, err := parseArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	if f.progress != "auto" && f.progress != "always" && f.progress != "never" {
		fmt.Fprintf(stderr, "dlc run: --progress %q, want auto, always or never\n", f.progress)
		return errUsage
	}
	if f.initPartial && f.init == "" {
		fmt.Fprintf(stderr, "dlc run: --init-partial needs --init CHECKPOINT\n")
		return errUsage
	}
	limit, err := parseMemory(f.maxMemory)
	if err != nil {
		fmt.Fprintf(stderr, "dlc run: --max-memory %q: %v\n", f.maxMemory, err)
		return errUsage
	}
	m, err := compileFile(file, !f.noOpt, stderr)
	if err != nil {
		return err
	}
	if m.Train == nil {
		return fmt.Errorf("%s: no train block: nothing to run", file)
	}
	if limit > 0 && !m.Train.Task.IsGraph() {
		// (A graph model's sizes are the data's node and edge counts, known only once the
		// data is loaded; its estimate is not made.)
		// Refused before anything is allocated, rather than killed by the kernel later.
		e, err := runtime.EstimateMemory(m, 0)
		if err != nil {
			return err
		}
		if e.Total() > limit {
			return fmt.Errorf("%s: the run needs an estimated %s at batch %d (parameters %s, state %s, optimiser %s, activations %s), more than --max-memory %s; lower the batch size or the model's widths, or raise the limit",
				file, runtime.FormatBytes(e.Total()), e.Batch, runtime.FormatBytes(e.Params), runtime.FormatBytes(e.State),
				runtime.FormatBytes(e.Optim), runtime.FormatBytes(e.Activ), runtime.FormatBytes(limit))
		}
	}
	return train(file, m, f, limit, stdout, stderr)
}

func train(file string, m *ir.Module, f runFlags, limit int64, stdout, stderr io.Writer) error {
	tr, err := dlctrain.NewTrainer(m)
	if err != nil {
		return err
	}
	if f.dataDir != "" {
		data.MNISTDir = f.dataDir
	}
	showBar := f.progress == "always" || (f.progress == "auto" && isTerminal(stderr))
	o := dlctrain.RunOptions{
		Source: file, Epochs: f.epochs, Steps: f.steps, Seed: f.seed, NoShuffle: !f.shuffle,
		Init: f.init, InitPartial: f.initPartial, Resume: f.resume, Save: f.save, Metrics: f.metrics, OutDir: f.out, CheckFinite: f.checkFinite,
		MaxMemory: limit, Out: stdout,
	}
	if showBar && m.Train.Task.IsGraph() {
		b := &graphBar{w: stderr, spec: m.Train}
		o.Progress, o.EpochDone = b.progress, b.epochDone
	} else if showBar {
		b := &sampleBar{w: stderr, spec: m.Train}
		o.Progress, o.EpochDone = b.progress, b.epochDone
	}
	// Ctrl-C asks the run to stop after the current step and save; a second one quits at
	// once (a save in progress is atomic, so that loses nothing already written).
	var stop atomic.Bool
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	done := make(chan struct{})
	defer func() {
		signal.Stop(sigs)
		close(done)
	}()
	go func() {
		for {
			select {
			case <-sigs:
				if stop.Swap(true) {
					fmt.Fprintln(stderr, "dlc run: interrupted again; quitting without saving")
					os.Exit(exitInterrupted)
				}
				if f.save != "" {
					fmt.Fprintf(stderr, "dlc run: interrupt: finishing the current step, then saving to %s (Ctrl-C again to quit now)\n", f.save)
				} else {
					fmt.Fprintln(stderr, "dlc run: interrupt: finishing the current step (Ctrl-C again to quit now)")
				}
			case <-done:
				return
			}
		}
	}()
	o.Stop = stop.Load
	return dlctrain.Train(tr, o)
}

// sampleBar is a supervised run's progress bar on stderr: a bar per epoch over its
// samples, at samples/s, described by the epoch and the running loss of each phase, and
// cleared before the epoch's line. As graphBar does, it is told of progress at most every
// 100 ms (and at an epoch's start and end) and draws each time it is told, so that a step
// costs a clock read here and allocates nothing.
type sampleBar struct {
	w    io.Writer
	spec *ir.TrainSpec
	bar  *progressbar.ProgressBar
	told time.Time
}

func (b *sampleBar) progress(epoch, done, total int, losses map[string]float64) {
	now := time.Now()
	if b.bar != nil && done < total && now.Sub(b.told) < 100*time.Millisecond {
		return
	}
	b.told = now
	desc := fmt.Sprintf("epoch %d/%d", epoch, b.spec.Epochs)
	for _, ph := range b.spec.Phases {
		if l, ok := losses[ph.Name]; ok {
			if len(b.spec.Phases) == 1 {
				desc += fmt.Sprintf(" loss %.4f", l)
			} else {
				desc += fmt.Sprintf(" %s_loss %.4f", ph.Name, l)
			}
		}
	}
	if b.bar == nil {
		b.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(b.w), progressbar.OptionSetDescription(desc),
			progressbar.OptionShowIts(), progressbar.OptionSetItsString("samples"), progressbar.OptionClearOnFinish())
		if done < total {
			// The first frame shows no samples: a rate over one step would mean nothing.
			b.bar.RenderBlank()
			return
		}
	}
	// Set first: at the epoch's end it finishes and clears the bar, which then takes the
	// description without drawing.
	b.bar.Set(done)
	b.bar.Describe(desc)
}

// epochDone clears the bar before an epoch's line; the next epoch makes a new one.
func (b *sampleBar) epochDone() {
	if b.bar != nil {
		b.bar.Finish()
		b.bar = nil
	}
}

// graphBar is a graph run's progress bar on stderr. For a set of graphs it is a supervised
// run's: a bar per epoch over its graphs, at graphs/s. For one graph an epoch is one
// full-graph step, so the bar counts the run's epochs instead; it is drawn before each step
// (so that it shows while the step runs, which is what takes the time) and cleared before
// the epoch's line, and gives the seconds an epoch takes and the time left from its own
// clock, as a bar drawn anew each epoch keeps no rate. One bar is made and reset. The bar
// is told of progress at most every 100 ms (and at an epoch's start and end), and draws
// each time it is told, so that a step of a set of graphs costs a clock read here and
// allocates nothing.
type graphBar struct {
	w     io.Writer
	spec  *ir.TrainSpec
	bar   *progressbar.ProgressBar
	ended bool      // finished and cleared; the next call starts it again
	desc  time.Time // when the description was last set
	start time.Time // a run over epochs: when its first epoch began, and which it was
	first int
}

func (b *graphBar) progress(epoch, done, total int, losses map[string]float64) {
	graphs := b.spec.Task == ir.TaskGraph
	now := time.Now()
	if b.bar != nil && !b.ended && done < total && now.Sub(b.desc) < 100*time.Millisecond {
		return // the bar draws each call, so the calls are what is throttled
	}
	b.desc = now
	desc := fmt.Sprintf("epoch %d/%d", epoch, b.spec.Epochs)
	if l, ok := losses[b.spec.Phases[0].Name]; ok {
		desc += fmt.Sprintf(" loss %.4f", l)
	}
	if !graphs {
		if b.bar == nil {
			b.start, b.first = now, done
		} else if done > b.first {
			per := now.Sub(b.start).Seconds() / float64(done-b.first)
			left := time.Duration(per * float64(total-done) * float64(time.Second)).Round(time.Second)
			desc += fmt.Sprintf(" (%.2fs an epoch, %v left)", per, left)
		}
	}
	switch {
	case b.bar == nil:
		opts := []progressbar.Option{progressbar.OptionSetWriter(b.w), progressbar.OptionSetDescription(desc),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish()}
		if graphs {
			opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString("graphs"))
		}
		b.bar = progressbar.NewOptions(total, opts...)
	case b.ended:
		// A finished bar takes the description without drawing; the reset bar then draws
		// at once with it, at its first Set.
		b.bar.Describe(desc)
		b.bar.Reset()
		b.ended = false
	default:
		b.bar.Set(done)
		b.bar.Describe(desc)
		return
	}
	b.bar.Set(done)
}

// epochDone clears the bar before an epoch's line.
func (b *graphBar) epochDone() {
	if b.bar != nil && !b.ended {
		b.bar.Finish()
		b.ended = true
	}
}

// parseMemory reads a --max-memory value: a byte count with an optional binary suffix
// (K, M, G, T, optionally followed by iB or B), "none" (0: no limit) or "auto" (what
// /proc/meminfo calls MemAvailable; no limit where it cannot be read).
func parseMemory(s string) (int64, error) {
	switch s {
	case "none", "0":
		return 0, nil
	case "auto":
		return availableMemory(), nil
	}
	num := strings.TrimRight(s, "KMGTiBkmgt")
	suffix := strings.ToUpper(strings.TrimSuffix(strings.TrimSuffix(s[len(num):], "B"), "i"))
	shift := map[string]uint{"": 0, "K": 10, "M": 20, "G": 30, "T": 40}
	sh, ok := shift[suffix]
	v, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || !(v > 0) || v*float64(int64(1)<<sh) > 1<<62 {
		return 0, fmt.Errorf("want a positive size such as 8G or 512M, auto or none")
	}
	return int64(v * float64(int64(1)<<sh)), nil
}

// availableMemory is MemAvailable from /proc/meminfo in bytes, or 0 when unknown.
func availableMemory() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil && kb > 0 {
					return kb << 10
				}
			}
		}
	}
	return 0
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
