package rule

import (
	"math/rand/v2"

	"github.com/faudit/faudit/nn"
)

// kp is Kolen-Pollack (Akrout et al. 2019): layer-wise FA whose B, stored in
// W's shape, receives W's gradient as its own, so the optimiser gives it the
// same update and the same weight decay as W; B − W then decays to zero and
// the credit converges to BP's. B starts as fa's.
type kp[T nn.Float] struct {
	a    *arch[T]
	fb   []*nn.Param[T]
	fbOf func(i int) []T // fb[i].W, as in fa
}

func newKP[T nn.Float](a *arch[T], opt Options, rng *rand.Rand) Rule[T] {
	fb := drawLinearFeedback(a, opt, rng)
	return &kp[T]{a, fb, paramsOf(fb)}
}

func (r *kp[T]) Name() string { return "kp" }
func (r *kp[T]) Backward(y []int32, scale T, _ int64) {
	r.a.layerwise(y, scale, r.fbOf)
	for i, l := range r.a.slots {
		copy(r.fb[i].G, l.W.G)
	}
}
func (r *kp[T]) Credit() [][]T { return r.a.credit }

// Params adds the B of every trainable linear to the network's parameters.
func (r *kp[T]) Params() []*nn.Param[T] {
	ps := r.a.params()
	for i, l := range r.a.slots {
		if l.Block < 0 || !r.a.frozen[l.Block] {
			ps = append(ps, r.fb[i])
		}
	}
	return ps
}
func (r *kp[T]) Feedback() []*nn.Param[T] { return r.fb }
