package rule

import (
	"math/rand/v2"

	"github.com/faudit/faudit/nn"
)

// bp is exact backpropagation: every Linear carries the error through its
// own weight, and c_p = ∂L/∂h_p.
type bp[T nn.Float] struct {
	a   *arch[T]
	own func(i int) []T // slot i's own weight, built once: no allocation per step
}

func newBP[T nn.Float](a *arch[T], _ Options, _ *rand.Rand) Rule[T] {
	return &bp[T]{a, func(i int) []T { return a.slots[i].W.W }}
}

func (r *bp[T]) Name() string { return "bp" }
func (r *bp[T]) Backward(y []int32, scale T, _ int64) {
	r.a.layerwise(y, scale, r.own)
}
func (r *bp[T]) Credit() [][]T            { return r.a.credit }
func (r *bp[T]) Params() []*nn.Param[T]   { return r.a.params() }
func (r *bp[T]) Feedback() []*nn.Param[T] { return nil }
