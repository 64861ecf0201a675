package data

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Graph files. A graph is a node table and an edge list:
//
//   - the node table has one row per node, node i on data row i (0-based,
//     header aside), its columns the node's features, plus optionally one
//     column holding the node's class (-1 for unknown); as CSV it is read
//     like the csv source, as .npy it is an array [N, F] (1-d: [N, 1]);
//   - node labels may instead come from a label table of their own: a CSV
//     of one column, or a 1-d integer .npy, one class per node;
//   - the edge list has one row per edge, source then target node (0-based
//     rows of the node table): as CSV two columns and then the edge's
//     features, if any (a header row is optional); as .npy an integer array
//     [E, 2], with edge features, if any, in a float .npy [E, Fe] of their
//     own. (PyTorch Geometric's edge_index is [2, E]: save its transpose.)
//
// Errors name the file and the line (CSV) or the row (.npy) at fault: a
// row with a different number of fields than the first, an index that is
// negative, fractional or not below the node count, a label table whose
// length is not the node table's.

// GraphFiles names the files of one graph and how to read them.
type GraphFiles struct {
	Nodes  string // the node table
	Edges  string // the edge list
	Label  string // CSV: the node table's label column, a header name or 0-based index; "" for none
	Labels string // a separate label table; "" for none
	EdgeX  string // .npy: edge features [E, Fe]; "" for none
	// Edge targets: CSV, the edge list's target column (a header name or a 0-based
	// index, 2 or more), read as classes or, with EdgeValues, real values; .npy, a file
	// [E] of integer classes or float values. "" for none.
	EdgeLabel  string
	EdgeValues bool
	EdgeY      string
	// Classes is the class count; 0 infers the largest label plus one.
	Classes int
}

// GraphCSV reads a graph from a CSV node table and a CSV edge list.
func GraphCSV(files GraphFiles) (*Graph, error) {
	label := files.Label
	if label == "" {
		label = "-1"
	}
	nodes, err := openCSV(files.Nodes, CSVOptions{LabelColumn: label, Regression: true})
	if err != nil {
		return nil, err
	}
	g := &Graph{Name: files.Edges, N: nodes.Len(), F: nodes.XRow(), X: nodes.X, Graphs: 1}
	if g.N > MaxNodes {
		return nil, errorf(files.Nodes, "%d nodes, want at most %d", g.N, MaxNodes)
	}
	switch {
	case nodes.Y != nil && files.Labels != "":
		return nil, errorf(files.Nodes, "labels given both as column %q and as file %s, want one", files.Label, files.Labels)
	case nodes.Y != nil:
		if g.Labels, err = classIndices(files.Nodes, nodes.Y); err != nil {
			return nil, err
		}
	case files.Labels != "":
		t, err := openCSV(files.Labels, CSVOptions{})
		if err != nil {
			return nil, err
		}
		if t.XRow() != 1 {
			return nil, errorf(files.Labels, "%d columns, want one: the class of each node", t.XRow())
		}
		if g.Labels, err = labelTable(files.Labels, t.X, files.Nodes, g.N); err != nil {
			return nil, err
		}
	}
	f, _, err := openInput(files.Edges)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	header, err := readEdgeCSV(f, files.Edges, g)
	if err != nil {
		return nil, err
	}
	if files.EdgeLabel != "" {
		if err := edgeTargetColumn(g, files, header); err != nil {
			return nil, err
		}
	}
	return finishGraph(g, files)
}

