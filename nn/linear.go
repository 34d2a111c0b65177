package nn

import (
	"github.com/faudit/faudit/internal/blas"
	"github.com/faudit/faudit/internal/parallel"
)

// Float is the element type of every tensor in faudit.
type Float = blas.Float

// LinearForward: out[B,O] = inp[B,I]·w[O,I]ᵀ + b[O].
//
// When the product is big enough to split (blas.Splits), each part writes
// the bias into its block of out and runs its block of the GEMM, all in one
// hand-off. The blocks are columns (output features) when each gets at least
// 64 and the batch is small (B ≤ 4·O): there that costs hardly more than the
// whole product, where a split by rows costs 10–15 % more (measured at
// B=128); else rows, as Gemm splits. (With many rows — a ViT's B·tokens —
// every column block would pack all of inp again.)
func LinearForward[T Float](out, inp, w, b []T, B, I, O int) {
	parts := blas.Splits(B, O, I)
	if parts == 1 {
		linearForwardPart(0, 1, false, out, inp, w, b, B, I, O)
		return
	}
	cols := O/parts >= 64 && B <= 4*O
	runParts[T](&linearForwardJobs, linearForwardJob[T]{out, inp, w, b, B, I, O, parts, cols}, parts)
}

type linearForwardJob[T Float] struct {
	out, inp, w, b []T
	B, I, O, parts int
	cols           bool
}

var linearForwardJobs jobPool

func (j *linearForwardJob[T]) Run(p int) {
	linearForwardPart(p, j.parts, j.cols, j.out, j.inp, j.w, j.b, j.B, j.I, j.O)
}

// linearForwardPart is part p: a block of columns or of rows of out.
func linearForwardPart[T Float](p, parts int, cols bool, out, inp, w, b []T, B, I, O int) {
	var beta T
	if b != nil { // the GEMM adds onto the bias (beta = 1)
		beta = 1
		if cols {
			j0, j1 := rowBlock(p, parts, O)
			for r := 0; r < B; r++ {
				copy(out[r*O+j0:r*O+j1], b[j0:j1])
			}
		} else {
			r0, r1 := rowBlock(p, parts, B)
			for r := r0; r < r1; r++ {
				copy(out[r*O:r*O+O], b[:O])
			}
		}
	}
	if cols {
		blas.GemmColPart(p, parts, false, true, B, O, I, 1, inp, I, w, I, beta, out, O)
	} else {
		blas.GemmPart(p, parts, false, true, B, O, I, 1, inp, I, w, I, beta, out, O)
	}
}

// LinearBackward, given dout[B,O] and the forward input inp[B,I]:
// dw[O,I] = doutᵀ·inp, db[O] = Σ_rows dout, and dinp[B,I] = dout·feedback[O,I].
// feedback is the forward weight for backpropagation, or a stand-in (a fixed
// random matrix, sign(W), …) for the feedback-alignment family. Any of dinp,
// dw, db may be nil to skip it.
//
// Everything runs in one parallel call (see linearBackwardSplit); db is
// summed, by columns, alongside dw (alongside dinp when dw is nil).
func LinearBackward[T Float](dinp, dw, db, dout, inp, feedback []T, B, I, O int) {
	nX, nW := linearBackwardSplit(B, I, O, dinp != nil, dw != nil)
	if nX+nW <= 1 {
		if dinp != nil {
			blas.GemmPart(0, 1, false, false, B, I, O, 1, dout, O, feedback, I, 0, dinp, I)
		}
		if dw != nil {
			blas.GemmPart(0, 1, true, false, O, I, B, 1, dout, O, inp, I, 0, dw, I)
		}
		if db != nil {
			ColumnSum(db, dout, B, O)
		}
		return
	}
	runParts[T](&linearBackwardJobs, linearBackwardJob[T]{dinp, dw, db, dout, inp, feedback, B, I, O, nX, nW}, nX+nW)
}

type linearBackwardJob[T Float] struct {
	dinp, dw, db, dout, inp, feedback []T
	B, I, O, nX, nW                   int
}

var linearBackwardJobs jobPool

func (j *linearBackwardJob[T]) Run(p int) {
	linearBackwardPart(p, j.nX, j.nW, j.dinp, j.dw, j.db, j.dout, j.inp, j.feedback, j.B, j.I, j.O)
}

// linearBackwardSplit: the row blocks of dinp and of dw (0 for an absent
// one; 0, 0 for a product too small to split). With both present, the two
// products are independent and cost the same (B·I·O multiply-adds each), so
// each gets half of the processors: on two, each runs whole on one goroutine,
// which wastes less than splitting both (measured), and the results are those
// of GOMAXPROCS=1. A product alone is split as Gemm splits it.
func linearBackwardSplit(B, I, O int, hasX, hasW bool) (nX, nW int) {
	procs := parallel.Procs()
	if procs < 2 || !blas.Big(B, I, O) {
		return 0, 0
	}
	switch {
	case hasX && hasW:
		return min(procs/2, max(B/16, 1)), min(procs-procs/2, max(O/16, 1))
	case hasX:
		return blas.Splits(B, I, O), 0
	case hasW:
		return 0, blas.Splits(O, I, B)
	}
	return 0, 0
}

// linearBackwardPart is part p: row block p of dinp for p < nX, else row
// block p−nX of dw, with the matching columns of db.
func linearBackwardPart[T Float](p, nX, nW int, dinp, dw, db, dout, inp, feedback []T, B, I, O int) {
	if p < nX {
		blas.GemmPart(p, nX, false, false, B, I, O, 1, dout, O, feedback, I, 0, dinp, I)
		if nW == 0 && db != nil {
			columnSum(db, dout, B, O, p*O/nX, (p+1)*O/nX)
		}
		return
	}
	q := p - nX
	blas.GemmPart(q, nW, true, false, O, I, B, 1, dout, O, inp, I, 0, dw, I)
	if db != nil {
		columnSum(db, dout, B, O, q*O/nW, (q+1)*O/nW)
	}
}

// ColumnSum: out[O] = Σ_r x[r,O], accumulated in row order (deterministic;
// large sums are split over columns, which keeps that order).
func ColumnSum[T Float](out, x []T, B, O int) {
	parts := parallel.Parts(O, B*O/4, parallel.MinWork)
	if parts <= 1 {
		columnSum(out, x, B, O, 0, O)
		return
	}
	runParts[T](&columnSumJobs, columnSumJob[T]{out, x, B, O, parts}, parts)
}

type columnSumJob[T Float] struct {
	out, x      []T
	B, O, parts int
}

var columnSumJobs jobPool

// Run is part p: a block of the columns.
func (j *columnSumJob[T]) Run(p int) {
	lo, hi := rowBlock(p, j.parts, j.O)
	columnSum(j.out, j.x, j.B, j.O, lo, hi)
}

// columnSum is ColumnSum on columns [lo, hi).
func columnSum[T Float](out, x []T, B, O, lo, hi int) {
	if lo < hi {
		blas.ColumnSum(out[lo:hi], x[lo:], B, O)
	}
}
