package nn

import (
	"math"

	"github.com/faudit/faudit/internal/blas"
	"github.com/faudit/faudit/internal/parallel"
)

// AttnParams are the four projections of multi-head self-attention, each a
// Linear(D→D) in PyTorch's layout (weights [D,D], biases [D]):
// q = x·Wqᵀ + bq, k = x·Wkᵀ + bk, v = x·Wvᵀ + bv, out = ctx·Woᵀ + bo.
// The same struct carries their gradients; a nil gradient field is skipped.
type AttnParams[T Float] struct {
	Wq, Bq, Wk, Bk, Wv, Bv, Wo, Bo []T
}

// AttnCache is what AttentionForward keeps for the backward pass, plus the
// backward's scratch. Resize sizes the forward part; the backward sizes its
// scratch itself (reusing storage), so a cache used only for evaluation
// holds no backward buffers.
type AttnCache[T Float] struct {
	Q, K, V []T // projections [B·N, D]
	P       []T // softmax(QKᵀ/√dh) per sample and head, [B, heads, N, N]
	Ctx     []T // P·V, heads side by side: the out projection's input, [B·N, D]

	dCtx, dQ, dK, dV, dX, dS []T // backward scratch
	core                     attnCore[T]
}

// Resize makes the forward buffers hold B samples of N tokens of width D
// with the given number of heads, allocating only when they are too small.
func (c *AttnCache[T]) Resize(B, N, D, heads int) {
	c.Q, c.K, c.V = fit(c.Q, B*N*D), fit(c.K, B*N*D), fit(c.V, B*N*D)
	c.P, c.Ctx = fit(c.P, B*heads*N*N), fit(c.Ctx, B*N*D)
}

// fit returns s with length n, reusing its storage when large enough.
func fit[T Float](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// AttentionForward is multi-head self-attention over each sample's N tokens:
// out[B·N,D] = Ctx·Woᵀ + bo, where for every sample and head h (columns
// h·dh … (h+1)·dh of Q, K, V, Ctx; dh = D/heads)
// Ctx_h = softmax(Q_h·K_hᵀ/√dh)·V_h, the softmax taken over all N keys of
// each query row (in float64, with blas.Exp), and Q, K, V are the projections
// of x[B·N,D]. It keeps Q, K, V, the probabilities and Ctx in c (sized here).
// out must not alias x.
func AttentionForward[T Float](out, x []T, w AttnParams[T], c *AttnCache[T], B, N, D, heads int) {
	c.Resize(B, N, D, heads)
	LinearForward(c.Q, x, w.Wq, w.Bq, B*N, D, D)
	LinearForward(c.K, x, w.Wk, w.Bk, B*N, D, D)
	LinearForward(c.V, x, w.Wv, w.Bv, B*N, D, D)
	c.core.run(c, B, N, D, heads, false)
	LinearForward(out, c.Ctx, w.Wo, w.Bo, B*N, D, D)
}

// AttentionBackward, given dout[B·N,D], the forward input x[B·N,D] and the
// cache of the matching AttentionForward: the projections' gradients into g
// (nil fields skipped) and dx[B·N,D]. Each projection carries the error to
// its input through a matrix of its weight's shape — fq, fk, fv for the q, k,
// v projections and fo for the out projection: the weights themselves for
// backpropagation, stand-ins for the feedback-alignment family. The
// attention product itself (softmax(QKᵀ/√dh)·V) is backpropagated exactly.
// dx may alias dout but not x.
func AttentionBackward[T Float](dx []T, g AttnParams[T], dout, x []T, c *AttnCache[T], fq, fk, fv, fo []T, B, N, D, heads int) {
	n := B * N * D
	c.dCtx, c.dQ, c.dK, c.dV, c.dX = fit(c.dCtx, n), fit(c.dQ, n), fit(c.dK, n), fit(c.dV, n), fit(c.dX, n)
	c.dS = fit(c.dS, B*heads*N*N)
	LinearBackward(c.dCtx, g.Wo, g.Bo, dout, c.Ctx, fo, B*N, D, D)
	c.core.run(c, B, N, D, heads, true)
	LinearBackward(dx, g.Wq, g.Bq, c.dQ, x, fq, B*N, D, D)
	LinearBackward(c.dX, g.Wk, g.Bk, c.dK, x, fk, B*N, D, D)
	addTo(dx[:n], c.dX)
	LinearBackward(c.dX, g.Wv, g.Bv, c.dV, x, fv, B*N, D, D)
	addTo(dx[:n], c.dX)
}

func addTo[T Float](dst, src []T) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}

