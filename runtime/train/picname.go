package train

import (
	"path/filepath"
	"strings"
)

// PictureBase names a run's pictures (BASE-loss.png, BASE-samples.png, …) after the .dl
// file at source: its stem, prefixed with the name of its directory when the path names
// one. examples/classifier/mlp.dl and examples/gan/mlp.dl are two models, and writing
// both to mlp-loss.png would lose the first run's pictures: they become classifier-mlp
// and gan-mlp. A file named without a directory (mlp.dl, ./mlp.dl) keeps its stem, so a
// project's own file is named as it always was. The directory is its last element as an
// absolute path, so that ../mlp.dl is named after the directory it is in, not "..".
func PictureBase(source string) string {
	stem := strings.TrimSuffix(filepath.Base(source), filepath.Ext(source))
	dir := filepath.Dir(source)
	if dir == "." {
		return stem
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	parent := filepath.Base(dir)
	if parent == string(filepath.Separator) || parent == "." || parent == "" {
		return stem
	}
	return parent + "-" + stem
}
