package data

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/dlc-lang/dlc/ir"
)

// concat joins two sources of samples, a's then b's, each sample repeated as often as its
// source's weight says: a small real set and a large generated one, or the real digits
// weighted twice. The samples must be of one size and the targets of one size (or absent
// from both), so that one input reads them all; class labels are kept when both have them.

func loadConcat(src *Source, spec ir.DataSpec, o Options) (*Set, error) {
	if len(spec.Parts) != 2 {
		return nil, fmt.Errorf("data: concat joins 2 sources (a and b), got %d", len(spec.Parts))
	}
	var sets [2]*Set
	var weights [2]int
	for i, part := range spec.Parts {
		if part.Source == "concat" {
			return nil, fmt.Errorf("data: concat: %s is another concat, want a source of samples", ir.PartName(i))
		}
		s, err := load(part, o)
		if err != nil {
			return nil, fmt.Errorf("concat: %s: %w", ir.PartName(i), err)
		}
		sets[i] = s
		weights[i], _ = strconv.Atoi(src.value(spec.Args, "weight_"+ir.PartName(i)))
	}
	return ConcatSets(sets[0], sets[1], weights[0], weights[1])
}

// ConcatSets returns a's samples wa times, then b's wb times, in new arrays.
func ConcatSets(a, b *Set, wa, wb int) (*Set, error) {
	if a.XRow() != b.XRow() {
		return nil, fmt.Errorf("data: concat: a's samples hold %d values (%v) and b's %d (%v), want one size", a.XRow(), a.XShape[1:], b.XRow(), b.XShape[1:])
	}
	if (a.Y == nil) != (b.Y == nil) || a.YRow() != b.YRow() {
		return nil, fmt.Errorf("data: concat: a's targets are %v and b's %v, want targets of one size in both (or in neither)", targetsOf(a), targetsOf(b))
	}
	n := wa*a.Len() + wb*b.Len()
	if int64(n)*int64(a.XRow()) > MaxValues {
		return nil, fmt.Errorf("data: concat: %d samples of %d values are over the limit of %d values", n, a.XRow(), MaxValues)
	}
	out := &Set{XShape: append([]int{n}, a.XShape[1:]...)}
	if a.Y != nil {
		out.YShape = append([]int{n}, a.YShape[1:]...)
	}
	keepLabels := a.Labels != nil && b.Labels != nil
	for _, p := range []struct {
		s *Set
		w int
	}{{a, wa}, {b, wb}} {
		for range p.w {
			out.X = append(out.X, p.s.X...)
			if p.s.Y != nil {
				out.Y = append(out.Y, p.s.Y...)
			}
			if keepLabels {
				out.Labels = append(out.Labels, p.s.Labels...)
			}
		}
	}
	out.X, out.Y = slices.Clip(out.X), slices.Clip(out.Y)
	return out, nil
}

func targetsOf(s *Set) string {
	if s.Y == nil {
		return "absent"
	}
	return fmt.Sprint(s.YShape[1:])
}
