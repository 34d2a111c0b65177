// Package blas is faudit's compute core: a row-major general matrix multiply
//
//	C = alpha·op(A)·op(B) + beta·C
//
// for float32 and float64, generic over the element type.
//
// The default backend calls OpenBLAS through cgo with OpenBLAS pinned to one
// thread; the rows of C are split over GOMAXPROCS goroutines in Go (see
// ../shared/reference/stack.md §1 and §6: this is 87 % of peak, and OpenBLAS's
// own threads would slow faudit's goroutine-parallel element-wise code).
// Building with the tag purego (or with CGO_ENABLED=0) selects a pure-Go
// fallback, gonum's BLAS, which needs no C library and is about 10× slower.
// Both backends are always compiled into the tests, which cross-check them.
//
// The split depends only on (m, GOMAXPROCS), so repeated calls on the same
// machine and settings give bit-identical results. GemmPart and GemmColPart
// expose the row and column blocks, for callers that put several products
// (and other work) into one parallel call.
//
// As faudit's one cgo package it also holds the element-wise and row kernels
// the layers and the optimiser run (vec.go, adamw.go): AVX/AVX2 C loops under
// cgo, Go loops otherwise, with the same operations in the same order, so
// the two give bit-identical results.
package blas
