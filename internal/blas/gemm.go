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
	parts := splits(m, n, k)
	if parts == 1 {
		backendGemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	j := getJob[T]()
	*j = gemmJob[T]{tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, parts}
	parallel.Run(parts, j)
	putJob(j)
}

// splits is the number of row blocks: 1 for small products, where a hand-off
// costs more than it saves, else GOMAXPROCS (capped by m/16).
func splits(m, n, k int) int {
	p := parallel.Procs()
	if p > m/16 {
		p = m / 16
	}
	if p < 1 || m*n*k < 1<<16 {
		return 1
	}
	return p
}

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
	i0, i1 := p*j.m/j.parts, (p+1)*j.m/j.parts
	if i0 == i1 {
		return
	}
	aOff := i0 * j.lda
	if j.tA {
		aOff = i0
	}
	backendGemm(j.tA, j.tB, i1-i0, j.n, j.k, j.alpha, j.a[aOff:], j.lda, j.b, j.ldb, j.beta, j.c[i0*j.ldc:], j.ldc)
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
