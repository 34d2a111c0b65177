package rule

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/faudit/faudit/internal/blas"
	"github.com/faudit/faudit/nn"
)

// faBlock is the paper's FA, at the level of blocks: c_L is the exact
// gradient at the last position; c_p = c_{p+1}·B_p for p < L with fixed
// random B_p [width_{p+1}, width_p] ~ N(0, 1/width_{p+1}) (times the
// feedback scale), which keeps ‖c_p‖ ≈ ‖c_{p+1}‖. Block l is trained locally
// on c_{l+1}, the embedding on c_0. On an MLP the blocks are the hidden
// layers and the positions their outputs.
type faBlock[T nn.Float] struct {
	a  *arch[T]
	fb []*nn.Param[T] // B_p, p = 0 … last−1
}

func newFABlock[T nn.Float](a *arch[T], opt Options, rng *rand.Rand) Rule[T] {
	r := &faBlock[T]{a: a}
	for p := 0; p+1 < len(a.widths); p++ {
		b := nn.NewParam[T](fmt.Sprintf("feedback.pos.%d", p), a.widths[p+1], a.widths[p])
		draw(b, "normal", opt.FeedbackScale/math.Sqrt(float64(a.widths[p+1])), rng)
		r.fb = append(r.fb, b)
	}
	return r
}

func (r *faBlock[T]) Name() string { return "fa-block" }

func (r *faBlock[T]) Backward(y []int32, scale T, _ int64) {
	a := r.a
	a.ensure()
	last := len(a.widths) - 1
	B := a.net.Batch()
	// The head's backward gives the exact c_last before anything reads it.
	c := a.credit
	a.headOnly(y, scale, c[last])
	for p := last - 1; p >= 0; p-- {
		blas.Gemm(false, false, B, a.widths[p], a.widths[p+1], 1, c[p+1], a.widths[p+1], r.fb[p].W, a.widths[p], 0, c[p], a.widths[p])
	}
	a.bodyLocal()
}

func (r *faBlock[T]) Credit() [][]T            { return r.a.credit }
func (r *faBlock[T]) Params() []*nn.Param[T]   { return r.a.params() }
func (r *faBlock[T]) Feedback() []*nn.Param[T] { return r.fb }
