package data

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"github.com/dlc-lang/dlc/ir"
)

// Dims is what a data set holds, in the terms a model is checked against: how many
// samples, the shape of one sample and of one target. Peek reads it from the files'
// headers alone (an IDX or .npy header, a CSV file's first row), so that dlc check can
// say before any training that dlc run would fail; a loaded Set gives it too (Set.Dims),
// so that both commands check the data with one function (train.CheckData).
type Dims struct {
	N int   // samples; -1 when only reading every row would tell (a CSV file, a digit filter)
	X []int // one sample's shape
	// Y is one target's shape, nil when the data has no targets. YKnown is false when its
	// width depends on the values (classes counted from the largest label).
	Y      []int
	YKnown bool
	What   string // the source as a train block calls it: csv(path: "d.csv", …)
	// Graph marks a graph source: then F and Fe are the features of a node and of an edge,
	// and Classes the classes of its labels (0: none), and the fields above are unused; a
	// value of -1 is one only loading the graph tells. Known is false when none is known.
	Graph, Known bool
	F, Fe        int
	Classes      int
}

// GraphDims describes a loaded graph, or a set of graphs (then g is its first graph and
// classes the set's).
func GraphDims(g *Graph, classes int) Dims {
	return Dims{Graph: true, Known: true, F: g.F, Fe: g.Fe, Classes: classes, What: g.Name}
}

// Dims describes the loaded set s.
func (s *Set) Dims() Dims {
	d := Dims{N: s.Len(), X: s.XShape[1:], YKnown: true}
	if s.Y != nil {
		d.Y = s.YShape[1:]
	}
	return d
}

// Peek reads what spec's data source holds from its files' headers, never their data.
// Its errors (a missing file, a label column the header lacks) are those Load would report
// first, without the source's .dl position, which the caller adds.
func Peek(spec ir.DataSpec, o Options) (Dims, error) { return peek(spec, o) }

// Describe names spec's source as a train block calls it: csv(path: "d.csv", label: "y").
func Describe(spec ir.DataSpec) string {
	src, ok := Lookup(spec.Source)
	if !ok {
		return spec.Source
	}
	return describe(src, spec.Args)
}

func peek(spec ir.DataSpec, o Options) (Dims, error) {
	if err := Validate(spec.Source, spec.Args); err != nil {
		return Dims{}, fmt.Errorf("data: %w", err)
	}
	src, _ := Lookup(spec.Source)
	what := describe(src, spec.Args)
	if spec.Source == "concat" {
		d, err := peekConcat(spec, o)
		d.What = what
		return d, err
	}
	if src.load == nil {
		d, err := peekGraph(src, spec.Args)
		d.What = what
		return d, err
	}
	var d Dims
	var err error
	switch spec.Source {
	case "mnist":
		d, err = peekMNIST(spec.Args, o)
		d.N = countCap(d.N, src.value(spec.Args, "count"))
	case "mnist_pairs":
		if d, err = peekMNIST(map[string]string{"split": spec.Args["split"]}, o); err == nil {
			d.N = countCap(d.N, src.value(spec.Args, "count"))
			d.Y = []int{d.X[0]} // the target image
			if spec.Args["input"] == "low_res" {
				d.X = []int{d.X[0] / 4}
			}
		}
	case "csv":
		d, err = peekCSV(src, spec.Args)
	case "npy":
		d, err = peekNPY(src, spec.Args)
	default:
		return Dims{}, fmt.Errorf("data: %s: no header reader for this source", what)
	}
	d.What = what
	return d, err
}

func peekMNIST(args map[string]string, o Options) (Dims, error) {
	prefix := "train"
	if args["split"] == "test" {
		prefix = "t10k"
	}
	imagesFile, labelsFile := prefix+"-images-idx3-ubyte.gz", prefix+"-labels-idx1-ubyte.gz"
	dir, err := mnistDir(o.MNISTDir, imagesFile, labelsFile)
	if err != nil {
		return Dims{}, err
	}
	images, err := idxDims(filepath.Join(dir, imagesFile), idxImagesMagic)
	if err != nil {
		return Dims{}, err
	}
	labels, err := idxDims(filepath.Join(dir, labelsFile), idxLabelsMagic)
	if err != nil {
		return Dims{}, err
	}
	if len(images) != 3 || len(labels) != 1 || images[0] != labels[0] {
		return Dims{}, fmt.Errorf("data: mnist: %s has dimensions %v and %s %v, want [N, H, W] images and [N] labels", imagesFile, images, labelsFile, labels)
	}
	d := Dims{N: images[0], X: []int{images[1] * images[2]}, Y: []int{mnistClasses}, YKnown: true}
	if args["digits"] != "" {
		d.N = -1
	}
	return d, nil
}

