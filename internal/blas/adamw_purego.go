//go:build !cgo || purego

package blas

const minKernel = 0

func adamwKernel[T Float](w, g, m, v []T, c *AdamWCoef[T]) { adamwGo(w, g, m, v, c) }
