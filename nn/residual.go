package nn

import (
	"github.com/faudit/faudit/internal/blas"
	"github.com/faudit/faudit/internal/parallel"
)

// ResidualForward: out[N] = a[N] + f[N] (the skip connection h + f(h)).
func ResidualForward[T Float](out, a, f []T) { add(out, a, f) }

// ResidualBackward: the gradient reaching a residual sum flows unchanged to
// both summands, so da[N] = dskip[N] + dbranch[N], where dbranch is what the
// branch f sent back to its input and dskip = dout.
func ResidualBackward[T Float](da, dskip, dbranch []T) { add(da, dskip, dbranch) }

// add: out[N] = a[N] + b[N], split into contiguous blocks when big enough.
func add[T Float](out, a, b []T) {
	parts := parallel.Parts(len(out), len(out)/8, parallel.MinWork)
	if parts <= 1 {
		blas.Add(out, a, b)
		return
	}
	runParts[T](&addJobs, addJob[T]{out, a, b, parts}, parts)
}

type addJob[T Float] struct {
	out, a, b []T
	parts     int
}

var addJobs jobPool

// Run is part p: a contiguous block of the elements.
func (j *addJob[T]) Run(p int) {
	lo, hi := rowBlock(p, j.parts, len(j.out))
	blas.Add(j.out[lo:hi], j.a[lo:hi], j.b[lo:hi])
}
