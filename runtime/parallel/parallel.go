// Package parallel runs loops on a persistent pool of worker goroutines, one per core.
//
// Kernels split their work with For: the range [0, n) is cut into chunks of at least grain
// iterations, the chunks are handed to the pool's workers, and the calling goroutine works
// on chunks too until none is left, then waits for the others. The workers are started
// once, at the first call, so no goroutine is created per op. A For called from inside
// another For's body runs serially on the caller: the pool is already busy, and nesting
// would only add contention on two cores.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// job is one For call shared by the workers that help with it.
type job struct {
	body   func(lo, hi int)
	n      int
	chunk  int
	next   atomic.Int64 // the next chunk's start
	wg     sync.WaitGroup
	helper atomic.Int32 // workers that joined
}

var (
	once    sync.Once
	work    chan *job
	workers int
	busy    atomic.Int32 // For calls in progress; nested calls run serially
)

func start() {
	workers = runtime.GOMAXPROCS(0) - 1
	work = make(chan *job, workers)
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
	if workers == 0 || n <= grain || !busy.CompareAndSwap(0, 1) {
		body(0, n)
		return
	}
	defer busy.Store(0)
	// About four chunks per worker balance uneven chunks without much hand-off cost.
	parts := min((n+grain-1)/grain, 4*(workers+1))
	j := &job{body: body, n: n, chunk: (n + parts - 1) / parts}
	helpers := min(workers, parts-1)
	j.wg.Add(helpers)
	for i := 0; i < helpers; i++ {
		work <- j
	}
	j.run()
	j.wg.Wait()
}

func (j *job) run() {
	for {
		lo := int(j.next.Add(int64(j.chunk))) - j.chunk
		if lo >= j.n {
			return
		}
		j.body(lo, min(lo+j.chunk, j.n))
	}
}
