package blas

// Kernels for BatchNorm over one contiguous run of a channel's values. The
// sums are float64 in eight interleaved partial sums (see sum8); the
// element-wise loops compute in T. As for vec.go, the Go loops are the
// definition and the AVX2 C loops (vec_cgo.go) give the same bits.

// Sum64 is Σ x[j] in float64.
func Sum64[T Float](x []T) float64 {
	if len(x) >= minVec {
		if s, ok := vecSum64(x); ok {
			return s
		}
	}
	return sum8(x)
}

// SumSqDev64 is Σ (x[j] − m)² in float64.
func SumSqDev64[T Float](x []T, m float64) float64 {
	if len(x) >= minVec {
		if s, ok := vecSumSqDev64(x, m); ok {
			return s
		}
	}
	return sumSq8(x, m)
}

// DotDev64 is (Σ d[j], Σ d[j]·(x[j] − m)) in float64.
func DotDev64[T Float](d, x []T, m float64) (float64, float64) {
	x = x[:len(d)]
	if len(d) >= minVec {
		if a, b, ok := vecDotDev64(d, x, m); ok {
			return a, b
		}
	}
	return dotDev8(d, x, m)
}

func dotDev8[T Float](d, x []T, m float64) (float64, float64) {
	x = x[:len(d)]
	var a, b [8]float64
	j := 0
	for ; j+8 <= len(d); j += 8 {
		d, x := d[j:j+8:j+8], x[j:j+8:j+8]
		for l := range a {
			v := float64(d[l])
			a[l] += v
			b[l] += float64(v * (float64(x[l]) - m))
		}
	}
	for l := 0; j < len(d); j, l = j+1, l+1 {
		v := float64(d[j])
		a[l] += v
		b[l] += float64(v * (float64(x[j]) - m))
	}
	return combine8(&a), combine8(&b)
}

// Affine: out[j] = (x[j] − m)·k + b. out may alias x.
func Affine[T Float](out, x []T, m, k, b T) {
	out = out[:len(x)]
	if len(x) >= minVec && vecAffine(out, x, m, k, b) {
		return
	}
	affineGo(out, x, m, k, b)
}

func affineGo[T Float](out, x []T, m, k, b T) {
	out = out[:len(x)]
	for j, v := range x {
		out[j] = T((v-m)*k) + b
	}
}

// BNGrad: dx[j] = k·((d[j] − m1) − ((x[j] − m)·rs)·m2), BatchNorm's input
// gradient in training mode. dx may alias d.
func BNGrad[T Float](dx, d, x []T, k, m1, m, rs, m2 T) {
	dx, x = dx[:len(d)], x[:len(d)]
	if len(d) >= minVec && vecBNGrad(dx, d, x, k, m1, m, rs, m2) {
		return
	}
	bnGradGo(dx, d, x, k, m1, m, rs, m2)
}

func bnGradGo[T Float](dx, d, x []T, k, m1, m, rs, m2 T) {
	dx, x = dx[:len(d)], x[:len(d)]
	for j, v := range d {
		dx[j] = k * ((v - m1) - T(T(T(x[j]-m)*rs)*m2))
	}
}
