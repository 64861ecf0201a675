// Package data loads training and test sets into flat float32 arrays.
//
// Every source (MNIST's IDX files, numeric CSV, NumPy .npy) produces the
// same thing: a Set whose X holds N samples back to back in C order, with
// XShape = [N, ...] saying how to read one sample, and optional targets Y
// shaped [N, ...] the same way. Flat arrays are what the runtime's kernels
// consume, so a Set can be handed over without copying; Batch gathers rows
// into caller-owned buffers so a training loop allocates nothing per step.
//
// Graphs (graph.go) are the other shape of data: node features, edges as
// int32 index arrays and labels, loaded from CSV or .npy, generated (a
// stochastic block model, trees against cycles) or shipped (the karate
// club), with the splits semi-supervised and link-prediction training need.
//
// The sources a train block can name, with their arguments, are one
// table (sources.go): the compiler checks a data setting against it with
// Validate, and Load runs the source's loader.
//
// Readers treat their input as untrusted: they check magic numbers, header
// sizes against the bytes actually present, and every field, and return
// an error naming the file (and line or field) instead of panicking; the
// limits in limits.go bound what any file may make them allocate.
package data

import "fmt"

// Set is a data set of N samples held as flat float32 arrays.
type Set struct {
	X      []float32 // N samples in C order
	XShape []int     // [N, ...]
	Y      []float32 // targets in C order; nil if unlabelled
	YShape []int     // [N, ...]; nil if Y is nil
	Labels []int     // class index per sample; nil unless a classification set
}

// Len returns the number of samples.
func (s *Set) Len() int {
	if len(s.XShape) == 0 {
		return 0
	}
	return s.XShape[0]
}

// XRow returns the number of values in one sample of X.
func (s *Set) XRow() int { return rowSize(s.XShape) }

// YRow returns the number of values in one sample of Y, or 0 if unlabelled.
func (s *Set) YRow() int {
	if s.Y == nil {
		return 0
	}
	return rowSize(s.YShape)
}

func rowSize(shape []int) int {
	if len(shape) == 0 {
		return 0
	}
	n := 1
	for _, d := range shape[1:] {
		n *= d
	}
	return n
}

// Batch gathers the samples idx into dstX and dstY and returns them
// resliced to len(idx) rows. The destinations are reused when they have
// the capacity, so a training loop can pass back what it got last step and
// allocate only on the first. y is nil when the set has no targets.
//
// Batch panics if an index is out of range: indices come from the caller's
// own shuffling, so a bad one is a bug in the caller, not bad input.
func (s *Set) Batch(dstX, dstY []float32, idx []int) (x, y []float32) {
	n := s.Len()
	for _, i := range idx {
		if i < 0 || i >= n {
			panic(fmt.Sprintf("data: batch index %d out of range [0, %d)", i, n))
		}
	}
	x = gather(dstX, s.X, s.XRow(), idx)
	if s.Y != nil {
		y = gather(dstY, s.Y, s.YRow(), idx)
	}
	return x, y
}

func gather(dst, src []float32, row int, idx []int) []float32 {
	need := row * len(idx)
	if cap(dst) < need {
		dst = make([]float32, need)
	}
	dst = dst[:need]
	for k, i := range idx {
		copy(dst[k*row:(k+1)*row], src[i*row:(i+1)*row])
	}
	return dst
}

// errorf prefixes a message with the package and the file it concerns, the
// form every error from this package takes.
func errorf(name, format string, args ...any) error {
	return fmt.Errorf("data: %s: "+format, append([]any{name}, args...)...)
}
