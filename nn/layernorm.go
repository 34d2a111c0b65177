package nn

import (
	"github.com/faudit/faudit/internal/blas"
	"github.com/faudit/faudit/internal/parallel"
)

// LNEps is LayerNorm's variance epsilon, PyTorch's default.
const LNEps = 1e-5

// LayerNormForward normalises each row of x[B,D] and applies the affine map:
// out[B,D] = (x − mean)·rstd·g[D] + b[D]; it saves mean[B] and rstd[B] for the
// backward pass. Statistics are accumulated in float64 (two passes, each sum
// in eight interleaved partial sums: blas.LayerNormRows). Rows are split over
// goroutines.
func LayerNormForward[T Float](out, mean, rstd, x, g, b []T, B, D int) {
	parts := parallel.Parts(B, B*D, parallel.MinWork)
	if parts <= 1 {
		blas.LayerNormRows(out[:B*D], mean[:B], rstd[:B], x[:B*D], g, b, D, LNEps)
		return
	}
	runParts[T](&layerNormForwardJobs, layerNormForwardJob[T]{out, mean, rstd, x, g, b, B, D, parts}, parts)
}

type layerNormForwardJob[T Float] struct {
	out, mean, rstd, x, g, b []T
	B, D, parts              int
}

var layerNormForwardJobs jobPool

func (j *layerNormForwardJob[T]) Run(p int) {
	lo, hi := rowBlock(p, j.parts, j.B)
	D := j.D
	blas.LayerNormRows(j.out[lo*D:hi*D], j.mean[lo:hi], j.rstd[lo:hi], j.x[lo*D:hi*D], j.g, j.b, D, LNEps)
}

// LayerNormBackward, given dout[B,D], the forward input x[B,D] and the saved
// mean/rstd: dx[B,D], dg[D], db[D]. With x̂ = (x−mean)·rstd and dx̂ = dout·g,
// dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)). dg and db may be nil; dx must
// not alias dout.
//
// Part p of the split computes rows [p·B/P, (p+1)·B/P) of dx and columns
// [p·D/P, (p+1)·D/P) of dg and db, each column summed over the rows in order,
// so dg and db do not depend on the split.
func LayerNormBackward[T Float](dx, dg, db, dout, x, mean, rstd, g []T, B, D int) {
	j := layerNormBackwardJob[T]{dx, dg, db, dout, x, mean, rstd, g, B, D, 1}
	if j.parts = parallel.Parts(B, B*D*2, parallel.MinWork); j.parts <= 1 {
		j.Run(0)
		return
	}
	runParts[T](&layerNormBackwardJobs, j, j.parts)
}

type layerNormBackwardJob[T Float] struct {
	dx, dg, db, dout, x, mean, rstd, g []T
	B, D, parts                        int
}

var layerNormBackwardJobs jobPool

// Run is part p: its block of rows of dx and the same fraction of the
// columns of dg and db.
func (j *layerNormBackwardJob[T]) Run(p int) {
	B, D := j.B, j.D
	lo, hi := rowBlock(p, j.parts, B)
	blas.LayerNormGradRows(j.dx[lo*D:hi*D], j.dout[lo*D:hi*D], j.x[lo*D:hi*D], j.mean[lo:hi], j.rstd[lo:hi], j.g, D)
	c0, c1 := rowBlock(p, j.parts, D)
	if c0 >= c1 || j.dg == nil && j.db == nil {
		return
	}
	var dg, db []T
	if j.dg != nil {
		dg = j.dg[c0:c1]
	}
	if j.db != nil {
		db = j.db[c0:c1]
	}
	blas.LayerNormParamGrads(dg, db, j.dout[c0:], j.x[c0:], j.mean[:B], j.rstd[:B], B, D)
}
