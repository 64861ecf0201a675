package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dlc-lang/dlc/export"
	"github.com/dlc-lang/dlc/runtime/train"
	"github.com/spf13/pflag"
)

type importFlags struct {
	like, out string
}

func (f *importFlags) declare(fs *pflag.FlagSet) {
	fs.StringVar(&f.like, "like", "", "the .dl `FILE` whose model the weights are for")
	addOutput(fs, &f.out, "", "the dlc checkpoint `FILE` to write")
}

// importTorch is dlc import T.safetensors --like FILE -o W.safetensors.
func (s *session) importTorch(_ *pflag.FlagSet, file string, f importFlags) error {
	if f.like == "" || f.out == "" {
		return usagef("want --like FILE (the .dl file) and -o W.safetensors")
	}
	if train.SameFile(f.out, file) || train.SameFile(f.out, f.like) {
		return usagef("-o %s names one of the inputs; refusing to overwrite it", f.out)
	}
	m, err := s.compileFile(f.like, false)
	if err != nil {
		return err
	}
	mp, err := export.Import(file, m)
	if err != nil {
		return err
	}
	if err := export.Save(f.out, mp.Vars, f.like); err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "wrote %s: %d tensors, %d dense weights transposed to dlc's [in, out]\n", f.out, len(mp.Vars), len(mp.Transposed))
	if len(mp.Renamed) > 0 {
		var r []string
		for _, k := range sortedNames(mp.Renamed) {
			r = append(r, k+" → "+mp.Renamed[k])
		}
		fmt.Fprintf(s.stdout, "renamed: %s\n", strings.Join(r, ", "))
	}
	if len(mp.Unmapped) > 0 {
		fmt.Fprintf(s.stdout, "not mapped (ignored): %s\n", strings.Join(mp.Unmapped, ", "))
	}
	return nil
}

func sortedNames(m map[string]string) []string {
	ks := slices.Collect(maps.Keys(m))
	slices.Sort(ks)
	return ks
}
