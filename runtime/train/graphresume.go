package train

import (
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc64"
	"math"

	"github.com/dlc-lang/dlc/runtime/data"
)

// Resuming a graph run. Its checkpoint holds what a supervised run's does (resume.go): the
// parameters and state, each optimiser's moments, the step count, the draw counters and
// the generator at the start of the next epoch; a graph run's generator draws the
// link task's fresh non-edges and the graph task's batch order, and a node task never draws,
// the node split and the held-out edges being drawn from the seed alone. For a set of
// graphs, progress says how far an interrupted epoch got: the graphs done and the sum of
// each batch's loss times its graph count, from which its mean goes on exactly.
//
// A run is only the same run on the same data, so the run state also names the data it
// trained on (graphIdentity): the task, the sizes and a CRC-64 of the graph's edges,
// features and labels. A checkpoint of another model already fails on its tensors
// (SetVars); one of the same model on another graph fails on this, naming what differs.

// graphIdentity is the "graph" member of a graph run's run state.
type graphIdentity struct {
	Task   string `json:"task"`
	Graphs int    `json:"graphs"`
	Nodes  int    `json:"nodes"`
	Edges  int    `json:"edges"`
	// CRC is the CRC-64 (ECMA) of every graph's sizes, edges, features and labels, in order.
	CRC string `json:"crc64"`
}

// identifySamples returns the identity of a run's training samples: task "samples", their
// count (under Nodes) and the CRC-64 of their shapes, X, Y and labels. A supervised,
// generative or autoencoder run records it like a graph run, so that its checkpoint
// resumes only on the data set it trained on, and a graph run's checkpoint not at all.
func identifySamples(s *data.Set) *graphIdentity {
	id := &graphIdentity{Task: "samples", Nodes: s.Len()}
	h := crc64.New(crc64.MakeTable(crc64.ECMA))
	var buf []byte
	for _, shape := range [][]int{s.XShape, s.YShape} {
		dims := make([]int32, len(shape)+1)
		dims[0] = int32(len(shape))
		for i, d := range shape {
			dims[i+1] = int32(d)
		}
		buf = hashInts(h, buf, dims)
	}
	buf = hashFloats(h, buf, s.X)
	buf = hashFloats(h, buf, s.Y)
	labels := make([]int32, len(s.Labels))
	for i, l := range s.Labels {
		labels[i] = int32(l)
	}
	hashInts(h, buf, labels)
	id.CRC = fmt.Sprintf("%016x", h.Sum64())
	return id
}

// identify returns the identity of a run's training data: one graph, or a set.
func identify(task string, g *data.Graph, set *data.GraphSet) *graphIdentity {
	id := &graphIdentity{Task: task}
	h := crc64.New(crc64.MakeTable(crc64.ECMA))
	var buf []byte
	graphs := []*data.Graph{g}
	if set != nil {
		graphs = set.Graphs
	}
	for _, g := range graphs {
		id.Graphs++
		id.Nodes += g.N
		id.Edges += g.E()
		buf = hashInts(h, buf, []int32{int32(g.N), int32(g.F), int32(g.E()), int32(g.Fe)})
		buf = hashInts(h, buf, g.Src)
		buf = hashInts(h, buf, g.Dst)
		buf = hashFloats(h, buf, g.X)
		buf = hashFloats(h, buf, g.EdgeX)
		buf = hashInts(h, buf, g.Labels)
		buf = hashInts(h, buf, g.GraphLabels)
		buf = hashFloats(h, buf, g.EdgeY) // nothing without edge targets: older checkpoints' crc64 holds
	}
	id.CRC = fmt.Sprintf("%016x", h.Sum64())
	return id
}

// hashInts and hashFloats write xs little-endian to h through buf, which they return for
// reuse.
func hashInts(h hash.Hash64, buf []byte, xs []int32) []byte {
	return hashWords(h, buf, xs, func(v int32) uint32 { return uint32(v) })
}

func hashFloats(h hash.Hash64, buf []byte, xs []float32) []byte {
	return hashWords(h, buf, xs, math.Float32bits)
}

func hashWords[T int32 | float32](h hash.Hash64, buf []byte, xs []T, bits func(T) uint32) []byte {
	for len(xs) > 0 {
		n := min(len(xs), 4096)
		buf = buf[:0]
		for _, v := range xs[:n] {
			buf = binary.LittleEndian.AppendUint32(buf, bits(v))
		}
		h.Write(buf)
		xs = xs[n:]
	}
	return buf
}

func (id *graphIdentity) String() string {
	switch id.Task {
	case "samples":
		return fmt.Sprintf("a run on a data set of %d samples (crc64 %s)", id.Nodes, id.CRC)
	case "graph":
		return fmt.Sprintf("a graph-level run on %d graphs of %d nodes and %d edges in all (crc64 %s)", id.Graphs, id.Nodes, id.Edges, id.CRC)
	}
	return fmt.Sprintf("a %s-level run on a graph of %d nodes and %d edges (crc64 %s)", id.Task, id.Nodes, id.Edges, id.CRC)
}

// checkIdentity fails unless the checkpoint at path was saved by a run of this task on
// the data this run has loaded. (A samples run's checkpoint from before runs recorded
// their data has no identity: it is taken on trust.)
func checkIdentity(path string, saved, here *graphIdentity) error {
	switch {
	case saved == nil && here.Task == "samples":
		return nil
	case saved == nil:
		return fmt.Errorf("--resume %s: the checkpoint's run state was not saved by a graph run; start from its weights with --init", path)
	case *saved == *here:
		return nil
	case saved.Task != here.Task && (saved.Task == "samples" || here.Task == "samples"):
		return fmt.Errorf("--resume %s: the checkpoint continues %s, not one of this task (%s); resume it with the model that saved it, or start from its weights with --init", path, saved, here)
	case saved.Task != here.Task || saved.Graphs != here.Graphs || saved.Nodes != here.Nodes || saved.Edges != here.Edges:
		return fmt.Errorf("--resume %s: the checkpoint continues %s; this run's data gives %s; resume on the data it trained on, or start from its weights with --init", path, saved, here)
	}
	if here.Task == "samples" {
		return fmt.Errorf("--resume %s: the checkpoint continues %s; this run's data has as many samples but other values (crc64 %s); resume on the data it trained on, or start from its weights with --init",
			path, saved, here.CRC)
	}
	return fmt.Errorf("--resume %s: the checkpoint continues %s; this run's data has the same sizes but other edges, features or labels (crc64 %s); resume on the data it trained on, or start from its weights with --init",
		path, saved, here.CRC)
}