// edgeTargetColumn moves the edge list's target column files.EdgeLabel out of the edge
// features into g.EdgeY, as classes (their count inferred) or as values.
func edgeTargetColumn(g *Graph, files GraphFiles, header []string) error {
	c, err := strconv.Atoi(files.EdgeLabel)
	if err != nil {
		c = -1
		for i, h := range header {
			if strings.TrimSpace(h) == files.EdgeLabel {
				c = i
			}
		}
		if c < 0 {
			if header == nil {
				return errorf(files.Edges, "edge_label %q: the edge list has no header, want a column index", files.EdgeLabel)
			}
			return errorf(files.Edges, "edge_label %q: no such column (have %s)", files.EdgeLabel, strings.Join(header, ", "))
		}
	}
	if c < 2 || c >= 2+g.Fe {
		return errorf(files.Edges, "edge_label %s: column %d, want one of the columns after the source and target, 2 to %d", files.EdgeLabel, c, 1+g.Fe)
	}
	k, fe := c-2, g.Fe
	g.EdgeY = make([]float32, g.E())
	x := g.EdgeX[:0]
	for e := range g.E() {
		row := g.EdgeX[e*fe : (e+1)*fe]
		g.EdgeY[e] = row[k]
		x = append(x, row[:k]...)
		x = append(x, row[k+1:]...)
	}
	g.Fe, g.EdgeX = fe-1, x
	if g.Fe == 0 {
		g.EdgeX = nil
	}
	if files.EdgeValues {
		return nil
	}
	return edgeClasses(g, files.Edges)
}

// edgeClasses checks that g.EdgeY holds class indices (-1 unknown) and sets their count,
// the largest plus one.
func edgeClasses(g *Graph, name string) error {
	top := float32(-1)
	for e, y := range g.EdgeY {
		if y != float32(math.Trunc(float64(y))) || y < -1 || y >= MaxClasses {
			return errorf(name, "edge %d: target %v, want a class index in [0, %d) or -1 (unknown)", e, y, MaxClasses)
		}
		top = max(top, y)
	}
	if top < 0 {
		return errorf(name, "no edge has a known target class, want at least one")
	}
	g.EdgeClasses = int(top) + 1
	return nil
}

// GraphNPY reads a graph from .npy files: node features [N, F], edges
// [E, 2], and optionally labels [N] and edge features [E, Fe].
func GraphNPY(files GraphFiles) (*Graph, error) {
	x, xs, _, err := readNPYFile(files.Nodes)
	if err != nil {
		return nil, err
	}
	switch len(xs) {
	case 1:
		xs = []int{xs[0], 1}
	case 2:
	default:
		return nil, errorf(files.Nodes, "shape %v, want node features [N, F]", xs)
	}
	if xs[0] > MaxNodes {
		return nil, errorf(files.Nodes, "%d nodes, want at most %d", xs[0], MaxNodes)
	}
	g := &Graph{Name: files.Edges, N: xs[0], F: xs[1], X: x, Graphs: 1}
	if files.Labels != "" {
		y, err := readIndexNPY(files.Labels, 1)
		if err != nil {
			return nil, err
		}
		if g.Labels, err = labelTable(files.Labels, y, files.Nodes, g.N); err != nil {
			return nil, err
		}
	}
	e, err := readIndexNPY(files.Edges, 2)
	if err != nil {
		return nil, err
	}
	if g.Src, g.Dst, err = edgeIndices(files.Edges, e, g.N); err != nil {
		return nil, err
	}
	if files.EdgeX != "" {
		ex, es, _, err := readNPYFile(files.EdgeX)
		if err != nil {
			return nil, err
		}
		if len(es) == 1 {
			es = []int{es[0], 1}
		}
		if len(es) != 2 || es[0] != g.E() {
			return nil, fmt.Errorf("data: %s has shape %v, want edge features [%d, Fe] for the %d edges of %s", files.EdgeX, es, g.E(), g.E(), files.Edges)
		}
		g.Fe, g.EdgeX = es[1], ex
	}
	if files.EdgeY != "" {
		y, ys, descr, err := readNPYFile(files.EdgeY)
		if err != nil {
			return nil, err
		}
		if len(ys) != 1 || ys[0] != g.E() {
			return nil, fmt.Errorf("data: %s has shape %v, want edge targets [%d] for the %d edges of %s", files.EdgeY, ys, g.E(), g.E(), files.Edges)
		}
		g.EdgeY = y
		if descr[1] != 'f' {
			if err := edgeClasses(g, files.EdgeY); err != nil {
				return nil, err
			}
		}
	}
	return finishGraph(g, files)
}

