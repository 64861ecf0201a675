//go:build race

package train

// raceEnabled: the race detector makes sync.Pool drop what it is given at random and
// instruments memory, so allocation counts mean nothing under it.
const raceEnabled = true
