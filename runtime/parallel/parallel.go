// Package parallel runs loops on a persistent pool of worker goroutines, one per core.
//
// Kernels split their work with For: the range [0, n) is cut into chunks of at least grain
// iterations, the chunks are handed to the pool's workers, and the calling goroutine works
// on chunks too until none is left, then waits for the others. The workers are started
// once, at the first call, so no goroutine is created per op. A For called from inside
// another For's body runs serially on the caller: the pool is already busy, and nesting
// would only add contention on two cores.
//
// Do runs independent tasks side by side, one per goroutine. Tasks are seldom equal, so a
// For inside a task is published as it starts (one at a time): a goroutine whose own task
// is done helps with it before it leaves, instead of waiting idle for the slower task. The
// publisher waits for its helpers to let go of the job before it returns.
//
// Hand-off is by spinning, not by channel. A worker woken through a channel is made
// runnable on the caller's own P, where it cannot run until the caller blocks or another
// thread steals it; and a parked thread on a virtual machine takes tens of microseconds to
// wake. Measured here, a For split in two ran its halves one after the other on the caller,
// slower than not splitting, even at 160 µs of work (BenchmarkForSplit). So a worker
// that has just finished a job watches an atomic generation counter for the next one for
// spinFor (yielding the processor every few microseconds, so that other goroutines still
// run), and parks on its own channel only after that much idleness; a caller waits for its
// helpers the same way. During training, where ops follow each other within microseconds,
// both cores stay hot; an idle program parks its workers within a millisecond.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// job is one For or Do call shared by the workers that help with it. Only one call holds
// the pool at a time (busy), so one job value serves every call and a call allocates
// nothing.
type job struct {
	body  func(lo, hi int)
	tasks []func() // Do's tasks; nil for For
	n     int
	chunk int
	next  atomic.Int64 // the next chunk's start, or the next task's index
	// seats is how many more workers may join; the caller takes the unclaimed ones back
	// when its own share is done, and waits until done equals the joined.
	seats atomic.Int32
	done  atomic.Int32
	// helpers counts the goroutines inside a published nested For's run.
	helpers atomic.Int32
}

var (
	once    sync.Once
	workers int
	gen     atomic.Uint64       // bumped when a job is offered
	offered atomic.Pointer[job] // the job of the latest offer
	parked  []worker            // one per worker goroutine
	busy    atomic.Int32        // For calls in progress; nested calls run serially
	theJob  job                 // the call that holds busy

	inDo  atomic.Int32 // a Do is running its tasks
	slots []nestedSlot // one per goroutine of the pool: the Fors inside Do tasks
)

// nestedSlot holds a For running inside a Do task, open to helpers.
type nestedSlot struct {
	job job
	own atomic.Int32        // a task is using the slot
	pub atomic.Pointer[job] // &job while it is open to helpers
}

// worker is one worker goroutine's parking place.
type worker struct {
	asleep atomic.Int32  // 1 while parked (or about to park) on wake
	wake   chan struct{} // buffered 1: a token means "look at gen again"
}

// spinFor is how long an idle worker watches for the next job before it parks, and how
// long a caller spins for its helpers before it yields between looks. A training step's
// ops and the gaps between steps are all shorter.
const spinFor = 500 * time.Microsecond

func start() {
	workers = runtime.GOMAXPROCS(0) - 1
	slots = make([]nestedSlot, workers+1)
	parked = make([]worker, workers)
	for i := range parked {
		parked[i].wake = make(chan struct{}, 1)
		go parked[i].loop()
	}
}

// loop takes a seat in each offered job it sees while one is free.
func (w *worker) loop() {
	seen := gen.Load()
	for {
		seen = w.await(seen)
		j := offered.Load()
		for {
			k := j.seats.Load()
			if k <= 0 {
				break
			}
			if j.seats.CompareAndSwap(k, k-1) {
				j.run()
				j.done.Add(1)
				break
			}
		}
	}
}

// await returns once gen has moved past seen: it spins for spinFor, then parks. Before
// parking it says so and looks once more, and an offer after that look finds it asleep
// and sends a token, so no offer is missed; a stale token costs one extra look.
func (w *worker) await(seen uint64) uint64 {
	start := time.Now()
	for i := 1; ; i++ {
		if g := gen.Load(); g != seen {
			return g
		}
		if i%64 == 0 {
			if time.Since(start) > spinFor {
				break
			}
			runtime.Gosched()
		}
	}
	for {
		w.asleep.Store(1)
		if g := gen.Load(); g != seen {
			w.asleep.Store(0)
			return g
		}
		<-w.wake
		if g := gen.Load(); g != seen {
			return g
		}
	}
}

// Workers returns the number of goroutines a For may run its body on, the caller included.
func Workers() int {
	once.Do(start)
	return workers + 1
}