// finishGraph settles the class count and checks the whole graph.
func finishGraph(g *Graph, files GraphFiles) (*Graph, error) {
	if g.Labels != nil {
		name := files.Labels
		if name == "" {
			name = files.Nodes
		}
		k, err := classCount(name, g.Labels, files.Classes)
		if err != nil {
			return nil, err
		}
		g.Classes = k
	}
	return g, g.Validate()
}

// classCount checks labels against a declared count k, or infers it.
func classCount(name string, labels []int32, k int) (int, error) {
	if k < 0 || k > MaxClasses {
		return 0, errorf(name, "%d classes, want 1 to %d", k, MaxClasses)
	}
	inferred := 0
	for i, l := range labels {
		if k > 0 && int(l) >= k {
			return 0, errorf(name, "node %d: label %d, want a class below %d", i, l, k)
		}
		inferred = max(inferred, int(l)+1)
	}
	if k == 0 {
		if inferred == 0 {
			return 0, errorf(name, "every label is -1 (unknown), want at least one class")
		}
		k = inferred
	}
	return k, nil
}

func openCSV(path string, opts CSVOptions) (*Set, error) {
	f, _, err := openInput(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readCSV(f, path, opts)
}

// classIndices converts label values read as floats to class indices,
// -1 meaning unknown.
func classIndices(name string, v []float32) ([]int32, error) {
	out := make([]int32, len(v))
	for i, x := range v {
		if x != float32(math.Trunc(float64(x))) || x < -1 || x >= MaxClasses {
			return nil, errorf(name, "node %d: label %v, want a class index in [0, %d) or -1 (unknown)", i, x, MaxClasses)
		}
		out[i] = int32(x)
	}
	return out, nil
}

// labelTable checks that a label table has one label per node of the node
// table and converts it.
func labelTable(name string, v []float32, nodesName string, n int) ([]int32, error) {
	if len(v) != n {
		return nil, fmt.Errorf("data: %s has %d labels but %s has %d nodes, want one label per node", name, len(v), nodesName, n)
	}
	return classIndices(name, v)
}

// readIndexNPY reads an integer .npy array of the given rank, refusing a
// float dtype: an index written as 3.0 is more likely a wrong file than a
// node. Its values stay exact through the float32 reader because every
// caller refuses graphs of more than MaxNodes = 2^24 nodes.
func readIndexNPY(path string, rank int) ([]float32, error) {
	v, shape, descr, err := readNPYFile(path)
	if err != nil {
		return nil, err
	}
	if descr[1] == 'f' {
		return nil, errorf(path, "dtype %s, want an integer array (<i4, <i8 or |u1)", descr)
	}
	switch {
	case rank == 1 && len(shape) != 1:
		return nil, errorf(path, "shape %v, want a 1-d array", shape)
	case rank == 2 && (len(shape) != 2 || shape[1] != 2):
		return nil, errorf(path, "shape %v, want edges [E, 2]: a source and a target per row", shape)
	}
	return v, nil
}

// edgeIndices splits rows (source, target) into Src and Dst, checking
// each against n nodes.
func edgeIndices(name string, v []float32, n int) (src, dst []int32, err error) {
	e := len(v) / 2
	if e > MaxEdges {
		return nil, nil, errorf(name, "%d edges, want at most %d", e, MaxEdges)
	}
	src, dst = make([]int32, e), make([]int32, e)
	for i := range e {
		s, d := v[2*i], v[2*i+1]
		if s < 0 || int(s) >= n {
			return nil, nil, errorf(name, "edge %d (row %d): source %.0f out of range, want a node in [0, %d)", i, i, s, n)
		}
		if d < 0 || int(d) >= n {
			return nil, nil, errorf(name, "edge %d (row %d): target %.0f out of range, want a node in [0, %d)", i, i, d, n)
		}
		src[i], dst[i] = int32(s), int32(d)
	}
	return src, dst, nil
}

// readEdgeCSV reads an edge list into g.Src, g.Dst and, past the first two
// columns, g.EdgeX, checking each index against g.N as it goes so that the
// error can name the line. It returns the header row, nil when there is none.
func readEdgeCSV(r io.Reader, name string, g *Graph) (header []string, err error) {
	r = &boundedReader{r: skipBOM(r), left: MaxFileBytes}
	r = &lineBoundedReader{r: r, max: MaxCSVLine, num: 1}
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	cols := 0
	for first := true; ; first = false {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(name, err)
		}
		line, _ := cr.FieldPos(0)
		if first {
			cols = len(rec)
			if cols < 2 {
				return nil, lineErrorf(name, line, "got %d field, want a source and a target per edge", cols)
			}
			g.Fe = cols - 2
			if isHeader(rec) {
				header = slices.Clone(rec)
				continue // a header
			}
		}
		if len(rec) != cols {
			return nil, lineErrorf(name, line, "got %d fields, want %d like the first row", len(rec), cols)
		}
		if len(g.Src) >= MaxEdges || len(g.EdgeX) > MaxValues-g.Fe {
			return nil, lineErrorf(name, line, "more than %d edges or %d edge feature values", MaxEdges, MaxValues)
		}
		for k, end := range []string{"source", "target"} {
			v, err := strconv.ParseFloat(strings.TrimSpace(rec[k]), 64)
			switch {
			case err != nil || v != math.Trunc(v):
				return nil, lineErrorf(name, line, "%s %q, want a node index (an integer)", end, rec[k])
			case v < 0 || v >= float64(g.N):
				return nil, lineErrorf(name, line, "%s %.0f out of range, want a node in [0, %d)", end, v, g.N)
			}
			if k == 0 {
				g.Src = append(g.Src, int32(v))
			} else {
				g.Dst = append(g.Dst, int32(v))
			}
		}
		for k, field := range rec[2:] {
			v, err := parseField(field)
			if err != nil {
				return nil, lineErrorf(name, line, "edge feature %d: got %q, want %s", k, field, err)
			}
			g.EdgeX = append(g.EdgeX, float32(v))
		}
	}
	if g.Fe == 0 {
		g.EdgeX = nil
	}
	return header, nil
}

