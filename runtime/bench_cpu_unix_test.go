//go:build unix

package runtime

import "syscall"

// cpuSeconds is the process's user and system CPU time: on a shared machine the wall time
// of a benchmark depends on the other jobs, the CPU time much less.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
