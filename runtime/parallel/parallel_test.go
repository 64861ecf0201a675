package parallel

import (
	goruntime "runtime"
	"sync/atomic"
	"testing"
	"time"
)

func TestForCoversEveryIndexOnce(t *testing.T) {
	for _, tc := range []struct{ n, grain int }{{0, 1}, {1, 1}, {7, 1}, {100, 3}, {1000, 1000}, {1001, 10}, {100000, 64}} {
		hits := make([]int32, tc.n)
		For(tc.n, tc.grain, func(lo, hi int) {
			if lo < 0 || hi > tc.n || lo >= hi {
				t.Errorf("n=%d grain=%d: bad range [%d, %d)", tc.n, tc.grain, lo, hi)
				return
			}
			for i := lo; i < hi; i++ {
				atomic.AddInt32(&hits[i], 1)
			}
		})
		for i, h := range hits {
			if h != 1 {
				t.Fatalf("n=%d grain=%d: index %d visited %d times", tc.n, tc.grain, i, h)
			}
		}
	}
}

func TestNestedForRunsSerially(t *testing.T) {
	var total atomic.Int64
	For(8, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			For(100, 1, func(a, b int) { total.Add(int64(b - a)) })
		}
	})
	if got := total.Load(); got != 800 {
		t.Fatalf("nested total %d, want 800", got)
	}
}

func BenchmarkForOverhead(b *testing.B) {
	var sink atomic.Int64
	for i := 0; i < b.N; i++ {
		For(1024, 64, func(lo, hi int) { sink.Add(int64(hi - lo)) })
	}
}

func TestDoRunsEveryTaskOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7} {
		hits := make([]int32, n)
		tasks := make([]func(), n)
		for i := range tasks {
			tasks[i] = func() {
				atomic.AddInt32(&hits[i], 1)
				// A For inside a task runs serially and still covers its range.
				var sum atomic.Int64
				For(100, 1, func(lo, hi int) { sum.Add(int64(hi - lo)) })
				if sum.Load() != 100 {
					t.Errorf("task %d: nested For covered %d of 100", i, sum.Load())
				}
			}
		}
		Do(tasks)
		for i, h := range hits {
			if h != 1 {
				t.Fatalf("n=%d: task %d ran %d times", n, i, h)
			}
		}
	}
}

func TestForAndDoAllocateNothing(t *testing.T) {
	var sink atomic.Int64
	body := func(lo, hi int) { sink.Add(int64(hi - lo)) }
	tasks := []func(){func() { sink.Add(1) }, func() { sink.Add(2) }}
	if a := testing.AllocsPerRun(50, func() { For(1<<12, 16, body) }); a != 0 {
		t.Errorf("For: %.1f allocations per call, want 0", a)
	}
	if a := testing.AllocsPerRun(50, func() { Do(tasks) }); a != 0 {
		t.Errorf("Do: %.1f allocations per call, want 0", a)
	}
}

// spin does about n floating-point multiply-adds that the compiler cannot remove.
func spin(n int) float64 {
	x := 1.0
	for i := 0; i < n; i++ {
		x = x*0.9999999 + 1e-9
	}
	return x
}

var spinSink atomic.Uint64

// BenchmarkForSplit: work of about 10, 40 and 160 µs run on one goroutine (serial) and
// split in two halves with For (split). On two free cores split should take about half of
// serial; the difference is what handing a half to a worker costs.
func BenchmarkForSplit(b *testing.B) {
	for _, us := range []int{10, 40, 160} {
		work := us * 400 // about 2.5 ns per dependent multiply-add
		b.Run("serial/"+itoa(us)+"us", func(b *testing.B) {
			for b.Loop() {
				spinSink.Add(uint64(spin(work)))
			}
		})
		b.Run("split/"+itoa(us)+"us", func(b *testing.B) {
			for b.Loop() {
				For(2, 1, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						spinSink.Add(uint64(spin(work / 2)))
					}
				})
			}
		})
	}
}

func itoa(n int) string {
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

// With GOMAXPROCS at 1 a For runs on the caller alone, whatever the pool's width.
func TestForSerialOnOneProc(t *testing.T) {
	Workers() // start the pool at the machine's width
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(1))
	var other atomic.Int32
	id := goid()
	For(16, 1, func(lo, hi int) {
		if goid() != id {
			other.Add(1)
		}
		// A chunk that sleeps frees the one P: a worker offered the job would take the
		// next chunk then.
		time.Sleep(200 * time.Microsecond)
	})
	if other.Load() != 0 {
		t.Errorf("%d chunks ran on another goroutine with GOMAXPROCS 1", other.Load())
	}
}

// goid returns the calling goroutine's id, read from its stack header.
func goid() string {
	var buf [64]byte
	s := string(buf[:goruntime.Stack(buf[:], false)])
	s = s[len("goroutine "):]
	for i := range len(s) {
		if s[i] == ' ' {
			return s[:i]
		}
	}
	return s
}
