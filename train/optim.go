package train

import (
	"math"

	"github.com/faudit/faudit/internal/parallel"
	"github.com/faudit/faudit/nn"
)

// Optimizer updates parameters in place from their gradients.
type Optimizer[T nn.Float] interface {
	Step(lr float64)
	// State returns the optimiser's buffers by name (for checkpoints) and the
	// number of steps taken.
	State() (map[string][]T, int64)
	SetStep(n int64)
}

// AdamW is PyTorch's torch.optim.AdamW (decoupled weight decay, applied to
// every parameter; betas 0.9/0.999, eps 1e-8), computed with the same
// operation order.
type AdamW[T nn.Float] struct {
	params       []*nn.Param[T]
	m, v         [][]T
	wd           float64
	beta1, beta2 float64
	eps          float64
	t            int64
}

func NewAdamW[T nn.Float](params []*nn.Param[T], wd float64) *AdamW[T] {
	o := &AdamW[T]{params: params, wd: wd, beta1: 0.9, beta2: 0.999, eps: 1e-8}
	for _, p := range params {
		o.m, o.v = append(o.m, make([]T, len(p.W))), append(o.v, make([]T, len(p.W)))
	}
	return o
}

func (o *AdamW[T]) Step(lr float64) {
	o.t++
	bc1 := 1 - math.Pow(o.beta1, float64(o.t))
	bc2 := 1 - math.Pow(o.beta2, float64(o.t))
	decay := T(1 - lr*o.wd)
	stepSize := T(lr / bc1)
	invSqrtBC2 := T(1 / math.Sqrt(bc2))
	b1, b2, eps := T(o.beta1), T(o.beta2), T(o.eps)
	for i, p := range o.params {
		w, g, m, v := p.W, p.G, o.m[i], o.v[i]
		parallel.For(len(w), len(w)*12, func(lo, hi int) {
			w, g, m, v := w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi]
			g, m, v = g[:len(w)], m[:len(w)], v[:len(w)] // one bounds check for all
			for j := range w {
				gj := g[j]
				mj := b1*m[j] + (1-b1)*gj
				vj := b2*v[j] + (1-b2)*gj*gj
				m[j], v[j] = mj, vj
				w[j] = w[j]*decay - stepSize*mj/(T(math.Sqrt(float64(vj)))*invSqrtBC2+eps)
			}
		})
	}
}

func (o *AdamW[T]) State() (map[string][]T, int64) {
	s := map[string][]T{}
	for i, p := range o.params {
		s["optim.exp_avg."+p.Name] = o.m[i]
		s["optim.exp_avg_sq."+p.Name] = o.v[i]
	}
	return s, o.t
}

func (o *AdamW[T]) SetStep(n int64) { o.t = n }

// SGD is PyTorch's torch.optim.SGD with momentum μ and L2 weight decay added
// to the gradient (g ← g + wd·w; buf ← μ·buf + g, buf = g on the first step;
// w ← w − lr·buf).
type SGD[T nn.Float] struct {
	params []*nn.Param[T]
	buf    [][]T
	mu, wd float64
	t      int64
}

func NewSGD[T nn.Float](params []*nn.Param[T], momentum, wd float64) *SGD[T] {
	o := &SGD[T]{params: params, mu: momentum, wd: wd}
	for _, p := range params {
		o.buf = append(o.buf, make([]T, len(p.W)))
	}
	return o
}

func (o *SGD[T]) Step(lr float64) {
	first := o.t == 0
	o.t++
	mu, wd, eta := T(o.mu), T(o.wd), T(lr)
	for i, p := range o.params {
		w, g, b := p.W, p.G, o.buf[i]
		parallel.For(len(w), len(w)*6, func(lo, hi int) {
			for j := lo; j < hi; j++ {
				gj := g[j] + wd*w[j]
				if first || mu == 0 {
					b[j] = gj
				} else {
					b[j] = mu*b[j] + gj
				}
				w[j] -= eta * b[j]
			}
		})
	}
}

func (o *SGD[T]) State() (map[string][]T, int64) {
	s := map[string][]T{}
	for i, p := range o.params {
		s["optim.momentum_buffer."+p.Name] = o.buf[i]
	}
	return s, o.t
}

func (o *SGD[T]) SetStep(n int64) { o.t = n }
