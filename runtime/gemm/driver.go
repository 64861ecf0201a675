package gemm

import (
	"sync"

	"github.com/dlc-lang/dlc/runtime/parallel"
)

// gemmCall is one Sgemm call's arguments, read by every goroutine working on it.
type gemmCall struct {
	kern       *kernel
	bl         Blocking
	ta, tb     bool
	m, n, k    int
	a          []float32
	lda        int
	b          []float32
	ldb        int
	brows      []int // when set, B(p, j) = b[brows[p]+bcols[j/bw]+j%bw] (SgemmImplicit); ldb unused
	bcols      []int
	bw         int
	c          []float32
	ldc        int
	accumulate bool // β = 1: add to C rather than overwrite it

	// The split: items run by the pool, panel it%panels against the rowParts-th part of
	// the row tiles. items is bound to this gemmCall once, when the pool makes it, so
	// that a split call allocates no closure.
	panels, tiles, rowParts int
	items                   func(lo, hi int)
}

// callPool recycles gemmCalls with their items closure.
var callPool sync.Pool

func getCall() *gemmCall {
	if g, ok := callPool.Get().(*gemmCall); ok {
		return g
	}
	g := new(gemmCall)
	g.items = func(lo, hi int) {
		for it := lo; it < hi; it++ {
			p, r := it%g.panels, it/g.panels
			g.block(r*g.tiles/g.rowParts, (r+1)*g.tiles/g.rowParts, p, p+1)
		}
	}
	return g
}

const (
	// parallelFlops is the smallest product split over the workers: below it the
	// hand-off (a few microseconds) costs more than the second core saves.
	parallelFlops = 1 << 21
	// chunkFlops is the least work worth one chunk of a split product.
	chunkFlops = 1 << 20
)

// run computes the product, split over the pool when par is set and the product is big
// enough. The work items are one B panel each against a range of A's row tiles: every
// row tile when there are panels enough for about four items per worker (then each
// goroutine packs only the panels it uses and the goroutines meet once, at the end),
// else the row tiles are cut into as many ranges as make up the difference, each item
// packing its panel itself, so that a product with one or two panels (n ≤ 2·NR) still
// uses every core.
func (g *gemmCall) run(par bool) {
	kn := g.kern
	panels := (g.n + kn.nr - 1) / kn.nr
	tiles := (g.m + kn.mr - 1) / kn.mr
	flops := 2 * g.m * g.n * g.k
	workers := parallel.Workers()
	if !par || flops < parallelFlops || workers == 1 {
		g.block(0, tiles, 0, panels)
		return
	}
	rowParts := 1
	if want := 4 * workers; panels < want {
		rowParts = (want + panels - 1) / panels
	}
	g.panels, g.tiles = panels, tiles
	g.rowParts = max(1, min(rowParts, tiles, flops/chunkFlops/panels))
	parallel.For(panels*g.rowParts, 1, g.items)
}

// workspace is one goroutine's packing memory; the pool keeps it between calls so that
// steady-state training allocates nothing here.
type workspace struct {
	b    []float32 // packed B panels of one k block
	edge []float32 // the ragged last A tile, zero-padded
	// tile receives a C tile that sticks out of C. It lives here, not on the stack,
	// because the kernel is called through a func value, so the compiler cannot see
	// that the pointer does not escape and would allocate it per call.
	tile [maxTile]float32
}

var workspaces sync.Pool

func getWorkspace(nb, nedge int) *workspace {
	w, _ := workspaces.Get().(*workspace)
	if w == nil {
		w = new(workspace)
	}
	if cap(w.b) < nb {
		w.b = make([]float32, nb)
	}
	if cap(w.edge) < nedge {
		w.edge = make([]float32, nedge)
	}
	return w
}

// block computes the C tiles in row tiles [t0, t1) × column panels [p0, p1). The loops,
// outside in: NC-wide groups of panels, KC-deep k blocks (B packed once per block), MC-row
// blocks of A, panels (one packed panel stays in L1), row tiles (the micro-kernel).
func (g *gemmCall) block(t0, t1, p0, p1 int) {
	kn, bl := g.kern, g.bl
	groupPanels := bl.NC / kn.nr
	kc := min(bl.KC, g.k)
	w := getWorkspace(min(p1-p0, groupPanels)*kn.nr*kc, kn.mr*kc)
	defer workspaces.Put(w)
	mcTiles := bl.MC / kn.mr
	for q0 := p0; q0 < p1; q0 += groupPanels {
		q1 := min(q0+groupPanels, p1)
		for pc := 0; pc < g.k; pc += bl.KC {
			kcb := min(bl.KC, g.k-pc)
			acc := g.accumulate || pc > 0
			bpack := w.b[:(q1-q0)*kn.nr*kcb]
			// With one row block each panel is used once: pack it just before, so that
			// it is still in L1. Otherwise pack the group once for all row blocks.
			oneBlock := t1-t0 <= mcTiles
			if !oneBlock {
				g.packB(bpack, q0, q1, pc, kcb)
			}
			edgePacked := false
			for ib := t0; ib < t1; ib += mcTiles {
				ie := min(ib+mcTiles, t1)
				for jp := q0; jp < q1; jp++ {
					bp := bpack[(jp-q0)*kn.nr*kcb:]
					if oneBlock {
						g.packB(bp, jp, jp+1, pc, kcb)
					}
					for t := ib; t < ie; t++ {
						i0 := t * kn.mr
						if rows := g.m - i0; rows < kn.mr {
							if !edgePacked {
								g.packEdge(w.edge[:kn.mr*kcb], i0, rows, pc, kcb)
								edgePacked = true
							}
							g.tile(w, i0, jp, kcb, &w.edge[0], kn.mr, true, bp, acc)
							continue
						}
						if g.ta {
							g.tile(w, i0, jp, kcb, &g.a[pc*g.lda+i0], g.lda, true, bp, acc)
						} else {
							g.tile(w, i0, jp, kcb, &g.a[i0*g.lda+pc], g.lda, false, bp, acc)
						}
					}
				}
			}
		}
	}
}

// tile runs the micro-kernel for the C tile at row i0 and panel jp, over kcb steps, with
// A at ap (cols layout when colsLayout is set) and the packed panel bp. A tile that
// sticks out of C is computed into w's scratch tile and the part inside copied or added.
func (g *gemmCall) tile(w *workspace, i0, jp, kcb int, ap *float32, lda int, colsLayout bool, bp []float32, acc bool) {
	kn := g.kern
	kf := kn.rows
	if colsLayout {
		kf = kn.cols
	}
	j0 := jp * kn.nr
	rows, cols := min(kn.mr, g.m-i0), min(kn.nr, g.n-j0)
	if rows == kn.mr && cols == kn.nr {
		kf(kcb, ap, lda, &bp[0], &g.c[i0*g.ldc+j0], g.ldc, acc)
		return
	}
	tmp := &w.tile
	kf(kcb, ap, lda, &bp[0], &tmp[0], kn.nr, false)
	for i := 0; i < rows; i++ {
		crow := g.c[(i0+i)*g.ldc+j0 : (i0+i)*g.ldc+j0+cols]
		trow := tmp[i*kn.nr : i*kn.nr+cols]
		if acc {
			for j, v := range trow {
				crow[j] += v
			}
		} else {
			copy(crow, trow)
		}
	}
}

// maxTile bounds MR·NR over the kernels, for the scratch tile of ragged edges.
const maxTile = 14 * 48 // ≥ 6·64 too