// countCap is n capped at a source's count argument (0: no cap; n -1 stays unknown).
func countCap(n int, count string) int {
	k, _ := strconv.Atoi(count)
	if k > 0 && n > k {
		return k
	}
	return n
}

// peekConcat describes a concat from its parts' headers: a's shapes, which b's must match
// as loadConcat requires; the count is left unknown.
func peekConcat(spec ir.DataSpec, o Options) (Dims, error) {
	var ds [2]Dims
	if len(spec.Parts) != 2 {
		return Dims{}, fmt.Errorf("data: concat joins 2 sources (a and b), got %d", len(spec.Parts))
	}
	for i, part := range spec.Parts {
		d, err := peek(part, o)
		if err != nil {
			return Dims{}, fmt.Errorf("concat: %s: %w", ir.PartName(i), err)
		}
		if d.Graph {
			return Dims{}, fmt.Errorf("data: concat: %s is %s, a graph; want a source of samples", ir.PartName(i), d.What)
		}
		ds[i] = d
	}
	a, b := ds[0], ds[1]
	if prod(a.X) != prod(b.X) {
		return Dims{}, fmt.Errorf("data: concat: a's samples hold %d values (%v) and b's %d (%v), want one size", prod(a.X), a.X, prod(b.X), b.X)
	}
	if (a.Y == nil) != (b.Y == nil) || a.YKnown && b.YKnown && prod(a.Y) != prod(b.Y) {
		return Dims{}, fmt.Errorf("data: concat: a's targets are %v and b's %v, want targets of one size in both (or in neither)", a.Y, b.Y)
	}
	a.N, a.YKnown = -1, a.YKnown && b.YKnown
	return a, nil
}

func prod(xs []int) int {
	n := 1
	for _, x := range xs {
		n *= x
	}
	return n
}

