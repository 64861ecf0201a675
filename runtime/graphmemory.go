package runtime

import (
	"fmt"
	"strings"

	"github.com/dlc-lang/dlc/ir"
)

// The memory of a graph run: the programs' planned buffers at the data's sizes
// (GraphMemory), and the segment-index caches the graph kernels keep in each program's Ctx.
//
// A cache entry (kernels_graph_index.go) is built per distinct index a program's segment
// ops read, and per segment count: a copy of the E index values it was built from, their
// permutation by segment (E) and the n+1 segment offsets, all int32; an index that a fused
// gather_segment op reads through also keeps the gather index in segment order and a copy
// of it (2E more). That is 8E + 4(n+1) bytes per index, 16E + 4(n+1) with the columns: at a
// million edges, 16 MB for each index of each program, which the plans do not count.

// indexOperand is the operand of a segment op that the cache indexes, or -1.
func indexOperand(kind string) int {
	switch kind {
	case "segment_sum", "segment_mean", "segment_max", "segment_min":
		return 1
	case "segment_count":
		return 0
	case "segment_argext_grad":
		return 3
	case "gather_segment_sum", "gather_segment_mean":
		return 2
	}
	return -1
}

func rowsDim(o *ir.Op) (ir.Dim, error) {
	if len(o.Type.Shape) == 0 {
		return ir.Dim{}, fmt.Errorf("operand %s is a scalar, want rows", o.Ref())
	}
	return o.Type.Shape[0], nil
}

// indexBytesAt is what the segment-index cache of f's program holds when run with the
// symbols bound by env: one entry per index operand and segment count among the ops the
// program runs.
func indexBytesAt(f *ir.Func, env map[string]int) (int64, error) {
	p, err := Compile(f)
	if err != nil {
		return 0, err
	}
	type key struct {
		idx *ir.Op
		n   int
	}
	type entry struct {
		e    int
		cols bool
	}
	entries := map[key]*entry{}
	var order []key
	for _, s := range p.steps {
		at := indexOperand(s.op.Kind)
		if at < 0 || at >= len(s.op.Args) {
			continue
		}
		var d ir.Dim
		var err error
		if s.op.Kind == "segment_argext_grad" {
			d, err = rowsDim(s.op.Args[2]) // its segments are y's rows
		} else {
			d, err = ir.SegmentCount(s.op.Attrs)
		}
		if err != nil {
			return 0, opErrorf(s.op, "%v", err)
		}
		n, err := d.Eval(env)
		if err != nil {
			return 0, opErrorf(s.op, "%v", err)
		}
		idx := s.op.Args[at]
		if len(idx.Type.Shape) != 1 {
			return 0, opErrorf(s.op, "index operand %d has shape %v, want [E]", at, idx.Type.Shape)
		}
		e, err := idx.Type.Shape[0].Eval(env)
		if err != nil {
			return 0, opErrorf(s.op, "%v", err)
		}
		k := key{idx, n}
		if entries[k] == nil {
			entries[k] = &entry{e: e}
			order = append(order, k)
		}
		entries[k].cols = entries[k].cols || strings.HasPrefix(s.op.Kind, "gather_segment_")
	}
	var total int64
	for _, k := range order {
		c := entries[k]
		per := int64(8)
		if c.cols {
			per = 16
		}
		total += per*int64(c.e) + 4*int64(k.n+1)
	}
	return total, nil
}

// IndexCacheBytes is what the segment-index caches of p's Ctx hold now, the lengths of
// every entry's arrays (their capacities may be rounded up to an allocation size class),
// and how many entries there are: what GraphMemory's Index estimates at the sizes p ran at.
func (p *Program) IndexCacheBytes() (n int64, entries int) {
	if p.ctx.graph == nil {
		return 0, 0
	}
	for _, e := range p.ctx.graph.indexes {
		entries++
		n += 4 * int64(len(e.key)+len(e.perm)+len(e.start)+len(e.cols)+len(e.colsKey))
	}
	return n, entries
}
