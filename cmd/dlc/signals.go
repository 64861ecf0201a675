package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/dlc-lang/dlc/runtime/atomicfile"
	"github.com/dlc-lang/dlc/runtime/guard"
)

// One handler of SIGINT and SIGTERM for every command. A command that can stop cleanly
// (dlc run: finish the step, save, exit 130) registers a graceful stop, which the first
// signal asks for. Any other signal, or any signal to a command without one, ends the
// process at once, and first leaves the disk as it was: runtime/atomicfile removes the
// temporary files of the writes under way (a finished output is complete, an unfinished
// one was never put in place) and the guard removes the outputs' lock files.

// signals is the handler of one command line.
type signals struct {
	stderr io.Writer
	mu     sync.Mutex
	// graceful, when set, is asked for by the first signal; it must make the command
	// return soon. asked records that it was.
	graceful func(sig os.Signal)
	asked    atomic.Bool
	ch       chan os.Signal
	done     chan struct{}
}

// catchSignals starts handling SIGINT and SIGTERM for the command line; release stops.
func catchSignals(stderr io.Writer) (*signals, func()) {
	h := &signals{stderr: stderr, ch: make(chan os.Signal, 2), done: make(chan struct{})}
	signal.Notify(h.ch, os.Interrupt, syscall.SIGTERM)
	go h.loop()
	return h, func() {
		signal.Stop(h.ch)
		close(h.done)
	}
}

func (h *signals) loop() {
	for {
		select {
		case sig := <-h.ch:
			h.mu.Lock()
			g := h.graceful
			h.mu.Unlock()
			if g != nil && !h.asked.Swap(true) {
				g(sig)
				continue
			}
			h.quit(sig)
		case <-h.done:
			return
		}
	}
}

// quit removes the temporary and lock files and exits as a shell reports a death by sig:
// 128 + its number.
func (h *signals) quit(sig os.Signal) {
	atomicfile.Abort()
	guard.End()
	code := exitInterrupted
	if s, ok := sig.(syscall.Signal); ok {
		code = 128 + int(s)
	}
	if h.asked.Load() {
		fmt.Fprintf(h.stderr, "dlc: %v again: quitting now, without saving; no file was left half-written\n", sig)
	} else {
		fmt.Fprintf(h.stderr, "dlc: %v: stopped; no file was left half-written\n", sig)
	}
	os.Exit(code)
}

// stopGracefully makes the first signal call g instead of ending the process; stopped
// reports whether it was called.
func (h *signals) stopGracefully(g func(sig os.Signal)) (stopped func() bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.graceful = g
	return h.asked.Load
}
