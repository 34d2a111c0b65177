package nn

import "github.com/faudit/faudit/internal/blas"

// SwapAxes01: dst[b,a,:] = src[a,b,:] for src [A,Bn,HW] and dst [Bn,A,HW]
// (with add, dst[b,a,:] += src[a,b,:]): NCHW ↔ channel-major. Split over a,
// so the writes of different parts are disjoint.
func SwapAxes01[T Float](dst, src []T, A, Bn, HW int, add bool) {
	j := swapJob[T]{dst: dst, src: src, A: A, Bn: Bn, HW: HW, add: add}
	runJob[T, swapJob[T]](&swapJobs, j, A, A*Bn*HW)
}

type swapJob[T Float] struct {
	dst, src         []T
	A, Bn, HW, parts int
	add              bool
}

var swapJobs jobPool

func (j *swapJob[T]) setParts(p int) { j.parts = p }

// Run is part p: a block of a.
func (j *swapJob[T]) Run(p int) {
	A, Bn, HW := j.A, j.Bn, j.HW
	lo, hi := rowBlock(p, j.parts, A)
	for a := lo; a < hi; a++ {
		for b := 0; b < Bn; b++ {
			s, d := j.src[(a*Bn+b)*HW:][:HW], j.dst[(b*A+a)*HW:][:HW]
			if j.add {
				blas.Add(d, d, s)
			} else {
				copy(d, s)
			}
		}
	}
}
