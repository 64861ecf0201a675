package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/runtime/train"
	"github.com/spf13/pflag"
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
	optLevel    string // -O0, the single-dash spelling of --O0
	progress    string
	checkFinite bool
	dataDir     string
	maxMemory   string
	noSummary   bool
}

func (f *runFlags) declare(fs *pflag.FlagSet) {
	fs.IntVar(&f.epochs, "epochs", -1, "number of epochs (default: the train block's); 0 only evaluates")
	fs.IntVar(&f.steps, "steps", 0, "stop after this many optimiser steps (0: no limit)")
	addSeed(fs, &f.seed, -1, "random seed for initialisation and shuffling (default: the train block's)")
	fs.BoolVar(&f.shuffle, "shuffle", true, "shuffle the training data each epoch (and the train block says so)")
	addInit(fs, &f.init, "start from the weights in this .safetensors `FILE`")
	fs.BoolVar(&f.initPartial, "init-partial", false, "with --init: the checkpoint may lack parameters (drawn from their initialisers) and hold others (ignored), for layer-wise pre-training")
	fs.StringVar(&f.resume, "resume", "", "continue the run saved in this .safetensors `FILE` (by --save or an interrupt): weights, optimiser state, data order and draws")
	fs.StringVar(&f.save, "save", "", "write the weights (and training state) to this .safetensors `FILE` after every epoch, atomically")
	fs.StringVar(&f.metrics, "metrics", "", "write one JSON line per epoch to this `FILE`")
	fs.StringVar(&f.out, "out", ".", "the directory `DIR` for the pictures (loss curve, reconstructions)")
	fs.BoolVar(&f.noOpt, "O0", false, "do not optimise the IR (no fusion); for comparisons")
	fs.StringVarP(&f.optLevel, "O", "O", "", "")
	fs.Lookup("O").Hidden = true
	addDataDir(fs, &f.dataDir)
	fs.BoolVar(&f.checkFinite, "check-finite", false, "check every op's result for NaN and infinity, naming the first op (and its .dl line) that makes one")
	fs.StringVar(&f.maxMemory, "max-memory", "auto", "refuse a run whose estimated memory (dlc params shows it) exceeds this `SIZE`: bytes with an optional K, M, G or T (binary units), auto (the memory the system has available) or none")
	fs.BoolVar(&f.noSummary, "no-summary", false, "do not print the networks' summary (dlc summary) before training")
	fs.StringVar(&f.progress, "progress", "auto", "the progress bar `MODE`: auto (when stderr is a terminal), always or never")
}

func (s *session) run(fs *pflag.FlagSet, file string, f runFlags) error {
	if given(fs, "O") {
		if f.optLevel != "0" {
			return usagef("-O%s: the one level is -O0 (no optimisation)", f.optLevel)
		}
		f.noOpt = true
	}
	if f.progress != "auto" && f.progress != "always" && f.progress != "never" {
		return usagef("--progress %q, want auto, always or never", f.progress)
	}
	if f.initPartial && f.init == "" {
		return usagef("--init-partial needs --init CHECKPOINT")
	}
	limit, err := parseMemory(f.maxMemory)
	if err != nil {
		return usagef("--max-memory %q: %v", f.maxMemory, err)
	}
	m, err := s.compileFile(file, !f.noOpt)
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
		e, err := train.EstimateMemory(m, 0)
		if err != nil {
			return err
		}
		if e.Total() > limit {
			return fmt.Errorf("%s: the run needs an estimated %s at batch %d (parameters %s, state %s, optimiser %s, activations %s), more than --max-memory %s; lower the batch size or the model's widths, or raise the limit",
				file, train.FormatBytes(e.Total()), e.Batch, train.FormatBytes(e.Params), train.FormatBytes(e.State),
				train.FormatBytes(e.Optim), train.FormatBytes(e.Activ), train.FormatBytes(limit))
		}
	}
	return s.train(file, m, f, limit)
}

func (s *session) train(file string, m *ir.Module, f runFlags, limit int64) error {
	tr, err := train.NewTrainer(m)
	if err != nil {
		return err
	}
	showBar := f.progress == "always" || (f.progress == "auto" && isTerminal(s.stderr))
	o := train.RunOptions{
		Source: file, Epochs: f.epochs, Steps: f.steps, Seed: f.seed, NoShuffle: !f.shuffle,
		Init: f.init, InitPartial: f.initPartial, Resume: f.resume, Save: f.save, Metrics: f.metrics, OutDir: f.out, CheckFinite: f.checkFinite,
		MaxMemory: limit, MNISTDir: f.dataDir, Out: s.stdout,
	}
	if !f.noSummary {
		o.Out = summaryFirst(s.stdout, s.prog.Summary(m))
	}
	if showBar && m.Train.Task.IsGraph() {
		b := &graphBar{w: s.stderr, cols: termColumns(s.stderr), spec: m.Train}
		o.Progress, o.EpochDone = b.progress, b.epochDone
	} else if showBar {
		b := &sampleBar{w: s.stderr, cols: termColumns(s.stderr), spec: m.Train}
		o.Progress, o.EpochDone = b.progress, b.epochDone
	}
	stop, release := interruptible(s.stderr, f.save)
	defer release()
	o.Stop = stop
	return train.Train(tr, o)
}

// interruptible makes Ctrl-C ask the run to stop after the current step and save: stop
// reports whether it was pressed. A second one quits at once (a save in progress is
// atomic, so that loses nothing already written). release stops listening.
func interruptible(stderr io.Writer, save string) (stop func() bool, release func()) {
	var stopped atomic.Bool
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-sigs:
				if stopped.Swap(true) {
					fmt.Fprintln(stderr, "dlc run: interrupted again; quitting without saving")
					os.Exit(exitInterrupted)
				}
				if save != "" {
					fmt.Fprintf(stderr, "dlc run: interrupt: finishing the current step, then saving to %s (Ctrl-C again to quit now)\n", save)
				} else {
					fmt.Fprintln(stderr, "dlc run: interrupt: finishing the current step (Ctrl-C again to quit now)")
				}
			case <-done:
				return
			}
		}
	}()
	return stopped.Load, func() {
		signal.Stop(sigs)
		close(done)
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
