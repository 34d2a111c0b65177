//go:build !cgo || purego

package blas

// Without cgo the Go loops in vec.go run.

const minVec = 1 << 62

func vecReLU[T Float](out, x []T) bool                                                { return false }
func vecReLUGrad[T Float](dx, dout, x []T) bool                                       { return false }
func vecAdd[T Float](out, a, b []T) bool                                              { return false }
func vecColumnSum[T Float](out, x []T, rows, ld int) bool                             { return false }
func vecLayerNormParamGrads[T Float](dg, dout, x, mean, rstd []T, rows, ld int) bool  { return false }
func vecLayerNormRows[T Float](out, mean, rstd, x, g, b []T, D int, eps float64) bool { return false }
func vecLayerNormGradRows[T Float](dx, dout, x, mean, rstd, g []T, D int) bool        { return false }
func vecGELU[T Float](out, x []T) bool                                                { return false }
func vecGELUGrad[T Float](dx, dout, x []T) bool                                       { return false }
func vecSoftmaxRows[T Float](s []T, n int, buf []float64) bool                        { return false }
func vecSum64[T Float](x []T) (float64, bool)                                         { return 0, false }
func vecSumSqDev64[T Float](x []T, m float64) (float64, bool)                         { return 0, false }
func vecDotDev64[T Float](d, x []T, m float64) (float64, float64, bool)               { return 0, 0, false }
func vecAffine[T Float](out, x []T, m, k, b T) bool                                   { return false }
func vecBNGrad[T Float](dx, d, x []T, k, m1, m, rs, m2 T) bool                        { return false }
