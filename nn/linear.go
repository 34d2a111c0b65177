package nn

import "github.com/faudit/faudit/internal/blas"

// Float is the element type of every tensor in faudit.
type Float = blas.Float

// LinearForward: out[B,O] = inp[B,I]·w[O,I]ᵀ + b[O].
func LinearForward[T Float](out, inp, w, b []T, B, I, O int) {
	if b == nil {
		blas.Gemm(false, true, B, O, I, 1, inp, I, w, I, 0, out, O)
		return
	}
	for r := 0; r < B; r++ { // the GEMM adds onto the bias rows (beta = 1)
		copy(out[r*O:r*O+O], b[:O])
	}
	blas.Gemm(false, true, B, O, I, 1, inp, I, w, I, 1, out, O)
}

// LinearBackward, given dout[B,O] and the forward input inp[B,I]:
// dw[O,I] = doutᵀ·inp, db[O] = Σ_rows dout, and dinp[B,I] = dout·feedback[O,I].
// feedback is the forward weight for backpropagation, or a stand-in (a fixed
// random matrix, sign(W), …) for the feedback-alignment family. Any of dinp,
// dw, db may be nil to skip it.
func LinearBackward[T Float](dinp, dw, db, dout, inp, feedback []T, B, I, O int) {
	if dinp != nil {
		blas.Gemm(false, false, B, I, O, 1, dout, O, feedback, I, 0, dinp, I)
	}
	if dw != nil {
		blas.Gemm(true, false, O, I, B, 1, dout, O, inp, I, 0, dw, I)
	}
	if db != nil {
		ColumnSum(db, dout, B, O)
	}
}

// ColumnSum: out[O] = Σ_r x[r,O], accumulated in row order (deterministic).
func ColumnSum[T Float](out, x []T, B, O int) {
	clear(out[:O])
	for r := 0; r < B; r++ {
		row := x[r*O : r*O+O]
		for j, v := range row {
			out[j] += v
		}
	}
}
