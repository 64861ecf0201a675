package data

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/dlc-lang/dlc/runtime/guard"
)

// ReadNodePairs reads the node pairs a link model scores: a CSV file whose header line is
// src,dst and whose every other line is a pair, or an integer .npy array [P, 2] (a .npy
// name says which). Every node must be in [0, n). A bad line is named by its line in the
// file, a bad row of an array by its row (from 0). A file that cannot be opened gives
// os.Open's error. (Pairs of steps, runtime's pairing, are another thing.)
func ReadNodePairs(path string, n int) (Pairs, error) {
	if err := guard.Read(path, "a pairs file"); err != nil {
		return Pairs{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Pairs{}, err
	}
	defer f.Close()
	var p Pairs
	if strings.HasSuffix(path, ".npy") {
		p, err = readNodePairsNPY(f, path, n)
	} else {
		p, err = readNodePairsCSV(f, path, n)
	}
	if err == nil && p.Len() == 0 {
		err = fmt.Errorf("%s: no pairs to score", path)
	}
	return p, err
}

func readNodePairsCSV(r io.Reader, name string, n int) (Pairs, error) {
	cr := csv.NewReader(skipBOM(r))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	var p Pairs
	for first := true; ; first = false {
		rec, err := cr.Read()
		if err == io.EOF {
			if first {
				return p, fmt.Errorf("%s: empty; want a header line src,dst and a pair per line", name)
			}
			return p, nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return p, fmt.Errorf("%s:%d: %v", name, pe.Line, pe.Err)
		} else if err != nil {
			return p, fmt.Errorf("%s: %v", name, err)
		}
		line, _ := cr.FieldPos(0)
		if first {
			if len(rec) != 2 || !strings.EqualFold(strings.TrimSpace(rec[0]), "src") || !strings.EqualFold(strings.TrimSpace(rec[1]), "dst") {
				return p, fmt.Errorf("%s:%d: header %q, want src,dst", name, line, strings.Join(rec, ","))
			}
			continue
		}
		if len(rec) != 2 {
			return p, fmt.Errorf("%s:%d: got %d fields, want 2 (src,dst)", name, line, len(rec))
		}
		if p.Len() >= MaxEdges {
			return p, fmt.Errorf("%s:%d: more than %d pairs", name, line, MaxEdges)
		}
		var pair [2]int32
		for i, col := range []string{"src", "dst"} {
			v, err := strconv.ParseInt(strings.TrimSpace(rec[i]), 10, 64)
			switch {
			case err != nil:
				return p, fmt.Errorf("%s:%d: %s %q is not a node number", name, line, col, rec[i])
			case v < 0 || v >= int64(n):
				return p, fmt.Errorf("%s:%d: %s %d is not a node of the graph, want [0, %d)", name, line, col, v, n)
			}
			pair[i] = int32(v)
		}
		p.Src = append(p.Src, pair[0])
		p.Dst = append(p.Dst, pair[1])
	}
}

// readNodePairsNPY reads an integer array [P, 2]. Its values pass through the float32 reader
// exactly: a node is below n ≤ MaxNodes = 2^24, and a value past that is refused
// whatever its rounding.
func readNodePairsNPY(r io.Reader, name string, n int) (Pairs, error) {
	v, shape, descr, err := ReadNPY(r, name)
	if err != nil {
		return Pairs{}, err
	}
	if len(descr) > 1 && descr[1] == 'f' {
		return Pairs{}, fmt.Errorf("%s: dtype %s, want an integer array (<i4, <i8 or |u1) of node numbers", name, descr)
	}
	if len(shape) != 2 || shape[1] != 2 {
		return Pairs{}, fmt.Errorf("%s: shape %v, want pairs [P, 2]: a source and a target node per row", name, shape)
	}
	if shape[0] > MaxEdges {
		return Pairs{}, fmt.Errorf("%s: %d pairs, want at most %d", name, shape[0], MaxEdges)
	}
	p := Pairs{Src: make([]int32, shape[0]), Dst: make([]int32, shape[0])}
	for i := range shape[0] {
		for j, col := range []string{"src", "dst"} {
			x := v[2*i+j]
			if x < 0 || x >= float32(n) {
				return Pairs{}, fmt.Errorf("%s: row %d: %s %.0f is not a node of the graph, want [0, %d)", name, i, col, x, n)
			}
			if j == 0 {
				p.Src[i] = int32(x)
			} else {
				p.Dst[i] = int32(x)
			}
		}
	}
	return p, nil
}

// NodePairsCSV writes pairs as a CSV file with the header src,dst, and with labelled a
// third column, label (1 for an edge, 0 for a non-edge). Without labels it is a file
// ReadNodePairs reads.
func NodePairsCSV(p Pairs, labelled bool) []byte {
	var b bytes.Buffer
	b.WriteString("src,dst")
	if labelled {
		b.WriteString(",label")
	}
	b.WriteByte('\n')
	for i := range p.Src {
		fmt.Fprintf(&b, "%d,%d", p.Src[i], p.Dst[i])
		if labelled {
			fmt.Fprintf(&b, ",%.0f", p.Label[i])
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}
