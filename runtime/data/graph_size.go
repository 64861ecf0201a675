package data

import "github.com/dlc-lang/dlc/ir"

// GeneratedBytes is the least memory a generated graph source (sbm, cycles) holds once
// generated, in bytes, from its arguments alone: its features, labels and edge lists. A
// run checks it against --max-memory before generating anything, so that a limit refuses
// sbm(nodes: 10000000, …) at once, not after seconds of drawing and the memory it meant
// to spare. It returns ok false for a source that is read from files (their sizes bound
// it) or whose arguments do not check.
func GeneratedBytes(spec ir.DataSpec) (bytes int64, what string, ok bool) {
	src, found := Lookup(spec.Source)
	if !found || Validate(spec.Source, spec.Args) != nil {
		return 0, "", false
	}
	arg := func(name string) int64 { return int64(intArg(src, spec.Args, name)) }
	switch spec.Source {
	case "sbm":
		// float32 features and an int32 label a node; int32 source and target an edge.
		n, f, e := arg("nodes"), arg("features"), arg("edges")
		return mulAdd(n, 4*f+4, e, 8), describe(src, spec.Args), true
	case "cycles":
		// At most max_nodes nodes a graph, of up to 8 one-hot degree features, and about
		// as many undirected edges, stored both ways.
		g, m := arg("graphs"), arg("max_nodes")
		return mulAdd(g, m*(4*8+4), g, (m+1)*2*8), describe(src, spec.Args), true
	}
	return 0, "", false
}

// mulAdd is a·b + c·d, saturating instead of overflowing.
func mulAdd(a, b, c, d int64) int64 {
	const limit = 1 << 62
	mul := func(x, y int64) int64 {
		if x <= 0 || y <= 0 {
			return 0
		}
		if x > limit/y {
			return limit
		}
		return x * y
	}
	return min(mul(a, b)+mul(c, d), limit)
}
