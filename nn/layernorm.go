package nn

import (
	"math"

	"github.com/faudit/faudit/internal/parallel"
)

// LNEps is LayerNorm's variance epsilon, PyTorch's default.
const LNEps = 1e-5

// LayerNormForward normalises each row of x[B,D] and applies the affine map:
// out[B,D] = (x − mean)·rstd·g[D] + b[D]; it saves mean[B] and rstd[B] for the
// backward pass. Statistics are accumulated in float64 (two passes).
func LayerNormForward[T Float](out, mean, rstd, x, g, b []T, B, D int) {
	parallel.For(B, B*D*4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, or := x[r*D:r*D+D], out[r*D:r*D+D]
			s := 0.0
			for _, v := range xr {
				s += float64(v)
			}
			m := s / float64(D)
			v := 0.0
			for _, xv := range xr {
				d := float64(xv) - m
				v += d * d
			}
			rs := 1 / math.Sqrt(v/float64(D)+LNEps)
			mean[r], rstd[r] = T(m), T(rs)
			mt, rt := T(m), T(rs)
			for j, xv := range xr {
				or[j] = (xv-mt)*rt*g[j] + b[j]
			}
		}
	})
}

// LayerNormBackward, given dout[B,D], the forward input x[B,D] and the saved
// mean/rstd: dx[B,D], dg[D], db[D]. With x̂ = (x−mean)·rstd and dx̂ = dout·g,
// dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)). dg and db may be nil.
func LayerNormBackward[T Float](dx, dg, db, dout, x, mean, rstd, g []T, B, D int) {
	parallel.For(B, B*D*6, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, dr, dxr := x[r*D:r*D+D], dout[r*D:r*D+D], dx[r*D:r*D+D]
			m, rs := mean[r], rstd[r]
			s1, s2 := 0.0, 0.0
			for j, xv := range xr {
				dxh := float64(dr[j] * g[j])
				s1 += dxh
				s2 += dxh * float64((xv-m)*rs)
			}
			m1, m2 := T(s1/float64(D)), T(s2/float64(D))
			for j, xv := range xr {
				xh := (xv - m) * rs
				dxr[j] = rs * (dr[j]*g[j] - m1 - xh*m2)
			}
		}
	})
	if dg == nil && db == nil {
		return
	}
	if dg != nil {
		clear(dg[:D])
	}
	if db != nil {
		clear(db[:D])
	}
	for r := 0; r < B; r++ {
		xr, dr := x[r*D:r*D+D], dout[r*D:r*D+D]
		m, rs := mean[r], rstd[r]
		for j, xv := range xr {
			if dg != nil {
				dg[j] += dr[j] * (xv - m) * rs
			}
			if db != nil {
				db[j] += dr[j]
			}
		}
	}
}
