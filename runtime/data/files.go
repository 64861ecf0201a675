package data

import (
	"os"
	"path/filepath"

	"github.com/dlc-lang/dlc/ir"
	"github.com/dlc-lang/dlc/ir/schema"
)

// Files lists the files a data source reads, as far as its arguments name them: each
// path argument, the regular files of a directory argument, those of a combination's parts,
// and for mnist (and mnist_pairs) the files of
// the directory o or $DLC_MNIST_DIR names. A command that uses a trained model without
// loading its data (dlc sample) records them as the model's inputs, so that none of its
// outputs can replace the data the model was trained on.
func Files(spec ir.DataSpec, o Options) []string {
	src, ok := Lookup(spec.Source)
	if !ok {
		return nil
	}
	var files []string
	for _, part := range spec.Parts { // concat's sources
		files = append(files, Files(part, o)...)
	}
	for _, a := range src.Args {
		p := spec.Args[a.Name]
		if a.Kind != schema.Path || p == "" {
			continue
		}
		fi, err := os.Stat(p)
		if err != nil || !fi.IsDir() {
			files = append(files, p)
			continue
		}
		files = append(files, regularFiles(p)...)
	}
	if spec.Source == "mnist" || spec.Source == "mnist_pairs" {
		dir := o.MNISTDir
		if dir == "" {
			dir = os.Getenv("DLC_MNIST_DIR")
		}
		if dir != "" {
			files = append(files, regularFiles(dir)...)
		}
	}
	return files
}

// regularFiles lists the regular files directly in dir.
func regularFiles(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	return files
}
