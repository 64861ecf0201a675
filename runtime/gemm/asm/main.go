// Command asm generates the GEMM micro-kernels of package gemm with avo.
//
// Run it through `go generate` in runtime/gemm; the generated kernels_amd64.s and its Go
// declarations are committed, so building dlc needs neither avo nor this module.
//
// Every kernel computes one Mr×Nr tile of C from a packed panel of B and an unpacked
// panel of A. The tile lives in vector registers for the whole k loop: each step loads
// Nr/lanes vectors of B, broadcasts the Mr values of A's column p one at a time and does
// Mr·Nr/lanes fused multiply-adds. A is read where it lies, in one of two layouts, so it
// never needs packing except for a ragged last row panel:
//
//	rows: A(i, p) at a[i*lda+p]   (op(A) = A, row-major)
//	cols: A(i, p) at a[p*lda+i]   (op(A) = Aᵀ, or a packed panel with lda = Mr)
//
// B is packed as B(p, j) at b[p*Nr+j], so its panel streams contiguously from L1.
package main

import (
	"fmt"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// shape describes one kernel: the vector ISA, the tile and the layout of A.
type shape struct {
	isa  string // "avx512" or "avx2"
	mr   int    // rows of the C tile
	nv   int    // vectors per row of the C tile
	cols bool   // A layout: false rows, true cols
}

func (s shape) lanes() int {
	if s.isa == "avx512" {
		return 16
	}
	return 8
}

func (s shape) vec(i int) reg.VecPhysical {
	if s.isa == "avx512" {
		return []reg.VecPhysical{reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5, reg.Z6, reg.Z7,
			reg.Z8, reg.Z9, reg.Z10, reg.Z11, reg.Z12, reg.Z13, reg.Z14, reg.Z15,
			reg.Z16, reg.Z17, reg.Z18, reg.Z19, reg.Z20, reg.Z21, reg.Z22, reg.Z23,
			reg.Z24, reg.Z25, reg.Z26, reg.Z27, reg.Z28, reg.Z29, reg.Z30, reg.Z31}[i]
	}
	return []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7,
		reg.Y8, reg.Y9, reg.Y10, reg.Y11, reg.Y12, reg.Y13, reg.Y14, reg.Y15}[i]
}

func (s shape) regs() int {
	if s.isa == "avx512" {
		return 32
	}
	return 16
}

func (s shape) name() string {
	layout := "Rows"
	if s.cols {
		layout = "Cols"
	}
	return fmt.Sprintf("kern%s_%dx%d%s", strings.ToUpper(s.isa), s.mr, s.nv*s.lanes(), layout)
}

// unroll is how many k steps one loop iteration does; the rest go one at a time.
const unroll = 4

func main() {
	for _, s := range kernels {
		generate(s)
	}
	transpose8()
	for _, nr := range []int{16, 24, 32, 48, 64} {
		copyPanel(nr)
	}
	Generate()
}

// kernels lists the generated tiles. Package gemm uses one per ISA (select_amd64.go);
// the others are kept for measuring (BenchmarkKernels).
var kernels = []shape{
	{"avx512", 12, 2, false}, {"avx512", 12, 2, true},
	{"avx512", 14, 2, false}, {"avx512", 14, 2, true},
	{"avx512", 8, 3, false}, {"avx512", 8, 3, true},
	{"avx512", 8, 2, false}, {"avx512", 8, 2, true},
	{"avx512", 8, 1, false}, {"avx512", 8, 1, true},
	{"avx512", 10, 2, false}, {"avx512", 10, 2, true},
	{"avx512", 6, 4, false}, {"avx512", 6, 4, true},
	{"avx2", 6, 2, false}, {"avx2", 6, 2, true},
	{"avx2", 4, 3, false}, {"avx2", 4, 3, true},
}

