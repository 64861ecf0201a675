package main

import (
	"fmt"
	"io"
	"time"

	"github.com/dlc-lang/dlc/ir"
	"github.com/schollz/progressbar/v3"
)

// sampleBar is a supervised run's progress bar on stderr: a bar per epoch over its
// samples, at samples/s, described by the epoch and the running loss of each phase, and
// cleared before the epoch's line. As graphBar does, it is told of progress at most every
// 100 ms (and at an epoch's start and end) and draws each time it is told, so that a step
// costs a clock read here and allocates nothing.
type sampleBar struct {
	w    io.Writer
	cols int // the terminal's width (termColumns)
	spec *ir.TrainSpec
	bar  *progressbar.ProgressBar
	told time.Time
}

func (b *sampleBar) progress(epoch, done, total int, losses map[string]float64) {
	now := time.Now()
	if b.bar != nil && done < total && now.Sub(b.told) < 100*time.Millisecond {
		return
	}
	b.told = now
	desc := fmt.Sprintf("epoch %d/%d", epoch, b.spec.Epochs)
	for _, ph := range b.spec.Phases {
		if l, ok := losses[ph.Name]; ok {
			if len(b.spec.Phases) == 1 {
				desc += fmt.Sprintf(" loss %.4f", l)
			} else {
				desc += fmt.Sprintf(" %s_loss %.4f", ph.Name, l)
			}
		}
	}
	if b.bar == nil {
		// The first frame has no losses yet: room is left for them as they will be.
		opts := barLayout(b.w, b.cols, descRoom(b.spec), "samples", false)
		b.bar = progressbar.NewOptions(total, append(opts, progressbar.OptionSetDescription(desc))...)
		if done < total {
			// The first frame shows no samples: a rate over one step would mean nothing.
			b.bar.RenderBlank()
			return
		}
	}
	// Set first: at the epoch's end it finishes and clears the bar, which then takes the
	// description without drawing.
	b.bar.Set(done)
	b.bar.Describe(desc)
}

// epochDone clears the bar before an epoch's line; the next epoch makes a new one.
func (b *sampleBar) epochDone() {
	if b.bar != nil {
		b.bar.Finish()
		b.bar = nil
	}
}

// graphBar is a graph run's progress bar on stderr. For a set of graphs it is a supervised
// run's: a bar per epoch over its graphs, at graphs/s. For one graph an epoch is one
// full-graph step, so the bar counts the run's epochs instead; it is drawn before each step
// (so that it shows while the step runs, which is what takes the time) and cleared before
// the epoch's line, and gives the seconds an epoch takes and the time left from its own
// clock, as a bar drawn anew each epoch keeps no rate. One bar is made and reset. The bar
// is told of progress at most every 100 ms (and at an epoch's start and end), and draws
// each time it is told, so that a step of a set of graphs costs a clock read here and
// allocates nothing.
type graphBar struct {
	w     io.Writer
	cols  int // the terminal's width (termColumns)
	spec  *ir.TrainSpec
	bar   *progressbar.ProgressBar
	ended bool      // finished and cleared; the next call starts it again
	desc  time.Time // when the description was last set
	start time.Time // a run over epochs: when its first epoch began, and which it was
	first int
}

func (b *graphBar) progress(epoch, done, total int, losses map[string]float64) {
	graphs := b.spec.Task == ir.TaskGraph
	now := time.Now()
	if b.bar != nil && !b.ended && done < total && now.Sub(b.desc) < 100*time.Millisecond {
		return // the bar draws each call, so the calls are what is throttled
	}
	b.desc = now
	desc := fmt.Sprintf("epoch %d/%d", epoch, b.spec.Epochs)
	if l, ok := losses[b.spec.Phases[0].Name]; ok {
		desc += fmt.Sprintf(" loss %.4f", l)
	}
	if !graphs {
		if b.bar == nil {
			b.start, b.first = now, done
		} else if done > b.first {
			per := now.Sub(b.start).Seconds() / float64(done-b.first)
			left := time.Duration(per * float64(total-done) * float64(time.Second)).Round(time.Second)
			desc += fmt.Sprintf(" (%.2fs an epoch, %v left)", per, left)
		}
	}
	switch {
	case b.bar == nil:
		// One bar serves the whole run, and from the second epoch of a run over epochs
		// its description adds the time an epoch takes and the time left.
		room, its := descRoom(b.spec), "graphs"
		if !graphs {
			room, its = room+len(" (123.45s an epoch, 1h23m45s left)"), ""
		}
		opts := barLayout(b.w, b.cols, room, its, true)
		b.bar = progressbar.NewOptions(total, append(opts, progressbar.OptionSetDescription(desc))...)
	case b.ended:
		// A finished bar takes the description without drawing; the reset bar then draws
		// at once with it, at its first Set.
		b.bar.Describe(desc)
		b.bar.Reset()
		b.ended = false
	default:
		b.bar.Set(done)
		b.bar.Describe(desc)
		return
	}
	b.bar.Set(done)
}

// epochDone clears the bar before an epoch's line.
func (b *graphBar) epochDone() {
	if b.bar != nil && !b.ended {
		b.bar.Finish()
		b.ended = true
	}
}

// descRoom is the widest a bar's description of spec's run is expected to be: the epoch,
// then each phase's loss with up to three digits before the point.
func descRoom(spec *ir.TrainSpec) int {
	n := len(fmt.Sprintf("epoch %d/%d", spec.Epochs, spec.Epochs))
	for _, ph := range spec.Phases {
		if len(spec.Phases) == 1 {
			n += len(" loss 000.0000")
		} else {
			n += len(" " + ph.Name + "_loss 000.0000")
		}
	}
	return n
}
