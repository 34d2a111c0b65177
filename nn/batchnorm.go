package nn

import (
	"math"

	"github.com/faudit/faudit/internal/blas"
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
// float64 (two passes, blas.Sum64 and blas.SumSqDev64). Channels are split
// over goroutines.
func BatchNorm2dForward[T Float](out, mean, rstd, x, g, b, runMean, runVar []T, N, C, HW int, training bool) {
	j := bnJob[T]{out: out, mean: mean, rstd: rstd, x: x, g: g, b: b, runMean: runMean, runVar: runVar,
		N: N, C: C, HW: HW, training: training, parts: 1}
	runBN(j, N*HW*C*3)
}

// BatchNorm2dBackward, given dout[N,C,HW], the forward input x[N,C,HW] and
// the mean[C], rstd[C] the forward used: dx[N,C,HW], dg[C] = Σ dout·x̂ and
// db[C] = Σ dout (x̂ = (x − mean)·rstd; sums in float64). In training mode
// the statistics depend on x: dx = g·rstd·(dout − mean(dout) − x̂·mean(dout·x̂))
// over each channel's N·HW values; in evaluation mode dx = g·rstd·dout.
// dg and db may be nil; dx may alias dout.
func BatchNorm2dBackward[T Float](dx, dg, db, dout, x, mean, rstd, g []T, N, C, HW int, training bool) {
	j := bnJob[T]{backward: true, out: dx, dg: dg, db: db, dout: dout, x: x, mean: mean, rstd: rstd, g: g,
		N: N, C: C, HW: HW, training: training, parts: 1}
	runBN(j, N*HW*C*3)
}

// bnJob is one BatchNorm forward or backward, split over the channels.
type bnJob[T Float] struct {
	backward                 bool
	out, mean, rstd, x, g, b []T // out is dx backward
	runMean, runVar          []T // forward
	dg, db, dout             []T // backward
	N, C, HW                 int
	training                 bool
	parts                    int
}

var bnJobs jobPool

func runBN[T Float](j bnJob[T], work int) {
	if j.parts = parallel.Parts(j.C, work, parallel.MinWork); j.parts <= 1 {
		j.Run(0)
		return
	}
	runParts[T](&bnJobs, j, j.parts)
}

// Run is part p: a block of channels.
func (j *bnJob[T]) Run(p int) {
	lo, hi := rowBlock(p, j.parts, j.C)
	for c := lo; c < hi; c++ {
		if j.backward {
			j.backwardChannel(c)
		} else {
			j.forwardChannel(c)
		}
	}
}

// run is channel c's values of sample n in t[N,C,HW].
func (j *bnJob[T]) run(t []T, n, c int) []T { return t[(n*j.C+c)*j.HW:][:j.HW] }

func (j *bnJob[T]) forwardChannel(c int) {
	N, M := j.N, j.N*j.HW
	if j.training {
		s := 0.0
		for n := 0; n < N; n++ {
			s += blas.Sum64(j.run(j.x, n, c))
		}
		m := s / float64(M)
		v := 0.0
		for n := 0; n < N; n++ {
			v += blas.SumSqDev64(j.run(j.x, n, c), m)
		}
		j.mean[c], j.rstd[c] = T(m), T(1/math.Sqrt(v/float64(M)+BNEps))
		if j.runMean != nil {
			unbiased := v / float64(max(M-1, 1))
			j.runMean[c] = T((1-BNMomentum)*float64(j.runMean[c]) + BNMomentum*m)
			j.runVar[c] = T((1-BNMomentum)*float64(j.runVar[c]) + BNMomentum*unbiased)
		}
	} else {
		j.mean[c], j.rstd[c] = j.runMean[c], T(1/math.Sqrt(float64(j.runVar[c])+BNEps))
	}
	mt, kt, bt := j.mean[c], j.rstd[c]*j.g[c], j.b[c]
	for n := 0; n < N; n++ {
		blas.Affine(j.run(j.out, n, c), j.run(j.x, n, c), mt, kt, bt)
	}
}

func (j *bnJob[T]) backwardChannel(c int) {
	N, M := j.N, j.N*j.HW
	m, rs := j.mean[c], j.rstd[c]
	s1, s2 := 0.0, 0.0
	for n := 0; n < N; n++ {
		a, b := blas.DotDev64(j.run(j.dout, n, c), j.run(j.x, n, c), float64(m))
		s1 += a
		s2 += b * float64(rs)
	}
	if j.dg != nil {
		j.dg[c] = T(s2)
	}
	if j.db != nil {
		j.db[c] = T(s1)
	}
	k := j.g[c] * rs
	for n := 0; n < N; n++ {
		dr, dxr := j.run(j.dout, n, c), j.run(j.out, n, c)
		if !j.training {
			for i, d := range dr {
				dxr[i] = k * d
			}
			continue
		}
		blas.BNGrad(dxr, dr, j.run(j.x, n, c), k, T(s1/float64(M)), m, rs, T(s2/float64(M)))
	}
}
