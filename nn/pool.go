package nn

import (
	"math"

	"github.com/faudit/faudit/internal/parallel"
)

// MaxPool2x2Forward: out[N,C,H/2,W/2] (floor: an odd last row or column is
// dropped, as PyTorch) = the maximum of each 2×2 window of x[N,C,H,W], stride
// 2. idx[N·C·(H/2)·(W/2)] saves each maximum's offset within its H×W plane
// for the backward pass (the first maximum in row-major order on ties; a NaN
// wins, as in PyTorch).
func MaxPool2x2Forward[T Float](out []T, idx []int32, x []T, N, C, H, W int) {
	OH, OW := H/2, W/2
	parallel.For(N*C, N*C*OH*OW*4, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			src := x[pl*H*W:][:H*W]
			o, id := out[pl*OH*OW:][:OH*OW], idx[pl*OH*OW:][:OH*OW]
			switch s := any(src).(type) {
			case []float32:
				poolPlane32(any(o).([]float32), id, s, OH, OW, W)
			case []float64:
				poolPlane64(any(o).([]float64), id, s, OH, OW, W)
			default: // a named float type
				s64, o64 := make([]float64, len(src)), make([]float64, len(o))
				for i, v := range src {
					s64[i] = float64(v)
				}
				poolPlane64(o64, id, s64, OH, OW, W)
				for i, v := range o64 {
					o[i] = T(v)
				}
			}
		}
	})
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

// MaxPool2x2Backward: dx[N,C,H,W] = dout[N,C,H/2,W/2] routed to the maxima
// saved in idx by the forward pass, zero elsewhere.
func MaxPool2x2Backward[T Float](dx, dout []T, idx []int32, N, C, H, W int) {
	OH, OW := H/2, W/2
	parallel.For(N*C, N*C*H*W, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			d := dx[pl*H*W:][:H*W]
			do, id := dout[pl*OH*OW:][:OH*OW], idx[pl*OH*OW:][:OH*OW]
			for oh := 0; oh < OH; oh++ {
				r0, r1 := d[2*oh*W:][:W], d[(2*oh+1)*W:][:W]
				for ow := 0; ow < OW; ow++ {
					r0[2*ow], r0[2*ow+1], r1[2*ow], r1[2*ow+1] = 0, 0, 0, 0
				}
				if W%2 == 1 {
					r0[W-1], r1[W-1] = 0, 0
				}
				for ow, v := range do[oh*OW:][:OW] {
					d[id[oh*OW+ow]] = v
				}
			}
			if H%2 == 1 {
				clear(d[(H-1)*W:])
			}
		}
	})
}
