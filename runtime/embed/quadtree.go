package embed

import "math"

// quadtree is the Barnes-Hut tree over the map's points: each cell is a square that holds
// the count and the centre of mass of the points inside it, and is split into four when a
// second point arrives. It is rebuilt at every step, into the same node array.
type quadtree struct {
	nodes []qnode
	walk  []wnode // the nodes as the force computation reads them, built after the tree
}

// wnode is what a visit of a cell needs, and only that, so that more cells fit in cache.
type wnode struct {
	mx, my float64 // where the cell acts from: its centre of mass, or a leaf's place
	width2 float64 // the cell's width squared; −1 for a leaf, which is never opened
	count  float64
	child  int32
}

type qnode struct {
	cx, cy, half float64 // the cell's centre and half its width
	sx, sy       float64 // the sum of its points' positions
	px, py       float64 // a leaf's place: its first point's position
	count        int
	child        int32 // the first of its four children, or −1 for a leaf
}

// maxDepth bounds the splitting: points closer than 2⁻⁴⁸ of the map's width share a leaf,
// which counts them as one place (as it must for identical points, which no split parts).
const maxDepth = 48

func (t *quadtree) build(y []float64) {
	n := len(y) / 2
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i := 0; i < n; i++ {
		minX, maxX = min(minX, y[2*i]), max(maxX, y[2*i])
		minY, maxY = min(minY, y[2*i+1]), max(maxY, y[2*i+1])
	}
	half := max(maxX-minX, maxY-minY)/2*(1+1e-9) + 1e-12
	t.nodes = append(t.nodes[:0], qnode{cx: (minX + maxX) / 2, cy: (minY + maxY) / 2, half: half, child: -1})
	for i := 0; i < n; i++ {
		t.insert(y[2*i], y[2*i+1])
	}
	// Divided once here rather than at each of the many visits.
	t.walk = t.walk[:0]
	for k := range t.nodes {
		nd := &t.nodes[k]
		w := wnode{count: float64(nd.count), child: nd.child, width2: 4 * nd.half * nd.half}
		switch {
		case nd.child < 0:
			w.mx, w.my, w.width2 = nd.px, nd.py, -1
		case nd.count > 0:
			w.mx, w.my = nd.sx/w.count, nd.sy/w.count
		}
		t.walk = append(t.walk, w)
	}
}

// insert adds a point at (x, y), descending from the root.
func (t *quadtree) insert(x, y float64) {
	k := 0
	for depth := 0; ; depth++ {
		nd := &t.nodes[k]
		if nd.child < 0 {
			if nd.count == 0 {
				nd.px, nd.py = x, y
			}
			if nd.count == 0 || (nd.px == x && nd.py == y) || depth >= maxDepth {
				// An empty leaf, a leaf at (x, y), or the depth bound: the point joins it.
				nd.count++
				nd.sx += x
				nd.sy += y
				return
			}
			t.split(k)
			nd = &t.nodes[k]
		}
		nd.count++
		nd.sx += x
		nd.sy += y
		k = int(nd.child) + quadrant(nd, x, y)
	}
}

// split turns leaf k into a parent, moving its points (all at one place) into a child.
func (t *quadtree) split(k int) {
	nd := t.nodes[k]
	first := int32(len(t.nodes))
	h := nd.half / 2
	for q := 0; q < 4; q++ {
		cx, cy := nd.cx-h, nd.cy-h
		if q&1 != 0 {
			cx = nd.cx + h
		}
		if q&2 != 0 {
			cy = nd.cy + h
		}
		t.nodes = append(t.nodes, qnode{cx: cx, cy: cy, half: h, child: -1})
	}
	c := &t.nodes[int(first)+quadrant(&nd, nd.px, nd.py)]
	c.count, c.sx, c.sy, c.px, c.py = nd.count, nd.sx, nd.sy, nd.px, nd.py
	t.nodes[k].child = first
}

func quadrant(nd *qnode, x, y float64) int {
	q := 0
	if x >= nd.cx {
		q |= 1
	}
	if y >= nd.cy {
		q |= 2
	}
	return q
}

// repulsion returns Σ_j w_ij² (y_i − y_j) and Σ_j w_ij over the points j ≠ i, for the point
// i at (x, y), with every cell of width < θ·distance taken as its count at its centre of
// mass (theta2 = θ²).
func (t *quadtree) repulsion(x, y, theta2 float64) (fx, fy, z float64) {
	var stack [4*maxDepth + 8]int32
	sp := 0
	stack[sp] = 0
	sp++
	for sp > 0 {
		sp--
		nd := &t.walk[stack[sp]]
		dx, dy := x-nd.mx, y-nd.my
		d2 := dx*dx + dy*dy
		if nd.width2 >= theta2*d2 { // a parent too near to summarise: open it
			for q := nd.child; q < nd.child+4; q++ {
				if t.walk[q].count > 0 {
					stack[sp] = q
					sp++
				}
			}
			continue
		}
		c := nd.count
		if nd.width2 < 0 && d2 == 0 {
			// The leaf that holds point i holds only points at its place: the others are
			// count − 1 at distance 0, which add to Z and push nothing.
			c--
		}
		w := 1 / (1 + d2)
		z += c * w
		fx += c * w * w * dx
		fy += c * w * w * dy
	}
	return fx, fy, z
}
