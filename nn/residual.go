package nn

import (
	"github.com/faudit/faudit/internal/blas"
	"github.com/faudit/faudit/internal/parallel"
)

// ResidualForward: out[N] = a[N] + f[N] (the skip connection h + f(h)).
func ResidualForward[T Float](out, a, f []T) {
	if parallel.Parts(len(out), len(out)/8, parallel.MinWork) <= 1 {
		blas.Add(out, a, f)
		return
	}
	parallel.For(len(out), len(out)/8, func(lo, hi int) { blas.Add(out[lo:hi], a[lo:hi], f[lo:hi]) })
}

// ResidualBackward: the gradient reaching a residual sum flows unchanged to
// both summands, so da[N] = dskip[N] + dbranch[N], where dbranch is what the
// branch f sent back to its input and dskip = dout.
func ResidualBackward[T Float](da, dskip, dbranch []T) {
	if parallel.Parts(len(da), len(da)/8, parallel.MinWork) <= 1 {
		blas.Add(da, dskip, dbranch)
		return
	}
	parallel.For(len(da), len(da)/8, func(lo, hi int) { blas.Add(da[lo:hi], dskip[lo:hi], dbranch[lo:hi]) })
}
