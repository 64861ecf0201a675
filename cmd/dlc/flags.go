package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dlc-lang/dlc/runtime/train"
	"github.com/spf13/pflag"
)

// The flags that more than one command takes, each declared once here: its name, its type
// and the least value it may take. A command passes the default and the wording where its
// meaning differs (whose checkpoint, which rows).

// addInit declares --init FILE: the checkpoint (from dlc run --save) a command starts from.
func addInit(fs *pflag.FlagSet, p *string, usage string) {
	fs.StringVar(p, "init", "", usage)
}

// addSeed declares --seed N, the seed of a command's random draws.
func addSeed(fs *pflag.FlagSet, p *int64, def int64, usage string) {
	fs.Int64Var(p, "seed", def, usage)
}

// addCount declares -n N (also --n), how many samples or rows a command takes; at least 1.
func addCount(fs *pflag.FlagSet, p *int, def int, usage string) {
	fs.IntVarP(p, "n", "n", def, usage)
}

// addBatch declares --batch N, the rows of one run of a model; at least 1.
func addBatch(fs *pflag.FlagSet, p *int, usage string) {
	fs.IntVar(p, "batch", 500, usage)
}

// addData declares --data train|test, one of the train block's data sets.
func addData(fs *pflag.FlagSet, p *string, def, usage string) {
	fs.StringVar(p, "data", def, usage)
}

// addDataDir declares --data-dir DIR, where MNIST's IDX files lie.
func addDataDir(fs *pflag.FlagSet, p *string) {
	fs.StringVar(p, "data-dir", "", "the directory `DIR` holding MNIST's four IDX files (default: $DLC_MNIST_DIR, else the GoMNIST module)")
}

// addOutput declares -o FILE (also --o), the file a command writes.
func addOutput(fs *pflag.FlagSet, p *string, def, usage string) {
	fs.StringVarP(p, "o", "o", def, usage)
}

// addMaxMemory declares --max-memory SIZE, the most memory a command's rows may take.
func addMaxMemory(fs *pflag.FlagSet, p *string, usage string) {
	fs.StringVar(p, "max-memory", "auto", usage+": bytes with an optional K, M, G or T (binary units), auto (the memory the system has available) or none")
}

// checkRowsMemory refuses, before anything is drawn or allocated, running fn over n rows
// when its inputs and outputs alone (train.Trainer.RowsMemory) exceed --max-memory max.
func checkRowsMemory(tr *train.Trainer, fn string, n int, max string) error {
	limit, err := parseMemory(max)
	if err != nil {
		return usagef("--max-memory %q: %v", max, err)
	}
	if limit == 0 || n <= 0 {
		return nil
	}
	need, err := tr.RowsMemory(fn, n)
	if err != nil || need <= limit {
		return err
	}
	return fmt.Errorf("-n %d: a run of %s over %d rows at once needs an estimated %s, more than --max-memory %s; ask for fewer rows, or raise the limit",
		n, fn, n, train.FormatBytes(need), train.FormatBytes(limit))
}

// addLabel declares --label K, the classes a conditional generator is asked for.
func addLabel(fs *pflag.FlagSet, p *string, usage string) {
	fs.StringVar(p, "label", "", usage)
}

// trainedFlags are those of a command that runs a trained model on one of its data
// sets: the checkpoint, the set, the rows of one run and where MNIST lies.
type trainedFlags struct {
	init, which, dataDir string
	batch                int
}

// declareTrained declares --init (the checkpoint of whose: "the autoencoder's"), --data
// (its default which, the set to do what with: "to encode"), --batch and --data-dir.
func (t *trainedFlags) declareTrained(fs *pflag.FlagSet, whose, which, what string) {
	addInit(fs, &t.init, whose+" checkpoint `FILE` (from dlc run --save)")
	addData(fs, &t.which, which, "the train block's data `SET` "+what+": train or test")
	addBatch(fs, &t.batch, "rows per run of the model")
	addDataDir(fs, &t.dataDir)
}

// dataOptions are where the data lies, as the flags say.
func (t *trainedFlags) dataOptions() train.DataOptions { return train.DataOptions{MNISTDir: t.dataDir} }

// minCount is the least value of an integer flag given on the command line: a count of
// samples or rows is at least 1; every other (epochs, steps, seed) at least 0. A default
// below it (-1: "as the train block says") can only be had by leaving the flag out.
var minCount = map[string]int64{"n": 1, "batch": 1}

// checkCounts refuses an integer flag set below its least value, which would otherwise
// be read as "no limit" or "the default" and silently do something else.
func checkCounts(fs *pflag.FlagSet) error {
	var err error
	fs.Visit(func(f *pflag.Flag) {
		if t := f.Value.Type(); err != nil || (t != "int" && t != "int64") {
			return
		}
		v, perr := strconv.ParseInt(f.Value.String(), 10, 64)
		if least := minCount[f.Name]; perr == nil && v < least {
			err = usagef("%s %d, want an integer >= %d", flagName(f), v, least)
		}
	})
	return err
}

// given reports whether the flag called name was set on the command line.
func given(fs *pflag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	return f != nil && f.Changed
}

// checkSplit refuses a --data value other than train or test before any work.
func checkSplit(which string) error {
	if which != "train" && which != "test" {
		return usagef("--data %q, want train or test (the train block's data sets)", which)
	}
	return nil
}

// parseLabels reads a list of classes, flag's value: 3 or 0,1,2 (nil for "").
func parseLabels(flag, s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(f), "%d", &n); err != nil || n < 0 {
			return nil, usagef("%s %q: want class numbers ≥ 0 separated by commas", flag, s)
		}
		out = append(out, n)
	}
	return out, nil
}

// addRange declares --range LO,HI, the values a picture draws from black to white.
func addRange(fs *pflag.FlagSet, p *string) {
	fs.StringVar(p, "range", "", "draw the pictures' values from `LO,HI` (black to white), e.g. -1,1 (default: the data's range, and for outputs their tanh's or sigmoid's)")
}

// parseRange reads --range LO,HI: nil for "", else two finite numbers with LO < HI.
func parseRange(s string) ([]float64, error) {
	if s == "" {
		return nil, nil
	}
	a, b, ok := strings.Cut(s, ",")
	lo, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	hi, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if !ok || err1 != nil || err2 != nil || !(lo < hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil, usagef("--range %q: want LO,HI, two finite numbers with LO < HI (e.g. -1,1)", s)
	}
	return []float64{lo, hi}, nil
}
