package blas

import "math"

// AdamWCoef holds the per-step constants of an AdamW update (see AdamW).
type AdamWCoef[T Float] struct {
	Decay      T // 1 − lr·wd
	Step       T // lr / (1 − β1ᵗ)
	InvSqrtBC2 T // 1 / √(1 − β2ᵗ)
	B1, C1     T // β1 and 1 − β1
	B2, C2     T // β2 and 1 − β2
	Eps        T
}

// AdamW applies one AdamW update to w, m and v from the gradient g, element
// by element, in this operation order (PyTorch's, rounded to T after every
// operation, no fused multiply-add):
//
//	m ← B1·m + C1·g
//	v ← B2·v + (C2·g)·g
//	w ← w·Decay − (Step·m) / (√v·InvSqrtBC2 + Eps)
//
// It lives here, next to the GEMM, because this is faudit's one cgo package:
// with cgo the loop runs as an AVX kernel (8 float32 or 4 float64 lanes; the
// optimiser's step was a fifth of a training step as a scalar Go loop). The
// vector and scalar paths give bit-identical results: every operation is a
// correctly rounded IEEE one in both. All four slices have len(w) elements.
func AdamW[T Float](w, g, m, v []T, c *AdamWCoef[T]) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	if n >= minKernel {
		adamwKernel(w, g, m, v, c)
		return
	}
	adamwGo(w, g, m, v, c)
}

// adamwGo is the scalar loop, the fallback for builds without cgo and for
// short slices, where a cgo call costs more than the loop.
func adamwGo[T Float](w, g, m, v []T, c *AdamWCoef[T]) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	b1, c1, b2, c2 := c.B1, c.C1, c.B2, c.C2
	decay, step, isb, eps := c.Decay, c.Step, c.InvSqrtBC2, c.Eps
	for j := range w {
		gj := g[j]
		// T(...) around each product keeps the compiler from fusing (FMA).
		mj := T(b1*m[j]) + T(c1*gj)
		vj := T(b2*v[j]) + T(T(c2*gj)*gj)
		m[j], v[j] = mj, vj
		w[j] = T(w[j]*decay) - T(step*mj)/(T(T(math.Sqrt(float64(vj)))*isb)+eps)
	}
}
