package train

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/dlc-lang/dlc/ir"
)

// How a run describes itself in its lines: the resolved settings, the phases and
// optimisers, named values.

// printSettings prints the run's resolved settings, one line.
func printSettings(out io.Writer, spec *ir.TrainSpec) {
	parts := []string{}
	for _, s := range spec.Settings() {
		parts = append(parts, s.Name+" = "+s.Value)
	}
	fmt.Fprintf(out, "settings: %s\n", strings.Join(parts, "; "))
}

func phasesString(tr *Trainer) string {
	var parts []string
	for _, ph := range tr.Spec.Phases {
		s := ph.Step
		if ph.Repeat > 1 {
			s += fmt.Sprintf(" ×%d", ph.Repeat)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func optString(tr *Trainer) string {
	var parts []string
	seen := map[string]bool{}
	for _, ph := range tr.Spec.Phases {
		s := ph.Optimizer.Source()
		if !seen[s] {
			seen[s] = true
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]float64) []string { return slices.Sorted(maps.Keys(m)) }

// namedString formats values as "  PREFIXname value" pairs in name order.
func namedString(prefix string, values map[string]float64) string {
	s := ""
	for _, k := range sortedKeys(values) {
		s += fmt.Sprintf("  %s%s %.4f", prefix, k, values[k])
	}
	return s
}

// nameList lists sorted names, the first eight of them when there are more.
func nameList(names []string) string {
	if len(names) == 0 {
		return "no tensors"
	}
	if len(names) > 8 {
		return fmt.Sprintf("%s, … (%d in all)", strings.Join(names[:8], ", "), len(names))
	}
	return strings.Join(names, ", ")
}
