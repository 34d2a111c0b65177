package rule

import (
	"math/rand/v2"

	"github.com/faudit/faudit/nn"
)

// fa is layer-wise feedback alignment (Lillicrap et al. 2016): BP's backward
// pass with every Linear's input error carried through a fixed random B of
// W's shape instead of W (the head's included; the first layer's error has
// nowhere to go, so it has none). B is drawn from W's own initial law
// (PyTorch's U(−1/√in, 1/√in), or N(0, w2_std²) for a block's second
// weight), times the feedback scale.
type fa[T nn.Float] struct {
	a    *arch[T]
	fb   []*nn.Param[T]  // one per linear
	fbOf func(i int) []T // fb[i].W, built once: no allocation per step
}

func newFA[T nn.Float](a *arch[T], opt Options, rng *rand.Rand) Rule[T] {
	fb := drawLinearFeedback(a, opt, rng)
	return &fa[T]{a, fb, paramsOf(fb)}
}

// paramsOf is i ↦ ps[i].W.
func paramsOf[T nn.Float](ps []*nn.Param[T]) func(i int) []T {
	return func(i int) []T { return ps[i].W }
}

// drawLinearFeedback draws one B per linear, named feedback.<weight name>.
func drawLinearFeedback[T nn.Float](a *arch[T], opt Options, rng *rand.Rand) []*nn.Param[T] {
	var fb []*nn.Param[T]
	for _, l := range a.slots {
		b := nn.NewParam[T]("feedback."+l.W.Name, l.W.Shape...)
		draw(b, l.Law, l.Std*opt.FeedbackScale, rng)
		fb = append(fb, b)
	}
	return fb
}

func (r *fa[T]) Name() string { return "fa" }
func (r *fa[T]) Backward(y []int32, scale T, _ int64) {
	r.a.layerwise(y, scale, r.fbOf)
}
func (r *fa[T]) Credit() [][]T            { return r.a.credit }
func (r *fa[T]) Params() []*nn.Param[T]   { return r.a.params() }
func (r *fa[T]) Feedback() []*nn.Param[T] { return r.fb }
