package ir

import "sort"

// Nearest returns the candidate closest to name by edit distance when it is near enough to be
// a likely typo (at most a third of the name's length plus one edits), or "". Ties go to the
// candidate that sorts first, so suggestions are deterministic. The compiler and the IR
// reader both use it for "did you mean" hints.
func Nearest(name string, candidates []string) string {
	cands := append([]string(nil), candidates...)
	sort.Strings(cands)
	best, bestD := "", len(name)/3+2
	for _, c := range cands {
		if d := editDistance(name, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return len(a) + len(b)
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// IsPerm reports whether p is a permutation of 0..n-1.
func IsPerm(p []int, n int) bool {
	if len(p) != n {
		return false
	}
	seen := make([]bool, n)
	for _, v := range p {
		if v < 0 || v >= n || seen[v] {
			return false
		}
		seen[v] = true
	}
	return true
}
