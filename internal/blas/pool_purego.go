//go:build !cgo || purego

package blas

func vecMaxPool2x2[T Float](o []T, id []int32, src []T, planes, H, W int) bool { return false }