// attnCore is the per-(sample, head) part of attention, split over the
// B·heads pairs; it lives in the cache, so running it allocates nothing.
type attnCore[T Float] struct {
	c              *AttnCache[T]
	B, N, D, heads int
	parts          int
	backward       bool
	rows           []float64 // one float64 row of N per part (the softmax works in it)
}

func (a *attnCore[T]) run(c *AttnCache[T], B, N, D, heads int, backward bool) {
	a.c, a.B, a.N, a.D, a.heads, a.backward = c, B, N, D, heads, backward
	n := B * heads
	a.parts = parallel.Parts(n, n*N*N*D*2, 1<<15)
	if len(a.rows) < a.parts*N {
		a.rows = make([]float64, a.parts*N)
	}
	parallel.Run(a.parts, a)
	a.c = nil
}

func (a *attnCore[T]) Run(part int) {
	n := a.B * a.heads
	row := a.rows[part*a.N : (part+1)*a.N]
	for i := part * n / a.parts; i < (part+1)*n/a.parts; i++ {
		if a.backward {
			a.backwardOne(i/a.heads, i%a.heads)
		} else {
			a.forwardOne(i/a.heads, i%a.heads, row)
		}
	}
}

// forwardOne: for sample b and head h, P = softmax(Q_h·K_hᵀ/√dh) and
// Ctx_h = P·V_h. Q_h, K_h, V_h, Ctx_h are N×dh blocks with row stride D.
func (a *attnCore[T]) forwardOne(b, h int, row []float64) {
	c, N, D := a.c, a.N, a.D
	dh := D / a.heads
	off := b*N*D + h*dh
	p := c.P[(b*a.heads+h)*N*N:][:N*N]
	scale := T(1 / math.Sqrt(float64(dh)))
	blas.Gemm(false, true, N, N, dh, scale, c.Q[off:], D, c.K[off:], D, 0, p, N)
	blas.SoftmaxRows(p, N, row)
	blas.Gemm(false, false, N, dh, N, 1, p, N, c.V[off:], D, 0, c.Ctx[off:], D)
}

// backwardOne: for sample b and head h, from dCtx_h:
// dV_h = Pᵀ·dCtx_h, dP = dCtx_h·V_hᵀ, dS = P⊙(dP − rowsum(P⊙dP))/√dh,
// dQ_h = dS·K_h, dK_h = dSᵀ·Q_h.
func (a *attnCore[T]) backwardOne(b, h int) {
	c, N, D := a.c, a.N, a.D
	dh := D / a.heads
	off := b*N*D + h*dh
	base := (b*a.heads + h) * N * N
	p, ds := c.P[base:base+N*N], c.dS[base:base+N*N]
	blas.Gemm(true, false, N, dh, N, 1, p, N, c.dCtx[off:], D, 0, c.dV[off:], D)
	blas.Gemm(false, true, N, N, dh, 1, c.dCtx[off:], D, c.V[off:], D, 0, ds, N)
	scale := 1 / math.Sqrt(float64(dh))
	for i := 0; i < N; i++ {
		pr, dr := p[i*N:i*N+N], ds[i*N:i*N+N]
		s := 0.0
		for j, pv := range pr {
			s += float64(pv) * float64(dr[j])
		}
		for j, pv := range pr {
			dr[j] = T(float64(pv) * (float64(dr[j]) - s) * scale)
		}
	}
	blas.Gemm(false, false, N, dh, N, 1, ds, N, c.K[off:], D, 0, c.dQ[off:], D)
	blas.Gemm(true, false, N, dh, N, 1, ds, N, c.Q[off:], D, 0, c.dK[off:], D)
}
