package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// parseMemory reads a --max-memory value: a byte count with an optional binary suffix
// (K, M, G, T, optionally followed by iB or B), "none" (0: no limit) or "auto" (what
// /proc/meminfo calls MemAvailable; no limit where it cannot be read).
func parseMemory(s string) (int64, error) {
	switch s {
	case "none", "0":
		return 0, nil
	case "auto":
		return availableMemory(), nil
	}
	num := strings.TrimRight(s, "KMGTiBkmgt")
	suffix := strings.ToUpper(strings.TrimSuffix(strings.TrimSuffix(s[len(num):], "B"), "i"))
	shift := map[string]uint{"": 0, "K": 10, "M": 20, "G": 30, "T": 40}
	sh, ok := shift[suffix]
	v, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || !(v > 0) || v*float64(int64(1)<<sh) > 1<<62 {
		return 0, fmt.Errorf("want a positive size such as 8G or 512M, auto or none")
	}
	return int64(v * float64(int64(1)<<sh)), nil
}

// availableMemory is MemAvailable from /proc/meminfo in bytes, or 0 when unknown.
func availableMemory() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil && kb > 0 {
					return kb << 10
				}
			}
		}
	}
	return 0
}
