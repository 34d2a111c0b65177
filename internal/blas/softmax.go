package blas

import "math"

// SoftmaxRows replaces each row of s (len(s)/n rows of n) by its softmax,
// computed in float64 in buf (at least n long): with m the row's maximum,
// e_j = Exp(s_j − m), z = Σ e_j (four partial sums, see sum4) and
// s_j = T(e_j·(1/z)). Under cgo an AVX2 loop computes the same operations in
// the same order (vec_cgo.go), so both give the same bits.
func SoftmaxRows[T Float](s []T, n int, buf []float64) {
	if n == 0 {
		return
	}
	s, buf = s[:len(s)/n*n], buf[:n]
	if len(s) >= minVec && vecSoftmaxRows(s, n, buf) {
		return
	}
	softmaxRowsGo(s, n, buf)
}

func softmaxRowsGo[T Float](s []T, n int, buf []float64) {
	for r := 0; r+n <= len(s); r += n {
		row := s[r : r+n]
		for j, v := range row {
			buf[j] = float64(v)
		}
		mx := buf[0]
		for _, v := range buf {
			if v > mx {
				mx = v
			}
		}
		var z [4]float64
		j := 0
		for ; j+4 <= n; j += 4 {
			b := buf[j : j+4 : j+4]
			for l := range z {
				b[l] = Exp(b[l] - mx)
				z[l] += b[l]
			}
		}
		for l := 0; j < n; j, l = j+1, l+1 {
			buf[j] = Exp(buf[j] - mx)
			z[l] += buf[j]
		}
		inv := 1 / ((z[0] + z[1]) + (z[2] + z[3]))
		for j, e := range buf {
			row[j] = T(e * inv)
		}
	}
}

// Exp is eˣ for x ≤ 0 (the shifted scores of a softmax; larger x are not
// supported), with a relative error below 1e-15 against math.Exp (tested):
// x = k·ln2 + r with k = round(x/ln2) and |r| ≤ ln2/2 (Cody–Waite: ln2 in a
// high part with trailing zero bits, so k·ln2hi is exact, and a low part),
// eʳ by its Taylor polynomial of degree 12 (truncation error < 2e-16), times
// 2ᵏ. Below ExpMin it returns 0 (the true value is below 3.1e-308); NaN
// stays NaN. Every product is wrapped in float64(·) so the compiler cannot
// fuse it into a multiply-add: the C loop must see the same roundings.
func Exp(x float64) float64 {
	xc := max(x, ExpMin) // NaN: max returns NaN
	k := math.RoundToEven(float64(xc * log2e))
	r := (xc - float64(k*ln2hi)) - float64(k*ln2lo)
	p := expC12
	p = expC11 + float64(p*r)
	p = expC10 + float64(p*r)
	p = expC9 + float64(p*r)
	p = expC8 + float64(p*r)
	p = expC7 + float64(p*r)
	p = expC6 + float64(p*r)
	p = expC5 + float64(p*r)
	p = expC4 + float64(p*r)
	p = expC3 + float64(p*r)
	p = expC2 + float64(p*r)
	p = 1 + float64(p*r)
	p = 1 + float64(p*r)
	e := float64(p * math.Float64frombits(uint64(int64(k)+1023)<<52))
	if x < ExpMin {
		return 0
	}
	return e
}

// ExpMin is the smallest argument Exp does not flush to 0: 2ᵏ stays a
// normal number for k ≥ −1021.
const ExpMin = -707.0

const (
	log2e = 1.44269504088896338700e+00
	ln2hi = 6.93147180369123816490e-01 // fdlibm's split of ln 2
	ln2lo = 1.90821492927058770002e-10
	// 1/k! for k = 2 … 12
	expC2, expC3, expC4, expC5 = 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120
	expC6, expC7, expC8, expC9 = 1.0 / 720, 1.0 / 5040, 1.0 / 40320, 1.0 / 362880
	expC10, expC11, expC12     = 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600
)