// idxDims reads the dimensions of the IDX file at path (gzipped or not).
func idxDims(path string, magic uint32) ([]int, error) {
	f, _, err := openInput(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := maybeGunzip(f, path)
	if err != nil {
		return nil, err
	}
	return readIDXDims(r, path, magic)
}

// peekCSV reads a CSV file's first row, as readCSV takes it: a header when any field is not
// a number, the label column found in it (or by index), every other column a value.
func peekCSV(src *Source, args map[string]string) (Dims, error) {
	path := args["path"]
	f, _, err := openInput(path)
	if err != nil {
		return Dims{}, err
	}
	defer f.Close()
	r := &lineBoundedReader{r: f, max: MaxCSVLine, num: 1}
	cr := csv.NewReader(skipBOM(bufio.NewReaderSize(r, 64<<10)))
	cr.TrimLeadingSpace = true
	cr.FieldsPerRecord = -1
	rec, err := cr.Read()
	if err == io.EOF {
		return Dims{}, fmt.Errorf("data: csv(path: %q): no samples, want at least one", path)
	}
	if err != nil {
		return Dims{}, csvErr(path, err)
	}
	var header []string
	if isHeader(rec) {
		header = rec
	}
	label, err := labelIndex(path, src.value(args, "label"), header, len(rec))
	if err != nil {
		return Dims{}, err
	}
	d := Dims{N: -1, X: []int{len(rec)}, YKnown: true}
	if label >= 0 {
		d.X[0]--
		k, _ := strconv.Atoi(src.value(args, "classes"))
		switch {
		case src.value(args, "target") == "value":
			d.Y = []int{1}
		case k > 0:
			d.Y = []int{k}
		default:
			d.Y, d.YKnown = []int{0}, false
		}
	}
	return d, nil
}

// peekNPY reads the headers of a source's x and y arrays.
func peekNPY(src *Source, args map[string]string) (Dims, error) {
	xs, _, err := npyShape(args["x"])
	if err != nil {
		return Dims{}, err
	}
	if len(xs) == 0 {
		return Dims{}, errorf(args["x"], "0-d array, want samples [N, ...]")
	}
	if len(xs) == 1 {
		xs = []int{xs[0], 1}
	}
	d := Dims{N: xs[0], X: xs[1:], YKnown: true}
	y := args["y"]
	if y == "" {
		return d, nil
	}
	ys, descr, err := npyShape(y)
	if err != nil {
		return Dims{}, err
	}
	switch {
	case len(ys) == 0:
		return Dims{}, errorf(y, "0-d array, want targets [N, ...]")
	case ys[0] != xs[0]:
		return Dims{}, fmt.Errorf("data: %s has %d samples, %s has %d targets, want equal", args["x"], xs[0], y, ys[0])
	case len(ys) > 1:
		d.Y = ys[1:]
	case descr[1] == 'f':
		d.Y = []int{1}
	default:
		if k, _ := strconv.Atoi(src.value(args, "classes")); k > 0 {
			d.Y = []int{k}
		} else {
			d.Y, d.YKnown = []int{0}, false
		}
	}
	return d, nil
}

// npyShape reads the shape and dtype of the .npy file at path from its header.
func npyShape(path string) ([]int, string, error) {
	f, _, err := openInput(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	h, err := readNPYHeader(bufio.NewReader(f), path)
	if err != nil {
		return nil, "", err
	}
	return h.shape, h.descr, nil
}

// peekGraph tells what it can of a graph source without loading it: a graph_npy's widths
// from its arrays' headers, a graph_csv's node features from its node table's first row,
// a generated graph's from its arguments. The classes are known when the source declares
// them (classes: K).
func peekGraph(src *Source, args map[string]string) (Dims, error) {
	d := Dims{Graph: true, Known: true, F: -1, Fe: -1, Classes: -1}
	if k, err := strconv.Atoi(args["classes"]); err == nil && k > 0 {
		d.Classes = k
	}
	switch src.Name {
	case "graph_npy":
		xs, _, err := npyShape(args["x"])
		if err != nil {
			return Dims{}, err
		}
		if len(xs) == 2 {
			d.F = xs[1]
		}
		for _, k := range []string{"edges", "labels"} {
			if p := args[k]; p != "" {
				if _, _, err := npyShape(p); err != nil {
					return Dims{}, err
				}
			}
		}
		d.Fe = 0
		if e := args["edge_x"]; e != "" {
			es, _, err := npyShape(e)
			if err != nil {
				return Dims{}, err
			}
			if len(es) == 2 {
				d.Fe = es[1]
			}
		}
	case "graph_csv":
		nodes := args["nodes"]
		f, _, err := openInput(nodes)
		if err != nil {
			return Dims{}, err
		}
		defer f.Close()
		cr := csv.NewReader(skipBOM(bufio.NewReaderSize(&lineBoundedReader{r: f, max: MaxCSVLine, num: 1}, 64<<10)))
		cr.TrimLeadingSpace = true
		cr.FieldsPerRecord = -1
		rec, err := cr.Read()
		if err != nil {
			return Dims{}, csvErr(nodes, err)
		}
		var header []string
		if isHeader(rec) {
			header = rec
		}
		label := args["label"]
		if _, ok := src.Arg("label"); ok {
			label = src.value(args, "label")
		}
		if label == "-1" {
			label = ""
		}
		col, err := labelIndex(nodes, label, header, len(rec))
		if err != nil {
			return Dims{}, err
		}
		d.F = len(rec)
		if col >= 0 {
			d.F--
		}
		for _, k := range []string{"edges", "labels"} {
			if p := args[k]; p != "" {
				g, _, err := openInput(p)
				if err != nil {
					return Dims{}, err
				}
				g.Close()
			}
		}
	case "karate":
		d.F, d.Fe, d.Classes = 34, 0, 2
	default:
		return Dims{Graph: true}, nil // generated: its sizes are its arguments', checked when it is made
	}
	return d, nil
}
