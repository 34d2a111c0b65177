package train

import (
	"math"

	"github.com/faudit/faudit/internal/blas"
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

	coef  blas.AdamWCoef[T] // this step's constants
	total int               // Σ len(W)
	parts int
}

func NewAdamW[T nn.Float](params []*nn.Param[T], wd float64) *AdamW[T] {
	o := &AdamW[T]{params: params, wd: wd, beta1: 0.9, beta2: 0.999, eps: 1e-8}
	for _, p := range params {
		o.m, o.v = append(o.m, make([]T, len(p.W))), append(o.v, make([]T, len(p.W)))
		o.total += len(p.W)
	}
	return o
}

func (o *AdamW[T]) Step(lr float64) {
	o.t++
	bc1 := 1 - math.Pow(o.beta1, float64(o.t))
	bc2 := 1 - math.Pow(o.beta2, float64(o.t))
	b1, b2 := T(o.beta1), T(o.beta2)
	o.coef = blas.AdamWCoef[T]{
		Decay:      T(1 - lr*o.wd),
		Step:       T(lr / bc1),
		InvSqrtBC2: T(1 / math.Sqrt(bc2)),
		B1:         b1, C1: 1 - b1,
		B2: b2, C2: 1 - b2,
		Eps: T(o.eps),
	}
	// One hand-off for all parameters: part p updates elements
	// [p·total/parts, (p+1)·total/parts) of their concatenation.
	o.parts = parallel.Parts(o.total, o.total*4, parallel.MinWork)
	parallel.Run(o.parts, (*adamwStep[T])(o))
}

// adamwStep is AdamW as the parallel.Task of one Step.
type adamwStep[T nn.Float] AdamW[T]

// Run is part p of Step.
func (o *adamwStep[T]) Run(p int) {
	lo, hi := p*o.total/o.parts, (p+1)*o.total/o.parts
	off := 0 // start of params[i] in the concatenation
	for i, pr := range o.params {
		n := len(pr.W)
		if a, b := max(lo-off, 0), min(hi-off, n); a < b {
			blas.AdamW(pr.W[a:b], pr.G[a:b], o.m[i][a:b], o.v[i][a:b], &o.coef)
		}
		if off += n; off >= hi {
			break
		}
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

	first        bool // this step is the first
	eta          T
	total, parts int // as in AdamW
}

func NewSGD[T nn.Float](params []*nn.Param[T], momentum, wd float64) *SGD[T] {
	o := &SGD[T]{params: params, mu: momentum, wd: wd}
	for _, p := range params {
		o.buf = append(o.buf, make([]T, len(p.W)))
		o.total += len(p.W)
	}
	return o
}

func (o *SGD[T]) Step(lr float64) {
	o.first = o.t == 0
	o.t++
	o.eta = T(lr)
	o.parts = parallel.Parts(o.total, o.total*6, parallel.MinWork)
	parallel.Run(o.parts, (*sgdStep[T])(o))
}

// sgdStep is SGD as the parallel.Task of one Step.
type sgdStep[T nn.Float] SGD[T]

// Run is part p of Step, over the parameters' concatenation (as in AdamW).
func (o *sgdStep[T]) Run(p int) {
	lo, hi := p*o.total/o.parts, (p+1)*o.total/o.parts
	mu, wd, eta := T(o.mu), T(o.wd), o.eta
	reset := o.first || mu == 0
	off := 0
	for i, pr := range o.params {
		n := len(pr.W)
		if a, b := max(lo-off, 0), min(hi-off, n); a < b {
			w, g, buf := pr.W[a:b], pr.G[a:b], o.buf[i][a:b]
			g, buf = g[:len(w)], buf[:len(w)]
			for j := range w {
				gj := g[j] + wd*w[j]
				if reset {
					buf[j] = gj
				} else {
					buf[j] = mu*buf[j] + gj
				}
				w[j] -= eta * buf[j]
			}
		}
		if off += n; off >= hi {
			break
		}
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
