package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// attnFixture is a small attention problem: B samples of N tokens of width D
// with the given heads, random input, weights and upstream gradient R.
type attnFixture struct {
	B, N, D, heads int
	x, R           []float64
	w              AttnParams[float64]
}

func newAttnFixture(seed uint64, B, N, D, heads int, wScale float64) *attnFixture {
	rng := rand.New(rand.NewPCG(seed, seed))
	f := &attnFixture{B: B, N: N, D: D, heads: heads, x: randn(rng, B*N*D, 1), R: randn(rng, B*N*D, 1)}
	f.w = AttnParams[float64]{
		Wq: randn(rng, D*D, wScale), Bq: randn(rng, D, 0.3), Wk: randn(rng, D*D, wScale), Bk: randn(rng, D, 0.3),
		Wv: randn(rng, D*D, wScale), Bv: randn(rng, D, 0.3), Wo: randn(rng, D*D, wScale), Bo: randn(rng, D, 0.3)}
	return f
}

func zeroGrads(D int) AttnParams[float64] {
	z := func(n int) []float64 { return make([]float64, n) }
	return AttnParams[float64]{Wq: z(D * D), Bq: z(D), Wk: z(D * D), Bk: z(D), Wv: z(D * D), Bv: z(D), Wo: z(D * D), Bo: z(D)}
}

// backward runs forward and backward with the given feedback matrices.
func (f *attnFixture) backward(fq, fk, fv, fo []float64) (dx []float64, g AttnParams[float64]) {
	var c AttnCache[float64]
	out := make([]float64, len(f.x))
	AttentionForward(out, f.x, f.w, &c, f.B, f.N, f.D, f.heads)
	dx, g = make([]float64, len(f.x)), zeroGrads(f.D)
	AttentionBackward(dx, g, f.R, f.x, &c, fq, fk, fv, fo, f.B, f.N, f.D, f.heads)
	return dx, g
}

func TestAttentionGradient(t *testing.T) {
	for _, tc := range []struct {
		name           string
		B, N, D, heads int
		wScale         float64
	}{
		{"2heads", 2, 5, 6, 2, 0.5},
		{"1head", 3, 4, 4, 1, 0.5},
		{"3heads/peaked", 2, 6, 9, 3, 1.5}, // larger scores: a peaked softmax
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAttnFixture(11, tc.B, tc.N, tc.D, tc.heads, tc.wScale)
			var c AttnCache[float64]
			out := make([]float64, len(f.x))
			loss := func() float64 {
				AttentionForward(out, f.x, f.w, &c, f.B, f.N, f.D, f.heads)
				return dot(out, f.R)
			}
			dx, g := f.backward(f.w.Wq, f.w.Wk, f.w.Wv, f.w.Wo)
			checkGradient(t, "Attention dx", f.x, dx, loss)
			for _, p := range []struct {
				name   string
				w, ana []float64
			}{
				{"Wq", f.w.Wq, g.Wq}, {"bq", f.w.Bq, g.Bq}, {"Wk", f.w.Wk, g.Wk},
				{"Wv", f.w.Wv, g.Wv}, {"bv", f.w.Bv, g.Bv}, {"Wo", f.w.Wo, g.Wo}, {"bo", f.w.Bo, g.Bo},
			} {
				checkGradient(t, "Attention d"+p.name, p.w, p.ana, loss)
			}
			// The key bias shifts every score of a query row by the same
			// q·bk, which the softmax ignores: its gradient is exactly zero
			// in exact arithmetic, so compare with the scale of the value
			// bias's gradient instead.
			ref := math.Sqrt(dot(g.Bv, g.Bv))
			for i := range f.w.Bk {
				old := f.w.Bk[i]
				f.w.Bk[i] = old + fdStep
				lp := loss()
				f.w.Bk[i] = old - fdStep
				lm := loss()
				f.w.Bk[i] = old
				if num := (lp - lm) / (2 * fdStep); math.Abs(num) > fdTol*ref || math.Abs(g.Bk[i]) > 1e-12*ref {
					t.Errorf("Attention dbk[%d]: analytic %.3g, numeric %.3g; want both ≈ 0 (‖dbv‖ = %.3g)", i, g.Bk[i], num, ref)
				}
			}
		})
	}
}

