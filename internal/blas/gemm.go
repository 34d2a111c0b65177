package blas

import (
	"fmt"
	"runtime"
	"sync"
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
	// Rows [i0, i1) of C for part p; the caller runs the last part itself.
	var wg sync.WaitGroup
	wg.Add(parts - 1)
	for p := 0; p < parts; p++ {
		i0, i1 := p*m/parts, (p+1)*m/parts
		aOff := i0 * lda
		if tA {
			aOff = i0
		}
		job := gemmJob[T]{tA, tB, i1 - i0, n, k, alpha, a[aOff:], lda, b, ldb, beta, c[i0*ldc:], ldc, &wg}
		if p == parts-1 {
			job.run()
		} else {
			submit(job)
		}
	}
	wg.Wait()
}

// splits is the number of row blocks: 1 for small products, where a goroutine
// hand-off costs more than it saves, else GOMAXPROCS (capped by m/16).
func splits(m, n, k int) int {
	p := runtime.GOMAXPROCS(0)
	if p > m/16 {
		p = m / 16
	}
	if p < 1 || m*n*k < 1<<16 {
		return 1
	}
	return p
}

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
	wg      *sync.WaitGroup
}

func (j gemmJob[T]) run() {
	backendGemm(j.tA, j.tB, j.m, j.n, j.k, j.alpha, j.a, j.lda, j.b, j.ldb, j.beta, j.c, j.ldc)
}

// A small pool of long-lived workers takes the jobs, so a split GEMM allocates
// nothing (a job travels by value over a typed channel).
var (
	jobs32   = make(chan gemmJob[float32])
	jobs64   = make(chan gemmJob[float64])
	poolOnce sync.Once
)

func startPool() {
	n := runtime.NumCPU()
	if n < 2 {
		n = 2
	}
	for i := 0; i < n; i++ {
		go func() {
			for {
				select {
				case j := <-jobs32:
					j.run()
					j.wg.Done()
				case j := <-jobs64:
					j.run()
					j.wg.Done()
				}
			}
		}()
	}
}

func submit[T Float](j gemmJob[T]) {
	poolOnce.Do(startPool)
	switch j := any(j).(type) {
	case gemmJob[float32]:
		jobs32 <- j
	case gemmJob[float64]:
		jobs64 <- j
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
