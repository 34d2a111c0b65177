//go:build cgo && !purego

package blas

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
extern void openblas_set_num_threads(int);
*/
import "C"

import "unsafe"

// Backend names the GEMM implementation compiled in.
const Backend = "openblas"

// Parallelism is done in Go; OpenBLAS's own threads would spin against
// faudit's element-wise goroutines (stack.md §1, "Threading interplay").
func init() { C.openblas_set_num_threads(1) }

func backendGemm[T Float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if k == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	switch cc := any(c).(type) {
	case []float32:
		aa, bb := any(a).([]float32), any(b).([]float32)
		C.cblas_sgemm(C.CblasRowMajor, ctr(tA), ctr(tB), C.blasint(m), C.blasint(n), C.blasint(k), C.float(alpha),
			(*C.float)(unsafe.Pointer(&aa[0])), C.blasint(lda), (*C.float)(unsafe.Pointer(&bb[0])), C.blasint(ldb),
			C.float(beta), (*C.float)(unsafe.Pointer(&cc[0])), C.blasint(ldc))
	case []float64:
		aa, bb := any(a).([]float64), any(b).([]float64)
		C.cblas_dgemm(C.CblasRowMajor, ctr(tA), ctr(tB), C.blasint(m), C.blasint(n), C.blasint(k), C.double(alpha),
			(*C.double)(unsafe.Pointer(&aa[0])), C.blasint(lda), (*C.double)(unsafe.Pointer(&bb[0])), C.blasint(ldb),
			C.double(beta), (*C.double)(unsafe.Pointer(&cc[0])), C.blasint(ldc))
	}
}

func ctr(t bool) C.enum_CBLAS_TRANSPOSE {
	if t {
		return C.CblasTrans
	}
	return C.CblasNoTrans
}