func generate(s shape) {
	TEXT(s.name(), NOSPLIT, "func(k int, a *float32, lda int, b *float32, c *float32, ldc int, acc bool)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes the %d×%d tile C = A·B (acc false) or C += A·B (acc true) over k steps; A in the %s layout.",
		s.name(), s.mr, s.nv*s.lanes(), map[bool]string{false: "rows", true: "cols"}[s.cols]))

	nacc := s.mr * s.nv
	bregs := make([]reg.VecPhysical, s.nv)
	for v := range bregs {
		bregs[v] = s.vec(nacc + v)
	}
	ntmp := s.regs() - nacc - s.nv
	if ntmp < 1 {
		panic(s.name() + ": not enough vector registers")
	}
	acc := func(i, v int) reg.VecPhysical { return s.vec(i*s.nv + v) }
	tmp := func(i int) reg.VecPhysical { return s.vec(nacc + s.nv + i%ntmp) }

	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda) // bytes
	b := Load(Param("b"), GP64())

	// rows layout: three rows per base pointer, addressed as base, base+lda, base+2·lda.
	var bases []reg.Register
	if !s.cols {
		bases = append(bases, a)
		lda3 := GP64()
		LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, lda3)
		for i := 3; i < s.mr; i += 3 {
			nb := GP64()
			LEAQ(Mem{Base: bases[len(bases)-1], Index: lda3, Scale: 1}, nb)
			bases = append(bases, nb)
		}
	}
	// aAt returns the address of A(i, p) relative to the current position.
	aAt := func(i, p int) Mem {
		if s.cols {
			// The pointer moves one column per step; p is always 0 here.
			return Mem{Base: a, Disp: 4 * i}
		}
		m := Mem{Base: bases[i/3], Disp: 4 * p}
		if i%3 > 0 {
			m.Index, m.Scale = lda, uint8(i%3)
		}
		return m
	}

	Comment("Prefetch the C tile, which is written (or read and written) at the end.")
	{
		c := Load(Param("c"), GP64())
		ldc := Load(Param("ldc"), GP64())
		SHLQ(U8(2), ldc)
		for i := 0; i < s.mr; i++ {
			for off := 0; off < 4*s.nv*s.lanes(); off += 64 {
				PREFETCHT0(Mem{Base: c, Disp: off})
			}
			if i < s.mr-1 {
				ADDQ(ldc, c)
			}
		}
	}

	Comment("Zero the accumulators.")
	for i := 0; i < nacc; i++ {
		v := s.vec(i)
		if s.isa == "avx512" {
			VPXORD(v, v, v) // AVX512F; VXORPS on zmm would need AVX512DQ
		} else {
			VXORPS(v, v, v)
		}
	}

	nr4 := 4 * s.nv * s.lanes() // bytes of one packed B row
	step := func(p int) {
		for v := 0; v < s.nv; v++ {
			VMOVUPS(Mem{Base: b, Disp: p*nr4 + v*4*s.lanes()}, bregs[v])
		}
		for i := 0; i < s.mr; i++ {
			t := tmp(i)
			VBROADCASTSS(aAt(i, p), t)
			for v := 0; v < s.nv; v++ {
				VFMADD231PS(bregs[v], t, acc(i, v))
			}
		}
		if s.cols {
			ADDQ(lda, a)
		}
	}

	Label(s.name() + "_loop4")
	CMPQ(k, U8(unroll))
	JL(LabelRef(s.name() + "_tail"))
	for p := 0; p < unroll; p++ {
		step(p)
	}
	ADDQ(U32(unroll*nr4), b)
	if !s.cols {
		for _, base := range bases {
			ADDQ(U8(4*unroll), base)
		}
	}
	SUBQ(U8(unroll), k)
	JMP(LabelRef(s.name() + "_loop4"))

	Label(s.name() + "_tail")
	TESTQ(k, k)
	JE(LabelRef(s.name() + "_store"))
	step(0)
	ADDQ(U32(nr4), b)
	if !s.cols {
		for _, base := range bases {
			ADDQ(U8(4), base)
		}
	}
	DECQ(k)
	JMP(LabelRef(s.name() + "_tail"))

	Label(s.name() + "_store")
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	flag := Load(Param("acc"), GP8())
	TESTB(flag, flag)
	JE(LabelRef(s.name() + "_overwrite"))
	store(s, c, ldc, acc, true)
	VZEROUPPER()
	RET()
	Label(s.name() + "_overwrite")
	store(s, c, ldc, acc, false)
	VZEROUPPER()
	RET()
}

// store writes the tile to C row by row, adding what C holds when add is set.
func store(s shape, c, ldc reg.Register, acc func(i, v int) reg.VecPhysical, add bool) {
	row := GP64()
	MOVQ(c, row)
	for i := 0; i < s.mr; i++ {
		for v := 0; v < s.nv; v++ {
			m := Mem{Base: row, Disp: v * 4 * s.lanes()}
			if add {
				VADDPS(m, acc(i, v), acc(i, v))
			}
			VMOVUPS(acc(i, v), m)
		}
		if i < s.mr-1 {
			ADDQ(ldc, row)
		}
	}
}

