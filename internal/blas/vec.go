package blas

import "math"

// Element-wise and row-reduction kernels for the layers in package nn. Under
// cgo they run as AVX2 C loops (vec_cgo.go); the Go loops here are the
// fallback and the definition: both compute every element with the same
// operations in the same order, with no fused multiply-add, so the two give
// bit-identical results. Each works on whatever range its slices cover; the
// callers split rows or columns over goroutines.

// ReLU: out[i] = max(x[i], 0) (+0 for −0, NaN stays NaN).
func ReLU[T Float](out, x []T) {
	out = out[:len(x)]
	if len(x) >= minVec && vecReLU(out, x) {
		return
	}
	reluGo(out, x)
}

func reluGo[T Float](out, x []T) {
	out = out[:len(x)]
	for i, v := range x {
		out[i] = max(v, 0)
	}
}

// ReLUGrad: dx[i] = dout[i] where x[i] > 0, else +0, with x > 0 read off the
// bits (x's bit pattern as a signed integer is positive: NaNs with the sign
// bit clear count as positive). dx may alias dout.
func ReLUGrad[T Float](dx, dout, x []T) {
	dx, dout = dx[:len(x)], dout[:len(x)]
	if len(x) >= minVec && vecReLUGrad(dx, dout, x) {
		return
	}
	reluGradGo(dx, dout, x)
}

func reluGradGo[T Float](dx, dout, x []T) {
	switch xx := any(x).(type) {
	case []float32:
		dx, dout := any(dx).([]float32)[:len(xx)], any(dout).([]float32)[:len(xx)]
		for i, v := range xx {
			// −s & ^s has its sign bit set exactly when s > 0 (branch-free).
			s := int32(math.Float32bits(v))
			mask := uint32(((-s) & ^s) >> 31)
			dx[i] = math.Float32frombits(math.Float32bits(dout[i]) & mask)
		}
	case []float64:
		dx, dout := any(dx).([]float64)[:len(xx)], any(dout).([]float64)[:len(xx)]
		for i, v := range xx {
			s := int64(math.Float64bits(v))
			mask := uint64(((-s) & ^s) >> 63)
			dx[i] = math.Float64frombits(math.Float64bits(dout[i]) & mask)
		}
	default:
		for i, v := range x {
			if v > 0 || v != v && !math.Signbit(float64(v)) {
				dx[i] = dout[i]
			} else {
				dx[i] = 0
			}
		}
	}
}

// Add: out[i] = a[i] + b[i]. out may alias a or b.
func Add[T Float](out, a, b []T) {
	a, b = a[:len(out)], b[:len(out)]
	if len(out) >= minVec && vecAdd(out, a, b) {
		return
	}
	addGo(out, a, b)
}

func addGo[T Float](out, a, b []T) {
	a, b = a[:len(out)], b[:len(out)]
	for i := range out {
		out[i] = a[i] + b[i]
	}
}

// ColumnSum: out[j] = Σ_r x[r·ld + j] over rows r = 0 … rows−1 in order, for
// j < len(out) (four rows per pass: out + x₀ + x₁ + x₂ + x₃, left to right).
func ColumnSum[T Float](out, x []T, rows, ld int) {
	n := len(out)
	if rows > 0 && n > 0 {
		_ = x[(rows-1)*ld+n-1]
	}
	if n >= minVec && vecColumnSum(out, x, rows, ld) {
		return
	}
	columnSumGo(out, x, rows, ld)
}

func columnSumGo[T Float](out, x []T, rows, ld int) {
	n := len(out)
	clear(out)
	r := 0
	for ; r+4 <= rows; r += 4 {
		x0, x1, x2, x3 := x[r*ld:][:n], x[(r+1)*ld:][:n], x[(r+2)*ld:][:n], x[(r+3)*ld:][:n]
		for j := range out {
			out[j] = out[j] + x0[j] + x1[j] + x2[j] + x3[j]
		}
	}
	for ; r < rows; r++ {
		xr := x[r*ld:][:n]
		for j, v := range xr {
			out[j] += v
		}
	}
}

// LayerNormRows normalises the rows of x (len(x)/D rows of D): with the row's
// mean m and rs = 1/√(var + eps), both accumulated in float64 (two passes,
// see sum8), it stores mean[r] = m, rstd[r] = rs and
// out = (x − m)·rs·g + b, computed in T.
func LayerNormRows[T Float](out, mean, rstd, x, g, b []T, D int, eps float64) {
	rows := len(x) / D
	out, mean, rstd, g, b = out[:rows*D], mean[:rows], rstd[:rows], g[:D], b[:D]
	if D >= minVec && vecLayerNormRows(out, mean, rstd, x[:rows*D], g, b, D, eps) {
		return
	}
	layerNormRowsGo(out, mean, rstd, x, g, b, D, eps)
}

func layerNormRowsGo[T Float](out, mean, rstd, x, g, b []T, D int, eps float64) {
	rows := len(x) / D
	for r := 0; r < rows; r++ {
		xr, or := x[r*D:][:D], out[r*D:][:D]
		m := sum8(xr) / float64(D)
		rs := 1 / math.Sqrt(sumSq8(xr, m)/float64(D)+eps)
		mean[r], rstd[r] = T(m), T(rs)
		mt, rt := T(m), T(rs)
		for j, xv := range xr {
			or[j] = T(T(T(xv-mt)*rt)*g[j]) + b[j]
		}
	}
}

