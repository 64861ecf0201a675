package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dlc-lang/dlc/compiler"
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
	sets        []string
	logDir      string
	logEvery    int
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
	fs.StringArrayVar(&f.sets, "set", nil, "override a train-block setting, `KEY=VALUE` as the train block writes it: batch=256, lr=3e-4 (optimizer.lr), optimizer=sgd(lr: 0.1), early_stopping.n=3, d.lr=1e-4 (a phase's); repeatable")
	fs.StringVar(&f.logDir, "log-dir", "", "log the run to a new version folder `DIR`/version_N: metrics.csv (epochs), steps.csv, settings.txt and the sources")
	fs.IntVar(&f.logEvery, "log-every", 50, "with --log-dir: write a row to steps.csv every `N` optimiser steps")
}

// overrides reads the --set flags as KEY=VALUE pairs.
func (f *runFlags) overrides() ([]compiler.Override, error) { return parseSets(f.sets) }

// parseSets reads --set flags as KEY=VALUE pairs (dlc run and dlc check share them).
func parseSets(sets []string) ([]compiler.Override, error) {
	var out []compiler.Override
	for _, kv := range sets {
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, usagef("--set %q, want KEY=VALUE (e.g. --set batch=256 or --set lr=3e-4)", kv)
		}
		out = append(out, compiler.Override{Key: k, Value: v})
	}
	return out, nil
}

func (s *session) run(fs *pflag.FlagSet, file string, f runFlags) error {
	s.data = train.DataOptions{MNISTDir: f.dataDir}
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
	if given(fs, "log-every") && f.logDir == "" {
		return usagef("--log-every needs --log-dir DIR")
	}
	if f.logEvery < 1 {
		return usagef("--log-every %d, want an integer >= 1", f.logEvery)
	}
	sets, err := f.overrides()
	if err != nil {
		return err
	}
	m, err := s.compileWith(file, compiler.Options{Optimize: !f.noOpt, Overrides: sets})
	if err != nil {
		return err
	}
	if m.Train == nil {
		return fmt.Errorf("%s: no train block: nothing to run", file)
	}
	if limit > 0 && m.Train.Task.IsGraph() {
		if err := train.CheckGeneratedMemory(m.Train, limit); err != nil {
			return err
		}
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
		LogDir: f.logDir, LogEvery: f.logEvery, ShowSettings: len(f.sets) > 0 || f.logDir != "",
	}
	if f.logDir != "" && s.prog != nil {
		o.Sources = map[string][]byte{}
		for name, src := range s.prog.Sources {
			if !strings.HasPrefix(name, "std/") {
				o.Sources[name] = src
			}
		}
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
	o.Stop = s.signals.stopGracefully(func(sig os.Signal) {
		if f.save != "" {
			fmt.Fprintf(s.stderr, "dlc run: %v: finishing the current step, then saving to %s (Ctrl-C again to quit now)\n", sig, f.save)
		} else {
			fmt.Fprintf(s.stderr, "dlc run: %v: finishing the current step (Ctrl-C again to quit now)\n", sig)
		}
	})
	return train.Train(tr, o)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
