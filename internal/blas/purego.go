//go:build !cgo || purego

package blas

// Backend names the GEMM implementation compiled in.
const Backend = "gonum"

func backendGemm[T Float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	gonumGemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
