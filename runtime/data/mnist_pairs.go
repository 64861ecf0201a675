package data

import (
	"fmt"
	"strconv"
)

// Pairs made from the MNIST digits, for image-to-image models (pix2pix, inpainting,
// super-resolution, segmentation): each digit gives one pair, an input image as the sample
// and a target image as the target, so that a model of (input, target) trains on them as a
// supervised model does, and a train block's parameters take them as samples and targets.
// Both are made from the digit's pixels in [0, 1] before they are mapped to [low, high].

// MNISTPairs turns a set of MNIST digits (pixels in [0, 1], [N, 784]) into pairs: X the
// input input names, Y the target target names, each mapped to [low, high] but a mask,
// which is 0 or 1. s is the caller's own: its X is replaced. The labels stay.
func MNISTPairs(s *Set, input, target string, low, high float32) (*Set, error) {
	const side, half = 28, 14
	n, row := s.Len(), s.XRow()
	if row != side*side {
		return nil, fmt.Errorf("mnist_pairs: digits of %d values, want 784 (28×28)", row)
	}
	scale := func(v float32) float32 { return low + (high-low)*v }
	y := make([]float32, n*row)
	for i, v := range s.X {
		switch target {
		case "digit":
			y[i] = scale(v)
		case "mask":
			y[i] = 0
			if v >= 0.5 {
				y[i] = 1
			}
		default:
			return nil, fmt.Errorf("mnist_pairs: target %q, want \"digit\" or \"mask\"", target)
		}
	}
	var x []float32
	xrow := row
	switch input {
	case "digit", "top_half", "edges":
		x = make([]float32, n*row)
		for k := range n {
			img, out := s.X[k*row:(k+1)*row], x[k*row:(k+1)*row]
			for r := range side {
				for c := range side {
					v := img[r*side+c]
					switch input {
					case "top_half":
						if r >= half {
							v = 0
						}
					case "edges":
						v = edge(img, r, c, side)
					}
					out[r*side+c] = scale(v)
				}
			}
		}
	case "low_res":
		xrow = half * half
		x = make([]float32, n*xrow)
		for k := range n {
			img, out := s.X[k*row:(k+1)*row], x[k*xrow:(k+1)*xrow]
			for r := range half {
				for c := range half {
					m := (img[2*r*side+2*c] + img[2*r*side+2*c+1] + img[(2*r+1)*side+2*c] + img[(2*r+1)*side+2*c+1]) / 4
					out[r*half+c] = scale(m)
				}
			}
		}
	default:
		return nil, fmt.Errorf("mnist_pairs: input %q, want \"digit\", \"top_half\", \"edges\" or \"low_res\"", input)
	}
	return &Set{X: x, XShape: []int{n, xrow}, Y: y, YShape: []int{n, row}, Labels: s.Labels}, nil
}

// edge is 1 where pixel (r, c) of a side×side image is on (≥ ½) and one of its four
// neighbours, or the border beyond it, is off; else 0: the digit's outline.
func edge(img []float32, r, c, side int) float32 {
	on := func(r, c int) bool {
		return r >= 0 && c >= 0 && r < side && c < side && img[r*side+c] >= 0.5
	}
	if !on(r, c) {
		return 0
	}
	if on(r-1, c) && on(r+1, c) && on(r, c-1) && on(r, c+1) {
		return 0
	}
	return 1
}

// pixelRange reads a source's low and high, which must satisfy low < high.
func pixelRange(src *Source, args map[string]string) (lo, hi int, err error) {
	lo, _ = strconv.Atoi(src.value(args, "low"))
	hi, _ = strconv.Atoi(src.value(args, "high"))
	if lo >= hi {
		return 0, 0, fmt.Errorf("%s: low = %d, high = %d, want low < high", src.Name, lo, hi)
	}
	return lo, hi, nil
}

// firstSamples keeps the first count samples of s (count as the schema's check passed
// it: an int ≥ 0, 0 for all), sharing s's arrays.
func firstSamples(s *Set, count string) *Set {
	k, _ := strconv.Atoi(count)
	if k <= 0 || k >= s.Len() {
		return s
	}
	out := &Set{X: s.X[:k*s.XRow()], XShape: append([]int{k}, s.XShape[1:]...)}
	if s.Y != nil {
		out.Y, out.YShape = s.Y[:k*s.YRow()], append([]int{k}, s.YShape[1:]...)
	}
	if s.Labels != nil {
		out.Labels = s.Labels[:k]
	}
	return out
}