// LayerNormGradRows is LayerNorm's input gradient on the rows of x: with
// x̂ = (x − mean)·rstd and dx̂ = dout·g (in T), and the row means of dx̂ and
// dx̂·x̂ accumulated in float64 (see dotStats8),
// dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)). dx must not alias dout.
func LayerNormGradRows[T Float](dx, dout, x, mean, rstd, g []T, D int) {
	rows := len(x) / D
	dx, dout, mean, rstd, g = dx[:rows*D], dout[:rows*D], mean[:rows], rstd[:rows], g[:D]
	if D >= minVec && vecLayerNormGradRows(dx, dout, x[:rows*D], mean, rstd, g, D) {
		return
	}
	layerNormGradRowsGo(dx, dout, x, mean, rstd, g, D)
}

func layerNormGradRowsGo[T Float](dx, dout, x, mean, rstd, g []T, D int) {
	rows := len(x) / D
	for r := 0; r < rows; r++ {
		xr, dr, dxr := x[r*D:][:D], dout[r*D:][:D], dx[r*D:][:D]
		m, rs := mean[r], rstd[r]
		s1, s2 := dotStats8(xr, dr, g, m, rs)
		m1, m2 := T(s1/float64(D)), T(s2/float64(D))
		for j, xv := range xr {
			xh := T(xv-m) * rs
			dxr[j] = rs * (T(T(dr[j]*g[j])-m1) - T(xh*m2))
		}
	}
}

// LayerNormParamGrads: dg[j] = Σ_r dout[r,j]·x̂[r,j] and db[j] = Σ_r dout[r,j]
// with x̂ = (x − mean)·rstd, over rows r in order, for the len(dg) (or
// len(db)) columns starting at x[0] and dout[0]; rows are ld apart. Either of
// dg, db may be nil.
func LayerNormParamGrads[T Float](dg, db, dout, x, mean, rstd []T, rows, ld int) {
	if dg != nil {
		n := len(dg)
		if rows > 0 && n > 0 {
			_, _ = x[(rows-1)*ld+n-1], dout[(rows-1)*ld+n-1]
		}
		if n < minVec || !vecLayerNormParamGrads(dg, dout, x, mean[:rows], rstd[:rows], rows, ld) {
			layerNormDG(dg, dout, x, mean, rstd, rows, ld)
		}
	}
	if db != nil {
		ColumnSum(db, dout, rows, ld)
	}
}

func layerNormDG[T Float](dg, dout, x, mean, rstd []T, rows, ld int) {
	n := len(dg)
	clear(dg)
	r := 0
	for ; r+4 <= rows; r += 4 {
		x0, d0 := x[r*ld:][:n], dout[r*ld:][:n]
		x1, d1 := x[(r+1)*ld:][:n], dout[(r+1)*ld:][:n]
		x2, d2 := x[(r+2)*ld:][:n], dout[(r+2)*ld:][:n]
		x3, d3 := x[(r+3)*ld:][:n], dout[(r+3)*ld:][:n]
		m0, m1, m2, m3 := mean[r], mean[r+1], mean[r+2], mean[r+3]
		s0, s1, s2, s3 := rstd[r], rstd[r+1], rstd[r+2], rstd[r+3]
		for j := range dg {
			dg[j] = dg[j] + T(T(d0[j]*T(x0[j]-m0))*s0) + T(T(d1[j]*T(x1[j]-m1))*s1) +
				T(T(d2[j]*T(x2[j]-m2))*s2) + T(T(d3[j]*T(x3[j]-m3))*s3)
		}
	}
	for ; r < rows; r++ {
		xr, dr := x[r*ld:][:n], dout[r*ld:][:n]
		m, rs := mean[r], rstd[r]
		for j, xv := range xr {
			dg[j] += T(T(dr[j]*T(xv-m)) * rs)
		}
	}
}

// The row reductions are float64 sums in eight interleaved partial sums
// s[j mod 8] (the layout of two 4-lane AVX registers), combined as
// ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)); a single running sum would be bound
// by the adder's latency. The order is fixed, so results are deterministic
// and the same in C and in Go.

func combine8(s *[8]float64) float64 {
	return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]))
}

// sum8 is Σ x[j] in float64.
func sum8[T Float](x []T) float64 {
	var s [8]float64
	j := 0
	for ; j+8 <= len(x); j += 8 {
		x := x[j : j+8 : j+8]
		for l := range s {
			s[l] += float64(x[l])
		}
	}
	for l := 0; j < len(x); j, l = j+1, l+1 {
		s[l] += float64(x[j])
	}
	return combine8(&s)
}

// sumSq8 is Σ (x[j] − m)² in float64.
func sumSq8[T Float](x []T, m float64) float64 {
	var s [8]float64
	j := 0
	for ; j+8 <= len(x); j += 8 {
		x := x[j : j+8 : j+8]
		for l := range s {
			d := float64(x[l]) - m
			s[l] += float64(d * d)
		}
	}
	for l := 0; j < len(x); j, l = j+1, l+1 {
		d := float64(x[j]) - m
		s[l] += float64(d * d)
	}
	return combine8(&s)
}

// dotStats8 is Σ dx̂ and Σ dx̂·x̂ in float64, with dx̂ = dout·g and
// x̂ = (x − m)·rs formed in T.
func dotStats8[T Float](x, dout, g []T, m, rs T) (float64, float64) {
	dout, g = dout[:len(x)], g[:len(x)]
	var a, b [8]float64
	j := 0
	for ; j+8 <= len(x); j += 8 {
		x, d, g := x[j:j+8:j+8], dout[j:j+8:j+8], g[j:j+8:j+8]
		for l := range a {
			h := float64(d[l] * g[l])
			a[l] += h
			b[l] += float64(h * float64(T(x[l]-m)*rs))
		}
	}
	for l := 0; j < len(x); j, l = j+1, l+1 {
		h := float64(dout[j] * g[j])
		a[l] += h
		b[l] += float64(h * float64(T(x[j]-m)*rs))
	}
	return combine8(&a), combine8(&b)
}
