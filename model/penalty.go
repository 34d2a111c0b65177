package model

import "github.com/faudit/faudit/nn"

// Penalized is implemented by models that can add the per-block scale
// penalty of the paper (§9.1) to every block's objective:
//
//	λ · Σ_b ‖f_l(h_l)_b‖²   added to the summed loss,
//
// where f_l is block l's residual branch (ResMLP) or hidden layer k's output
// (MLP), and b runs over the batch. It carries the same loss scale as the
// cross-entropy, so with the usual mean reduction (scale 1/B) the term is
// λ·mean_b ‖f_l‖² (sum over features, mean over samples) and each sample's
// gradient at f_l gains 2λ·f_l/B. Backprop (Backward, BackwardWith) adds it
// to the loss it differentiates — the capacity-cost control — and the local
// rules add it to each block's local objective through TrainBlock. Loss still
// returns the cross-entropy alone; the credit a rule reports is unchanged.
type Penalized interface {
	SetPenalty(lambda float64)
}

// SetPenalty sets λ of the per-block scale penalty (0: none).
func (m *ResMLP[T]) SetPenalty(lambda float64) { m.penalty = lambda }

// SetPenalty sets λ of the per-layer scale penalty (0: none).
func (m *MLP[T]) SetPenalty(lambda float64) { m.penalty = lambda }

// addPenalty sets dst = dOut + k·f element-wise (dst may be dOut).
func addPenalty[T nn.Float](dst, dOut, f []T, k T) {
	f = f[:len(dst)]
	dOut = dOut[:len(dst)]
	for i := range dst {
		dst[i] = dOut[i] + k*f[i]
	}
}