// The backward must carry the error to the input only through the feedback
// arguments: replacing fo by 2·Wo doubles dx and the q, k, v gradients and
// leaves the out projection's own gradients alone; zero fq, fk, fv give
// dx = 0 without touching any weight gradient.
func TestAttentionBackwardUsesFeedbackMatrices(t *testing.T) {
	f := newAttnFixture(12, 2, 5, 6, 2, 0.5)
	w := f.w
	dx1, g1 := f.backward(w.Wq, w.Wk, w.Wv, w.Wo)
	two := make([]float64, len(w.Wo))
	for i, v := range w.Wo {
		two[i] = 2 * v
	}
	dx2, g2 := f.backward(w.Wq, w.Wk, w.Wv, two)
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*(math.Abs(a)+math.Abs(b))+1e-15 }
	for i := range dx1 {
		if !near(dx2[i], 2*dx1[i]) {
			t.Fatalf("fo = 2Wo: dx[%d] = %v, want %v", i, dx2[i], 2*dx1[i])
		}
	}
	for i := range g1.Wq {
		if !near(g2.Wq[i], 2*g1.Wq[i]) || !near(g2.Wk[i], 2*g1.Wk[i]) || !near(g2.Wv[i], 2*g1.Wv[i]) {
			t.Fatalf("fo = 2Wo: q/k/v weight gradients did not double at %d", i)
		}
		if g2.Wo[i] != g1.Wo[i] {
			t.Fatalf("fo = 2Wo: the out projection's gradient changed at %d", i)
		}
	}
	zero := make([]float64, len(w.Wq))
	dx3, g3 := f.backward(zero, zero, zero, w.Wo)
	for i := range dx3 {
		if dx3[i] != 0 {
			t.Fatalf("fq = fk = fv = 0: dx[%d] = %v, want 0", i, dx3[i])
		}
	}
	for i := range g1.Wq {
		if g3.Wq[i] != g1.Wq[i] || g3.Wk[i] != g1.Wk[i] || g3.Wv[i] != g1.Wv[i] || g3.Wo[i] != g1.Wo[i] {
			t.Fatalf("fq = fk = fv = 0 changed a weight gradient at %d", i)
		}
	}
	// Each input feedback contributes dQ·fq + dK·fk + dV·fv: with only fq
	// non-zero, dx is the q part, and the three parts sum to dx.
	dq, _ := f.backward(w.Wq, zero, zero, w.Wo)
	dk, _ := f.backward(zero, w.Wk, zero, w.Wo)
	dv, _ := f.backward(zero, zero, w.Wv, w.Wo)
	for i := range dx1 {
		if !near(dq[i]+dk[i]+dv[i], dx1[i]) {
			t.Fatalf("dx[%d] = %v is not the sum of its q, k, v parts %v", i, dx1[i], dq[i]+dk[i]+dv[i])
		}
	}
}

// Probabilities are a softmax per row (non-negative, summing to 1), finite
// for huge scores, and float32 agrees with float64.
func TestAttentionProbabilitiesAndFloat32(t *testing.T) {
	f := newAttnFixture(13, 3, 7, 8, 2, 40) // scores in the thousands
	var c AttnCache[float64]
	out := make([]float64, len(f.x))
	AttentionForward(out, f.x, f.w, &c, f.B, f.N, f.D, f.heads)
	for r := 0; r < len(c.P)/f.N; r++ {
		s := 0.0
		for _, p := range c.P[r*f.N : (r+1)*f.N] {
			if !(p >= 0 && p <= 1) {
				t.Fatalf("probability %v out of [0, 1]", p)
			}
			s += p
		}
		if math.Abs(s-1) > 1e-12 {
			t.Fatalf("row %d sums to %v", r, s)
		}
	}
	for _, v := range out {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatal("non-finite output for large scores")
		}
	}

	g := newAttnFixture(14, 2, 5, 8, 4, 0.5)
	to32 := func(s []float64) []float32 {
		o := make([]float32, len(s))
		for i, v := range s {
			o[i] = float32(v)
		}
		return o
	}
	w32 := AttnParams[float32]{Wq: to32(g.w.Wq), Bq: to32(g.w.Bq), Wk: to32(g.w.Wk), Bk: to32(g.w.Bk),
		Wv: to32(g.w.Wv), Bv: to32(g.w.Bv), Wo: to32(g.w.Wo), Bo: to32(g.w.Bo)}
	var c32 AttnCache[float32]
	out32, x32 := make([]float32, len(g.x)), to32(g.x)
	AttentionForward(out32, x32, w32, &c32, g.B, g.N, g.D, g.heads)
	dx32 := make([]float32, len(g.x))
	AttentionBackward(dx32, AttnParams[float32]{}, to32(g.R), x32, &c32, w32.Wq, w32.Wk, w32.Wv, w32.Wo, g.B, g.N, g.D, g.heads)
	out64 := make([]float64, len(g.x))
	var c64 AttnCache[float64]
	AttentionForward(out64, g.x, g.w, &c64, g.B, g.N, g.D, g.heads)
	dx64, _ := g.backward(g.w.Wq, g.w.Wk, g.w.Wv, g.w.Wo)
	rel := func(a []float32, b []float64) float64 {
		d, n := 0.0, 0.0
		for i := range b {
			d += (float64(a[i]) - b[i]) * (float64(a[i]) - b[i])
			n += b[i] * b[i]
		}
		return math.Sqrt(d / n)
	}
	if e := rel(out32, out64); e > 1e-5 {
		t.Errorf("float32 forward off float64 by %.3g", e)
	}
	if e := rel(dx32, dx64); e > 1e-5 {
		t.Errorf("float32 dx off float64 by %.3g", e)
	}
}
