package main

import (
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/ir"
)

// TestSampleBarAllocations: within an epoch of a supervised run, telling the bar of a step
// allocates nothing (it formats its description and draws at most every 100 ms), for one
// phase and for a GAN's two.
func TestSampleBarAllocations(t *testing.T) {
	for _, phases := range [][]ir.Phase{{{Name: "train"}}, {{Name: "d"}, {Name: "g"}}} {
		b := &sampleBar{w: io.Discard, spec: &ir.TrainSpec{Epochs: 3, Phases: phases}}
		losses := map[string]float64{}
		for _, ph := range phases {
			losses[ph.Name] = 0.5
		}
		b.progress(1, 16, 100000, losses)
		done := 16
		if n := testing.AllocsPerRun(200, func() {
			done += 16
			b.progress(1, done, 100000, losses)
		}); n != 0 {
			t.Errorf("%d phases: %.1f allocations a step", len(phases), n)
		}
		b.epochDone()
	}
}

// TestSampleBarDraws: a supervised run's bar (--progress always) shows each epoch with the
// running loss of each phase, is cleared before the epoch's line, and leaves the output as
// it is without a bar.
func TestSampleBarDraws(t *testing.T) {
	dir := t.TempDir()
	writePoints(t, dir, 64)
	for _, tc := range []struct{ name, src, want string }{
		{"gan.dl", tinyGAN, "epoch 2/2 d_loss "},
		{"reg.dl", tinyRegression, "epoch 4/4 loss "},
	} {
		model := writeFile(t, dir, tc.name, tc.src)
		_, plain, _ := run(t, "run", model, "--out", "", "--progress", "never")
		code, out, stderr := run(t, "run", model, "--out", "", "--progress", "always")
		if code != 0 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "samples") {
			t.Errorf("%s --progress always: exit %d, stderr %q; want a bar with %q", tc.name, code, stderr, tc.want)
		}
		if !strings.HasSuffix(stderr, "\r") { // a drawn frame ends in its text, a cleared one in \r
			t.Errorf("%s: the bar is not cleared at the end: %q", tc.name, stderr)
		}
		if a, b := regexpSupervisedTiming.ReplaceAllString(out, ""), regexpSupervisedTiming.ReplaceAllString(plain, ""); a != b {
			t.Errorf("%s: the bar changed the output:\n%s\nwant\n%s", filepath.Base(model), a, b)
		}
	}
}

var regexpSupervisedTiming = regexp.MustCompile(`[0-9.]+s +[0-9.e+]+ samples/s`)
