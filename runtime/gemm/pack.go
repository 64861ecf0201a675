package gemm

// packPanels packs B panels [lo, hi) of the current block: panel jp holds the columns
// jc+jp·NR … jc+jp·NR+NR-1 of op(B)'s rows pc … pc+kcb-1 as b[p*NR+j], zero past the
// block's last column, so the kernel needs no edge case.
func (g *gemmCall) packPanels(lo, hi int) {
	nr := g.kern.nr
	for jp := lo; jp < hi; jp++ {
		j0 := g.jc + jp*nr
		cols := min(nr, g.jc+g.ncb-j0)
		dst := g.bpack[jp*nr*g.kcb : (jp+1)*nr*g.kcb]
		if !g.tb {
			for p := 0; p < g.kcb; p++ {
				src := g.b[(g.pc+p)*g.ldb+j0 : (g.pc+p)*g.ldb+j0+cols]
				row := dst[p*nr : (p+1)*nr]
				copy(row, src)
				clear(row[cols:])
			}
			continue
		}
		// op(B) = Bᵀ: column j of op(B) is row j of B, contiguous in k.
		if cols < nr {
			clear(dst)
		}
		for j := 0; j < cols; j++ {
			src := g.b[(j0+j)*g.ldb+g.pc : (j0+j)*g.ldb+g.pc+g.kcb]
			transposeColumn(dst[j:], src, nr)
		}
	}
}

// transposeColumn writes src[p] to dst[p*stride] for every p.
func transposeColumn(dst, src []float32, stride int) {
	if len(src) == 0 {
		return
	}
	_ = dst[(len(src)-1)*stride]
	for p, v := range src {
		dst[p*stride] = v
	}
}

// packEdge copies the ragged last A tile (rows < MR rows from i0, the current k block)
// into dst in the cols layout with stride MR, zero in the missing rows.
func (g *gemmCall) packEdge(dst []float32, i0, rows int) {
	mr := g.kern.mr
	clear(dst)
	for i := 0; i < rows; i++ {
		if g.ta {
			for p := 0; p < g.kcb; p++ {
				dst[p*mr+i] = g.a[(g.pc+p)*g.lda+i0+i]
			}
			continue
		}
		src := g.a[(i0+i)*g.lda+g.pc : (i0+i)*g.lda+g.pc+g.kcb]
		transposeColumn(dst[i:], src, mr)
	}
}
