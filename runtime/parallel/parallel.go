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
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
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
	wg    sync.WaitGroup
	// helpers counts the goroutines inside a published nested For's run.
	helpers atomic.Int32
}

var (
	once    sync.Once
	work    chan *job
	workers int
	busy    atomic.Int32 // For calls in progress; nested calls run serially
	theJob  job          // the call that holds busy

	inDo  atomic.Int32 // a Do is running its tasks
	slots []nestedSlot // one per goroutine of the pool: the Fors inside Do tasks
)

// nestedSlot holds a For running inside a Do task, open to helpers.
type nestedSlot struct {
	job job
	own atomic.Int32        // a task is using the slot
	pub atomic.Pointer[job] // &job while it is open to helpers
}

func start() {
	workers = runtime.GOMAXPROCS(0) - 1
	work = make(chan *job, workers)
	slots = make([]nestedSlot, workers+1)
	for i := 0; i < workers; i++ {
		go func() {
			for j := range work {
				j.run()
				j.wg.Done()
			}
		}()
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
func For(n, grain int, body func(lo, hi int)) {
	if n <= 0 {
		return
	}
	once.Do(start)
	grain = max(grain, 1)
	if workers == 0 || n <= grain {
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
	if workers == 0 || len(tasks) < 2 || !busy.CompareAndSwap(0, 1) {
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

// hand gives the job to helpers workers, works on it too and waits for them.
func (j *job) hand(helpers int) {
	j.wg.Add(helpers)
	for i := 0; i < helpers; i++ {
		work <- j
	}
	j.run()
	j.wg.Wait()
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