// The many-graphs format, for graph classification: a directory holding
//
//	graph_id.npy      [N] integer: the graph of each node; graphs are
//	                  numbered 0, 1, … G-1 and their nodes are contiguous,
//	                  so the ids never decrease and skip no graph
//	graph_labels.npy  [G] integer: the class of each graph
//	edges.npy         [E, 2] integer: source and target of each edge, as
//	                  rows of graph_id.npy (global node ids, not per graph);
//	                  both ends in the same graph
//	x.npy             [N, F] float, optional: node features; without it
//	                  each node has one feature, 1
//	edge_x.npy        [E, Fe] float, optional: edge features
//
// This is the TU-dataset layout (one table per kind of record, global node
// ids, a graph indicator per node) in .npy files, so NumPy writes it with
// five np.save calls. Graphs reads it into a GraphSet of one Graph per
// graph, node ids made local.

// GraphsDir reads the many-graphs format from dir; classes is the class
// count, 0 to infer the largest label plus one.
func GraphsDir(dir string, classes int) (*GraphSet, error) {
	path := func(f string) string { return dir + string(os.PathSeparator) + f }
	gid, err := readIndexNPY(path("graph_id.npy"), 1)
	if err != nil {
		return nil, err
	}
	glab, err := readIndexNPY(path("graph_labels.npy"), 1)
	if err != nil {
		return nil, err
	}
	n, G := len(gid), len(glab)
	if n > MaxNodes {
		return nil, errorf(path("graph_id.npy"), "%d nodes, want at most %d", n, MaxNodes)
	}
	u := &Graph{Name: path("edges.npy"), N: n, F: 1, Graphs: G, GraphID: make([]int32, n)}
	for i, v := range gid {
		prev := float32(-1)
		if i > 0 {
			prev = gid[i-1]
		}
		if (v != prev || i == 0) && v != prev+1 || v >= float32(G) {
			return nil, errorf(path("graph_id.npy"), "node %d: graph %v after graph %v, want graphs numbered 0 to %d in order, none empty", i, v, prev, G-1)
		}
		u.GraphID[i] = int32(v)
	}
	if G > 0 && (n == 0 || u.GraphID[n-1] != int32(G-1)) {
		return nil, fmt.Errorf("data: %s has %d graph labels but %s has nodes for %d graphs, want one label per graph",
			path("graph_labels.npy"), G, path("graph_id.npy"), max(0, int(lastOr(u.GraphID, -1))+1))
	}
	if u.GraphLabels, err = classIndices(path("graph_labels.npy"), glab); err != nil {
		return nil, err
	}
	for i, l := range u.GraphLabels {
		if l < 0 {
			return nil, errorf(path("graph_labels.npy"), "graph %d: label -1, want a class index", i)
		}
	}
	if u.Classes, err = classCount(path("graph_labels.npy"), u.GraphLabels, classes); err != nil {
		return nil, err
	}
	if x, xs, _, err := readNPYFile(path("x.npy")); err == nil {
		if len(xs) == 1 {
			xs = []int{xs[0], 1}
		}
		if len(xs) != 2 || xs[0] != n {
			return nil, fmt.Errorf("data: %s has shape %v, want node features [%d, F] for the %d nodes of %s", path("x.npy"), xs, n, n, path("graph_id.npy"))
		}
		u.F, u.X = xs[1], x
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	} else {
		u.X = make([]float32, n)
		for i := range u.X {
			u.X[i] = 1
		}
	}
	e, err := readIndexNPY(path("edges.npy"), 2)
	if err != nil {
		return nil, err
	}
	if u.Src, u.Dst, err = edgeIndices(path("edges.npy"), e, n); err != nil {
		return nil, err
	}
	for i, s := range u.Src {
		if a, b := u.GraphID[s], u.GraphID[u.Dst[i]]; a != b {
			return nil, errorf(path("edges.npy"), "edge %d (row %d): joins node %d of graph %d to node %d of graph %d, want both ends in one graph",
				i, i, s, a, u.Dst[i], b)
		}
	}
	if ex, es, _, err := readNPYFile(path("edge_x.npy")); err == nil {
		if len(es) == 1 {
			es = []int{es[0], 1}
		}
		if len(es) != 2 || es[0] != u.E() {
			return nil, fmt.Errorf("data: %s has shape %v, want edge features [%d, Fe] for the %d edges of %s", path("edge_x.npy"), es, u.E(), u.E(), path("edges.npy"))
		}
		u.Fe, u.EdgeX = es[1], ex
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := u.Validate(); err != nil {
		return nil, err
	}
	return Unbatch(u, dir), nil
}

func lastOr(v []int32, def int32) int32 {
	if len(v) == 0 {
		return def
	}
	return v[len(v)-1]
}

// Unbatch splits a valid disjoint union whose graphs' nodes are
// contiguous (GraphID never decreasing) into a GraphSet of its graphs,
// each with node ids local to it and its label from GraphLabels.
func Unbatch(u *Graph, name string) *GraphSet {
	set := &GraphSet{Name: name, Classes: u.Classes, Graphs: make([]*Graph, u.Graphs)}
	start := make([]int, u.Graphs+1) // first node of each graph
	for _, id := range u.GraphID {
		start[id+1]++
	}
	for k := range u.Graphs {
		start[k+1] += start[k]
	}
	for k := range set.Graphs {
		a, b := start[k], start[k+1]
		g := &Graph{Name: fmt.Sprintf("%s: graph %d", name, k), N: b - a, F: u.F, Fe: u.Fe,
			X: u.X[a*u.F : b*u.F], Classes: u.Classes, Graphs: 1}
		if u.GraphLabels != nil {
			g.GraphLabels = u.GraphLabels[k : k+1]
		}
		if u.Labels != nil {
			g.Labels = u.Labels[a:b]
		}
		set.Graphs[k] = g
	}
	for e, s := range u.Src {
		g := set.Graphs[u.GraphID[s]]
		a := int32(start[u.GraphID[s]])
		g.Src = append(g.Src, s-a)
		g.Dst = append(g.Dst, u.Dst[e]-a)
		if u.Fe > 0 {
			g.EdgeX = append(g.EdgeX, u.EdgeX[e*u.Fe:(e+1)*u.Fe]...)
		}
	}
	return set
}
