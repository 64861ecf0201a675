package gemm

// packB packs the B panels [q0, q1) for the k block [pc, pc+kcb) into dst: panel jp holds
// columns jp·NR … jp·NR+NR-1 of op(B) as dst[(jp-q0)·NR·kcb + p·NR + j], zero past the
// last column, so that the kernel needs no edge case.
func (g *gemmCall) packB(dst []float32, q0, q1, pc, kcb int) {
	nr := g.kern.nr
	for jp := q0; jp < q1; jp++ {
		j0 := jp * nr
		cols := min(nr, g.n-j0)
		panel := dst[(jp-q0)*nr*kcb : (jp-q0+1)*nr*kcb]
		if g.brows != nil {
			g.packImplicit(panel, j0, cols, pc, kcb)
			continue
		}
		if !g.tb && cols == nr {
			src := g.b[pc*g.ldb+j0 : (pc+kcb-1)*g.ldb+j0+nr] // bounds for the assembly
			g.kern.copyPanel(kcb, &src[0], g.ldb, &panel[0])
			continue
		}
		if !g.tb {
			for p := 0; p < kcb; p++ {
				row := panel[p*nr : (p+1)*nr]
				copy(row, g.b[(pc+p)*g.ldb+j0:(pc+p)*g.ldb+j0+cols])
				clear(row[cols:])
			}
			continue
		}
		// op(B) = Bᵀ: column j of op(B) is row j of B, contiguous in k.
		if cols < nr {
			clear(panel)
		}
		transpose(panel, nr, g.b[j0*g.ldb+pc:], g.ldb, cols, kcb)
	}
}

// transpose writes the r×c matrix src (row stride lds) transposed into dst (row stride
// ldd): dst[p*ldd+j] = src[j*lds+p]. Whole 8×8 blocks go through the vector routine,
// the rest one value at a time.
func transpose(dst []float32, ldd int, src []float32, lds, r, c int) {
	r8, c8 := r&^7, c&^7
	for j := 0; j < r8; j += 8 {
		if c8 > 0 {
			transposeBlocks(c8/8, src[j*lds:], lds, dst[j:], ldd)
		}
		for jj := j; jj < j+8 && c8 < c; jj++ {
			transposeColumn(dst[c8*ldd+jj:], src[jj*lds+c8:jj*lds+c], ldd)
		}
	}
	for j := r8; j < r; j++ {
		transposeColumn(dst[j:], src[j*lds:j*lds+c], ldd)
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

// packEdge copies the ragged last A tile (rows < MR rows from i0, k block [pc, pc+kcb))
// into dst in the cols layout with stride MR, zero in the missing rows.
func (g *gemmCall) packEdge(dst []float32, i0, rows, pc, kcb int) {
	mr := g.kern.mr
	clear(dst)
	if !g.ta {
		transpose(dst, mr, g.a[i0*g.lda+pc:], g.lda, rows, kcb)
		return
	}
	for p := 0; p < kcb; p++ {
		copy(dst[p*mr:p*mr+rows], g.a[(pc+p)*g.lda+i0:])
	}
}

// packImplicit packs one panel of SgemmImplicit's B: columns [j0, j0+cols) of the k block
// [pc, pc+kcb), zero past cols. A panel within one run of columns is a copy of NR floats
// per row; one that straddles runs is copied a run at a time.
func (g *gemmCall) packImplicit(panel []float32, j0, cols, pc, kcb int) {
	nr, w := g.kern.nr, g.bw
	rows := g.brows[pc : pc+kcb]
	if j0/w == (j0+cols-1)/w {
		base := g.bcols[j0/w] + j0%w
		if cols == nr && g.kern.gatherPanel != nil && len(rows) > 0 {
			// SgemmImplicit checked that every row start plus base leaves nr floats.
			src := g.b[base:]
			g.kern.gatherPanel(len(rows), &src[0], &rows[0], &panel[0])
			return
		}
		if cols == nr {
			for p, r := range rows {
				copy(panel[p*nr:(p+1)*nr], g.b[r+base:r+base+nr])
			}
			return
		}
		for p, r := range rows {
			row := panel[p*nr : (p+1)*nr]
			copy(row, g.b[r+base:r+base+cols])
			clear(row[cols:])
		}
		return
	}
	for p, r := range rows {
		row := panel[p*nr : (p+1)*nr]
		for j := 0; j < cols; {
			jj := j0 + j
			run := min(w-jj%w, cols-j)
			at := r + g.bcols[jj/w] + jj%w
			copy(row[j:j+run], g.b[at:at+run])
			j += run
		}
		clear(row[cols:])
	}
}

// Transpose writes the r×c matrix src (row stride lds) transposed into dst (row stride
// ldd): dst[p·ldd+j] = src[j·lds+p] for j < r, p < c, through the vector routine where
// there is one. The convolutions use it to put the batch innermost and back.
func Transpose(dst []float32, ldd int, src []float32, lds, r, c int) {
	if r == 0 || c == 0 {
		return
	}
	_ = dst[(c-1)*ldd+r-1]
	_ = src[(r-1)*lds+c-1]
	if active == nil { // the vector routine needs AVX, which a CPU without a kernel may lack
		for j := 0; j < r; j++ {
			transposeColumn(dst[j:], src[j*lds:j*lds+c], ldd)
		}
		return
	}
	transpose(dst, ldd, src, lds, r, c)
}