// transpose8 generates the packing helper for transposed operands: it transposes n
// consecutive 8×8 blocks, block q being src rows 0…7, columns 8q…8q+7 (row stride lds
// floats), into dst rows 8q…8q+7, columns 0…7 (row stride ldd floats). It needs AVX
// only, the standard unpack/shuffle/permute sequence on 8 ymm registers.
func transpose8() {
	TEXT("transpose8x8", NOSPLIT, "func(n int, src *float32, lds int, dst *float32, ldd int)")
	Pragma("noescape")
	Doc("transpose8x8 transposes n 8×8 blocks laid along the rows of src into blocks laid down the rows of dst.")
	n := Load(Param("n"), GP64())
	src := Load(Param("src"), GP64())
	lds := Load(Param("lds"), GP64())
	SHLQ(U8(2), lds)
	dst := Load(Param("dst"), GP64())
	ldd := Load(Param("ldd"), GP64())
	SHLQ(U8(2), ldd)
	lds3, ldd3 := GP64(), GP64()
	LEAQ(Mem{Base: lds, Index: lds, Scale: 2}, lds3)
	LEAQ(Mem{Base: ldd, Index: ldd, Scale: 2}, ldd3)
	y := []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7,
		reg.Y8, reg.Y9, reg.Y10, reg.Y11, reg.Y12, reg.Y13, reg.Y14, reg.Y15}
	// row r of a block of 8 at base: base, +ld, +2ld, +3ld, then the same from base+4ld.
	rowAt := func(base, ld, ld3 reg.Register, hi reg.Register, r int) Mem {
		b := base
		if r >= 4 {
			b = hi
		}
		switch r % 4 {
		case 0:
			return Mem{Base: b}
		case 1:
			return Mem{Base: b, Index: ld, Scale: 1}
		case 2:
			return Mem{Base: b, Index: ld, Scale: 2}
		}
		return Mem{Base: b, Index: ld3, Scale: 1}
	}
	srcHi, dstHi := GP64(), GP64()
	Label("t8_loop")
	TESTQ(n, n)
	JE(LabelRef("t8_done"))
	LEAQ(Mem{Base: src, Index: lds, Scale: 4}, srcHi)
	LEAQ(Mem{Base: dst, Index: ldd, Scale: 4}, dstHi)
	for r := 0; r < 8; r++ {
		VMOVUPS(rowAt(src, lds, lds3, srcHi, r), y[r])
	}
	for r := 0; r < 8; r += 2 {
		VUNPCKLPS(y[r+1], y[r], y[8+r])
		VUNPCKHPS(y[r+1], y[r], y[9+r])
	}
	for h := 0; h < 8; h += 4 {
		VSHUFPS(U8(0x44), y[10+h], y[8+h], y[h])
		VSHUFPS(U8(0xEE), y[10+h], y[8+h], y[h+1])
		VSHUFPS(U8(0x44), y[11+h], y[9+h], y[h+2])
		VSHUFPS(U8(0xEE), y[11+h], y[9+h], y[h+3])
	}
	for c := 0; c < 4; c++ {
		VPERM2F128(U8(0x20), y[4+c], y[c], y[8+c])
		VPERM2F128(U8(0x31), y[4+c], y[c], y[12+c])
	}
	for r := 0; r < 8; r++ {
		VMOVUPS(y[8+r], rowAt(dst, ldd, ldd3, dstHi, r))
	}
	ADDQ(U8(32), src)
	LEAQ(Mem{Base: dstHi, Index: ldd, Scale: 4}, dst)
	DECQ(n)
	JMP(LabelRef("t8_loop"))
	Label("t8_done")
	VZEROUPPER()
	RET()
}

// copyPanel generates the packing of a full B panel of nr columns that needs no
// transpose: k rows of nr floats, src rows lds floats apart, to dst rows nr floats apart.
// Go's copy per row costs a call per 128 bytes, which made packing a fifth of a product.
func copyPanel(nr int) {
	name := fmt.Sprintf("copyPanel%d", nr)
	TEXT(name, NOSPLIT, "func(k int, src *float32, lds int, dst *float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s copies k rows of %d floats from src (row stride lds floats) to dst (row stride %d).", name, nr, nr))
	k := Load(Param("k"), GP64())
	src := Load(Param("src"), GP64())
	lds := Load(Param("lds"), GP64())
	SHLQ(U8(2), lds)
	dst := Load(Param("dst"), GP64())
	lds8 := GP64()
	MOVQ(lds, lds8)
	SHLQ(U8(3), lds8)
	regs := []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7}
	Label(name + "_loop")
	TESTQ(k, k)
	JE(LabelRef(name + "_done"))
	// Rows lie lds apart, often in L3: fetch eight rows ahead.
	for off := 0; off < 4*nr; off += 64 {
		PREFETCHT0(Mem{Base: src, Index: lds8, Scale: 1, Disp: off})
	}
	for v := 0; v < nr/8; v++ {
		VMOVUPS(Mem{Base: src, Disp: 32 * v}, regs[v])
	}
	for v := 0; v < nr/8; v++ {
		VMOVUPS(regs[v], Mem{Base: dst, Disp: 32 * v})
	}
	ADDQ(lds, src)
	ADDQ(U32(4*nr), dst)
	DECQ(k)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}
