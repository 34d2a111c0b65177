package blas

import (
	"fmt"
	"sync"

	"github.com/faudit/faudit/internal/parallel"
)

// Float is the element type of every matrix in faudit.
type Float interface{ ~float32 | ~float64 }

// Gemm computes C = alpha·op(A)·op(B) + beta·C on row-major matrices, where
// op(X) is X or Xᵀ as tA, tB say; op(A) is m×k, op(B) is k×n, C is m×n.
// With beta == 0, C is overwritten (NaNs in C do not propagate).
// It panics on inconsistent dimensions: a programming error, not bad input.
func Gemm[T Float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	checkArgs(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	parts := Splits(m, n, k)
	if parts == 1 {
		backendGemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	j := getJob[T]()
	*j = gemmJob[T]{tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, parts}
	parallel.Run(parts, j)
	putJob(j)
}

// Splits is the number of row blocks Gemm splits an m×n×k product into: 1
// for small products (see Big), else GOMAXPROCS (capped by m/16).
func Splits(m, n, k int) int {
	p := parallel.Procs()
	if p > m/16 {
		p = m / 16
	}
	if p < 1 || !Big(m, n, k) {
		return 1
	}
	return p
}

// Big reports whether an m×n×k product is big enough to be worth running on
// more than one goroutine: below 2¹⁶ multiply-adds a hand-off costs more than
// it saves.
func Big(m, n, k int) bool { return m*n*k >= 1<<16 }

// gemmJob is one split product; part p computes rows [p·m/parts, (p+1)·m/parts) of C.
type gemmJob[T Float] struct {
	tA, tB  bool
	m, n, k int
	alpha   T
	a       []T
	lda     int
	b       []T
	ldb     int
	beta    T
	c       []T
	ldc     int
	parts   int
}

func (j *gemmJob[T]) Run(p int) {
	gemmPart(p, j.parts, j.tA, j.tB, j.m, j.n, j.k, j.alpha, j.a, j.lda, j.b, j.ldb, j.beta, j.c, j.ldc)
}

// GemmPart computes part p of Gemm split into parts row blocks: rows
// [p·m/parts, (p+1)·m/parts) of C. Running every part, on any goroutines,
// gives exactly Gemm's result when parts == Splits(m, n, k); callers use it
// to put several products (and other row-wise work) into one parallel.Run.
func GemmPart[T Float](p, parts int, tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	checkArgs(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	gemmPart(p, parts, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// GemmColPart computes columns [p·n/parts, (p+1)·n/parts) of C = alpha·op(A)·op(B) + beta·C:
// part p of the product split by columns. Each part reads all of op(A) and its
// own columns of op(B); for the thin products of a small batch that wastes
// less than a split by rows, which repacks all of op(B) in every part.
func GemmColPart[T Float](p, parts int, tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	checkArgs(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	j0, j1 := p*n/parts, (p+1)*n/parts
	if j0 == j1 || m == 0 {
		return
	}
	if k == 0 {
		scale(m, j1-j0, beta, c[j0:], ldc)
		return
	}
	bOff := j0
	if tB {
		bOff = j0 * ldb
	}
	backendGemm(tA, tB, m, j1-j0, k, alpha, a, lda, b[bOff:], ldb, beta, c[j0:], ldc)
}

func gemmPart[T Float](p, parts int, tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	i0, i1 := p*m/parts, (p+1)*m/parts
	if i0 == i1 || n == 0 {
		return
	}
	if k == 0 {
		scale(i1-i0, n, beta, c[i0*ldc:], ldc)
		return
	}
	aOff := i0 * lda
	if tA {
		aOff = i0
	}
	backendGemm(tA, tB, i1-i0, n, k, alpha, a[aOff:], lda, b, ldb, beta, c[i0*ldc:], ldc)
}

// Jobs are recycled, so a split GEMM allocates nothing.
var jobs32, jobs64 = sync.Pool{New: func() any { return new(gemmJob[float32]) }},
	sync.Pool{New: func() any { return new(gemmJob[float64]) }}

// jobPool is the pool for T, nil for named float types (those allocate).
func jobPool[T Float]() *sync.Pool {
	switch any(*new(T)).(type) {
	case float32:
		return &jobs32
	case float64:
		return &jobs64
	}
	return nil
}

func getJob[T Float]() *gemmJob[T] {
	if p := jobPool[T](); p != nil {
		return p.Get().(*gemmJob[T])
	}
	return new(gemmJob[T])
}

func putJob[T Float](j *gemmJob[T]) {
	if p := jobPool[T](); p != nil {
		j.a, j.b, j.c = nil, nil, nil
		p.Put(j)
	}
}

func checkArgs(tA, tB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	ar, ac := m, k
	if tA {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB {
		br, bc = n, k
	}
	bad := m < 0 || n < 0 || k < 0 || lda < max(ac, 1) || ldb < max(bc, 1) || ldc < max(n, 1)
	if !bad && m > 0 && n > 0 {
		bad = (ar > 0 && la < (ar-1)*lda+ac) || (br > 0 && lb < (br-1)*ldb+bc) || lc < (m-1)*ldc+n
	}
	if bad {
		panic(fmt.Sprintf("blas: bad Gemm arguments tA=%v tB=%v m=%d n=%d k=%d len(a)=%d lda=%d len(b)=%d ldb=%d len(c)=%d ldc=%d",
			tA, tB, m, n, k, la, lda, lb, ldb, lc, ldc))
	}
}
