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

// TestBarFitsTerminal: a GAN's bar (its description names both phases' losses) and a
// graph run's bar stay within a terminal of 80 or 40 columns, as drawn and as cleared,
// through an epoch.
func TestBarFitsTerminal(t *testing.T) {
	gan := &ir.TrainSpec{Epochs: 100, Phases: []ir.Phase{{Name: "d"}, {Name: "g"}}}
	for _, cols := range []int{80, 40} {
		var buf strings.Builder
		b := &sampleBar{w: &buf, cols: cols, spec: gan}
		losses := map[string]float64{"d": 123.4567, "g": 0.5}
		b.progress(100, 0, 60000, losses)
		b.progress(100, 60000, 60000, losses)
		b.epochDone()
		g := &graphBar{w: &buf, cols: cols, spec: &ir.TrainSpec{Epochs: 1000, Task: ir.TaskNode, Phases: []ir.Phase{{Name: "train"}}}}
		for e := 1; e <= 3; e++ {
			g.progress(e, e-1, 1000, map[string]float64{"train": 0.25})
			g.epochDone()
		}
		frames := strings.FieldsFunc(buf.String(), func(r rune) bool { return r == '\r' || r == '\n' })
		if len(frames) < 3 {
			t.Fatalf("%d columns: %d frames drawn: %q", cols, len(frames), buf.String())
		}
		for _, f := range frames {
			if n := len([]rune(f)); n > cols-1 {
				t.Errorf("%d columns: a frame of %d: %q", cols, n, f)
			}
		}
	}
}

// TestFitWriter: a line longer than the terminal is cut at its last column, lines are
// counted from each carriage return or newline, and what fits passes as it is.
func TestFitWriter(t *testing.T) {
	var buf strings.Builder
	w := fitWriter{w: &buf, cols: 6}
	if n, err := w.Write([]byte("\r12345\r█████████\n1234567\r")); err != nil || n != 43 { // bytes: █ is three
		t.Fatalf("wrote %d, %v", n, err)
	}
	if got, want := buf.String(), "\r12345\r█████\n12345\r"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