// For calls body(lo, hi) for disjoint ranges covering [0, n), each at least grain long
// (except possibly the last), on up to Workers() goroutines at once, and returns when all
// calls have returned. body must be safe to call concurrently on disjoint ranges.
//
// With GOMAXPROCS lowered to 1 after the pool started (testing.AllocsPerRun does this), For
// and Do run serially: a worker could only run when the caller is preempted, which gains
// nothing and made the work's scratch buffers depend on when that happened.
func For(n, grain int, body func(lo, hi int)) {
	if n <= 0 {
		return
	}
	once.Do(start)
	grain = max(grain, 1)
	if workers == 0 || n <= grain || runtime.GOMAXPROCS(0) == 1 {
		body(0, n)
		return
	}
	if !busy.CompareAndSwap(0, 1) {
		if inDo.Load() != 0 {
			for i := range slots {
				if sl := &slots[i]; sl.own.CompareAndSwap(0, 1) {
					sl.forNested(n, grain, body)
					return
				}
			}
		}
		body(0, n)
		return
	}
	defer busy.Store(0)
	// About four chunks per worker balance uneven chunks without much hand-off cost.
	parts := min((n+grain-1)/grain, 4*(workers+1))
	j := &theJob
	j.body, j.n, j.chunk = body, n, (n+parts-1)/parts
	j.next.Store(0)
	j.hand(min(workers, parts-1))
	j.body = nil
}

// forNested runs a For inside a Do task: it publishes the job for goroutines whose tasks
// are done, works on it, then retires it and waits until no helper is inside it.
func (sl *nestedSlot) forNested(n, grain int, body func(lo, hi int)) {
	j := &sl.job
	parts := min((n+grain-1)/grain, 4*(workers+1))
	j.body, j.n, j.chunk = body, n, (n+parts-1)/parts
	j.next.Store(0)
	sl.pub.Store(j)
	j.run()
	sl.pub.Store(nil)
	for j.helpers.Load() != 0 {
		runtime.Gosched()
	}
	j.body = nil
	sl.own.Store(0)
}

// helpNested works on the published nested Fors until none is open. A helper counts itself
// in before it looks again at what is published, so that the publisher, which retires the
// job before it waits for the count to drop, never waits for a helper that has not seen it.
func helpNested() {
	for {
		helped := false
		for i := range slots {
			sl := &slots[i]
			j := sl.pub.Load()
			if j == nil {
				continue
			}
			j.helpers.Add(1)
			if sl.pub.Load() == j && j.next.Load() < int64(j.n) {
				j.run()
				helped = true
			}
			j.helpers.Add(-1)
		}
		if !helped {
			return
		}
	}
}

// Do runs every task once, each on one goroutine of the pool (the caller included), and
// returns when all have returned: independent pieces of work, such as two matrix products
// that read the same operands, run side by side. Inside a task a For runs serially, as a
// nested For does; a Do called while the pool is busy runs its tasks one after the other.
// tasks is read, not kept, and the call allocates nothing.
func Do(tasks []func()) {
	once.Do(start)
	if workers == 0 || len(tasks) < 2 || runtime.GOMAXPROCS(0) == 1 || !busy.CompareAndSwap(0, 1) {
		for _, t := range tasks {
			t()
		}
		return
	}
	defer busy.Store(0)
	inDo.Store(1)
	defer inDo.Store(0)
	j := &theJob
	j.tasks, j.n = tasks, len(tasks)
	j.next.Store(0)
	j.hand(min(workers, len(tasks)-1))
	j.tasks = nil
}

// hand offers the job to up to helpers workers, works on it too, then takes back the seats
// no worker has claimed and waits for the workers that did. A worker that is slow to
// arrive therefore never holds the caller up: the caller does its share of the work.
func (j *job) hand(helpers int) {
	j.done.Store(0)
	j.seats.Store(int32(helpers))
	offered.Store(j)
	gen.Add(1)
	for i := range parked {
		if w := &parked[i]; w.asleep.CompareAndSwap(1, 0) {
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
	}
	j.run()
	joined := int32(helpers) - j.seats.Swap(0)
	start := time.Now()
	for i := 1; j.done.Load() != joined; i++ {
		if i%64 == 0 && time.Since(start) > spinFor {
			runtime.Gosched()
		}
	}
}

func (j *job) run() {
	if j.tasks != nil {
		for {
			i := int(j.next.Add(1)) - 1
			if i >= j.n {
				helpNested()
				return
			}
			j.tasks[i]()
		}
	}
	for {
		lo := int(j.next.Add(int64(j.chunk))) - j.chunk
		if lo >= j.n {
			return
		}
		j.body(lo, min(lo+j.chunk, j.n))
	}
}
