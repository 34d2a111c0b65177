package nn

import (
	"math"

	"github.com/faudit/faudit/internal/parallel"
)

// BatchNorm2d's constants, PyTorch's defaults.
const (
	BNEps      = 1e-5
	BNMomentum = 0.1
)

// BatchNorm2dForward normalises x[N,C,HW] per channel and applies the affine
// map: out[N,C,HW] = (x − mean[c])·rstd[c]·g[c] + b[c].
//
// In training mode mean[C] and rstd[C] = 1/√(var + eps) are the batch
// statistics over the N·HW values of each channel (biased variance), written
// for the backward pass; when runMean[C] and runVar[C] are non-nil they are
// updated as PyTorch does: r ← (1 − 0.1)·r + 0.1·s, with the unbiased
// variance (·M/(M−1), M = N·HW; the biased one when M = 1). In evaluation
// mode mean = runMean and rstd = 1/√(runVar + eps) (written into mean and
// rstd), so the layer is a fixed affine map. Statistics are accumulated in
// float64 (two passes).
func BatchNorm2dForward[T Float](out, mean, rstd, x, g, b, runMean, runVar []T, N, C, HW int, training bool) {
	M := N * HW
	parallel.For(C, M*C*4, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			if training {
				s := 0.0
				for n := 0; n < N; n++ {
					s += sum64(x[(n*C+c)*HW:][:HW])
				}
				m := s / float64(M)
				v := 0.0
				for n := 0; n < N; n++ {
					v += sqdev64(x[(n*C+c)*HW:][:HW], m)
				}
				mean[c], rstd[c] = T(m), T(1/math.Sqrt(v/float64(M)+BNEps))
				if runMean != nil {
					unbiased := v / float64(max(M-1, 1))
					runMean[c] = T((1-BNMomentum)*float64(runMean[c]) + BNMomentum*m)
					runVar[c] = T((1-BNMomentum)*float64(runVar[c]) + BNMomentum*unbiased)
				}
			} else {
				mean[c], rstd[c] = runMean[c], T(1/math.Sqrt(float64(runVar[c])+BNEps))
			}
			mt, kt, bt := mean[c], rstd[c]*g[c], b[c]
			for n := 0; n < N; n++ {
				o := out[(n*C+c)*HW:][:HW]
				for j, xv := range x[(n*C+c)*HW:][:HW] {
					o[j] = (xv-mt)*kt + bt
				}
			}
		}
	})
}

// BatchNorm2dBackward, given dout[N,C,HW], the forward input x[N,C,HW] and
// the mean[C], rstd[C] the forward used: dx[N,C,HW], dg[C] = Σ dout·x̂ and
// db[C] = Σ dout (x̂ = (x − mean)·rstd; sums in float64). In training mode
// the statistics depend on x: dx = g·rstd·(dout − mean(dout) − x̂·mean(dout·x̂))
// over each channel's N·HW values; in evaluation mode dx = g·rstd·dout.
// dg and db may be nil; dx may alias dout.
func BatchNorm2dBackward[T Float](dx, dg, db, dout, x, mean, rstd, g []T, N, C, HW int, training bool) {
	M := N * HW
	parallel.For(C, M*C*6, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			m, rs := mean[c], rstd[c]
			s1, s2 := 0.0, 0.0
			for n := 0; n < N; n++ {
				a, b := dotdev64(dout[(n*C+c)*HW:][:HW], x[(n*C+c)*HW:][:HW], float64(m))
				s1 += a
				s2 += b * float64(rs)
			}
			if dg != nil {
				dg[c] = T(s2)
			}
			if db != nil {
				db[c] = T(s1)
			}
			k := g[c] * rs
			var m1, m2 T
			if training {
				m1, m2 = T(s1/float64(M)), T(s2/float64(M))
			}
			for n := 0; n < N; n++ {
				xr, dr, dxr := x[(n*C+c)*HW:][:HW], dout[(n*C+c)*HW:][:HW], dx[(n*C+c)*HW:][:HW]
				if !training {
					for j, d := range dr {
						dxr[j] = k * d
					}
					continue
				}
				for j, xv := range xr {
					dxr[j] = k * (dr[j] - m1 - (xv-m)*rs*m2)
				}
			}
		}
	})
}

// The reductions below keep four float64 partial sums, so that the
// additions do not wait on each other (a single chain runs at one element
// per add latency).

// sum64 = Σ x.
func sum64[T Float](x []T) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += float64(x[i])
		s1 += float64(x[i+1])
		s2 += float64(x[i+2])
		s3 += float64(x[i+3])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// sqdev64 = Σ (x − m)².
func sqdev64[T Float](x []T, m float64) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		d0, d1, d2, d3 := float64(x[i])-m, float64(x[i+1])-m, float64(x[i+2])-m, float64(x[i+3])-m
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(x); i++ {
		d := float64(x[i]) - m
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// dotdev64 = (Σ d, Σ d·(x − m)).
func dotdev64[T Float](d, x []T, m float64) (float64, float64) {
	var a0, a1, b0, b1 float64
	x = x[:len(d)]
	i := 0
	for ; i+2 <= len(d); i += 2 {
		d0, d1 := float64(d[i]), float64(d[i+1])
		a0 += d0
		a1 += d1
		b0 += d0 * (float64(x[i]) - m)
		b1 += d1 * (float64(x[i+1]) - m)
	}
	for ; i < len(d); i++ {
		a0 += float64(d[i])
		b0 += float64(d[i]) * (float64(x[i]) - m)
	}
	return a0 + a1, b0 + b1
}
