package rule

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/faudit/faudit/internal/blas"
	"github.com/faudit/faudit/nn"
)

// dfa is direct feedback alignment (Nøkland 2016): with the output error
// e = softmax(logits) − onehot(y) (times the loss scale), c_p = e·B_p with a
// fixed random B_p [C, width_p] ~ N(0, 1/C) (times the feedback scale) at
// every position; block l is trained locally on c_{l+1}, the embedding on
// c_0, the head and terminal LN on the true loss. On the plain MLP this is
// exactly Nøkland's DFA: hidden layer k learns from (e·B_k) ⊙ act'(a_k).
type dfa[T nn.Float] struct {
	a  *arch[T]
	fb []*nn.Param[T] // B_p for every position
}

func newDFA[T nn.Float](a *arch[T], opt Options, rng *rand.Rand) Rule[T] {
	r := &dfa[T]{a: a}
	for p, w := range a.widths {
		b := nn.NewParam[T](fmt.Sprintf("feedback.pos.%d", p), a.classes, w)
		draw(b, "normal", opt.FeedbackScale/math.Sqrt(float64(a.classes)), rng)
		r.fb = append(r.fb, b)
	}
	return r
}

func (r *dfa[T]) Name() string { return "dfa" }

func (r *dfa[T]) Backward(y []int32, scale T, _ int64) {
	a := r.a
	a.ensure()
	B, C := a.net.Batch(), a.classes
	a.outputError(y, scale)
	for p, w := range a.widths {
		blas.Gemm(false, false, B, w, C, 1, a.e, C, r.fb[p].W, w, 0, a.credit[p], w)
	}
	a.headOnly(y, scale, a.scratch)
	a.bodyLocal()
}

func (r *dfa[T]) Credit() [][]T            { return r.a.credit }
func (r *dfa[T]) Params() []*nn.Param[T]   { return r.a.params() }
func (r *dfa[T]) Feedback() []*nn.Param[T] { return r.fb }
