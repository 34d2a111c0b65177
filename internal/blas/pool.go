package blas

import "math"

// MaxPool2x2: for planes consecutive H×W planes of src, o[planes,H/2,W/2] =
// the maximum of each 2×2 window (stride 2; an odd last row or column is
// dropped) and id[planes,H/2,W/2] its offset within its plane: the first
// maximum in row-major order on ties (−0 and +0 tie), and where the window
// holds a NaN, PyTorch's rule (argmaxNaN). Under cgo an AVX2 loop
// (pool_cgo.go) gives the Go loop's o and id exactly.
func MaxPool2x2[T Float](o []T, id []int32, src []T, planes, H, W int) {
	n := planes * (H / 2) * (W / 2)
	o, id, src = o[:n], id[:n], src[:planes*H*W]
	if n >= minVec && vecMaxPool2x2(o, id, src, planes, H, W) {
		return
	}
	maxPool2x2Go(o, id, src, planes, H, W)
}

func maxPool2x2Go[T Float](o []T, id []int32, src []T, planes, H, W int) {
	OH, OW := H/2, W/2
	for pl := 0; pl < planes; pl++ {
		s := src[pl*H*W:][:H*W]
		oo, io := o[pl*OH*OW:][:OH*OW], id[pl*OH*OW:][:OH*OW]
		switch s := any(s).(type) {
		case []float32:
			poolPlane32(any(oo).([]float32), io, s, OH, OW, W)
		case []float64:
			poolPlane64(any(oo).([]float64), io, s, OH, OW, W)
		default: // a named float type: its values in float64 have the same order
			poolPlaneAny(oo, io, src[pl*H*W:][:H*W], OH, OW, W)
		}
	}
}

// key32 and key64 map floats to integers of the same order (−0 and +0
// alike; NaNs are dealt with separately): comparing the integers compiles
// to conditional moves, where comparing the floats compiles to branches that
// mispredict (which entry of a window wins is a coin flip).
func key32(v float32) int32 {
	b := int32(math.Float32bits(v + 0)) // v + 0 turns −0 into +0
	return b ^ (b >> 31 & 0x7fffffff)
}

func key64(v float64) int64 {
	b := int64(math.Float64bits(v + 0))
	return b ^ (b >> 63 & 0x7fffffffffffffff)
}

// poolPlane32 pools one H×W plane src into o [OH,OW] and id, by a
// tournament on the keys (the first maximum wins ties); NaNs take a slow
// path.
func poolPlane32(o []float32, id []int32, src []float32, OH, OW, W int) {
	for oh := 0; oh < OH; oh++ {
		i0, i1 := 2*oh*W, (2*oh+1)*W
		r0, r1 := src[i0:][:W], src[i1:][:W]
		oo, io := o[oh*OW:][:OW], id[oh*OW:][:OW]
		for ow := range oo {
			j := 2 * ow
			a, b, c, e := r0[j], r0[j+1], r1[j], r1[j+1]
			ka, kb, kc, ke := key32(a), key32(b), key32(c), key32(e)
			gab, gce := b2i(kb > ka), b2i(ke > kc)
			kab, kce := i0+j+gab, i1+j+gce
			ka += (kb - ka) * int32(gab) // the larger key of each pair
			kc += (ke - kc) * int32(gce)
			k := kab + (kce-kab)*b2i(kc > ka)
			if s := a + b + c + e; s != s {
				k = argmaxNaN(src, i0+j, i0+j+1, i1+j, i1+j+1)
			}
			oo[ow], io[ow] = src[k], int32(k)
		}
	}
}

// poolPlane64 pools one H×W plane src into o [OH,OW] and id, by a
// tournament on the keys (the first maximum wins ties); NaNs take a slow
// path.
func poolPlane64(o []float64, id []int32, src []float64, OH, OW, W int) {
	for oh := 0; oh < OH; oh++ {
		i0, i1 := 2*oh*W, (2*oh+1)*W
		r0, r1 := src[i0:][:W], src[i1:][:W]
		oo, io := o[oh*OW:][:OW], id[oh*OW:][:OW]
		for ow := range oo {
			j := 2 * ow
			a, b, c, e := r0[j], r0[j+1], r1[j], r1[j+1]
			ka, kb, kc, ke := key64(a), key64(b), key64(c), key64(e)
			gab, gce := b2i(kb > ka), b2i(ke > kc)
			kab, kce := i0+j+gab, i1+j+gce
			ka += (kb - ka) * int64(gab) // the larger key of each pair
			kc += (ke - kc) * int64(gce)
			k := kab + (kce-kab)*b2i(kc > ka)
			if s := a + b + c + e; s != s {
				k = argmaxNaN(src, i0+j, i0+j+1, i1+j, i1+j+1)
			}
			oo[ow], io[ow] = src[k], int32(k)
		}
	}
}

// poolPlaneAny is poolPlane64 for a named float type, on the values
// converted to float64.
func poolPlaneAny[T Float](o []T, id []int32, src []T, OH, OW, W int) {
	for oh := 0; oh < OH; oh++ {
		i0, i1 := 2*oh*W, (2*oh+1)*W
		r0, r1 := src[i0:][:W], src[i1:][:W]
		oo, io := o[oh*OW:][:OW], id[oh*OW:][:OW]
		for ow := range oo {
			j := 2 * ow
			a, b, c, e := float64(r0[j]), float64(r0[j+1]), float64(r1[j]), float64(r1[j+1])
			ka, kb, kc, ke := key64(a), key64(b), key64(c), key64(e)
			gab, gce := b2i(kb > ka), b2i(ke > kc)
			kab, kce := i0+j+gab, i1+j+gce
			ka += (kb - ka) * int64(gab)
			kc += (ke - kc) * int64(gce)
			k := kab + (kce-kab)*b2i(kc > ka)
			if s := a + b + c + e; s != s {
				k = argmaxNaN(src, i0+j, i0+j+1, i1+j, i1+j+1)
			}
			oo[ow], io[ow] = src[k], int32(k)
		}
	}
}

// b2i is 1 for true, 0 for false (compiled to a SETcc, not a branch).
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// argmaxNaN is PyTorch's rule, entry by entry: a later entry wins if it is
// larger or NaN (and the current one is not NaN).
func argmaxNaN[T Float](x []T, i0, i1, i2, i3 int) int {
	k := i0
	for _, j := range [3]int{i1, i2, i3} {
		if x[k] == x[k] && (x[j] > x[k] || x[j] != x[j]) {
			k = j
		}
	}
	return k
}
