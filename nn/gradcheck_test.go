package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/faudit/faudit/internal/blas"
)

// The backward of every layer is checked against central finite differences
// in float64: for a scalar loss ℓ = Σ out⊙R with a fixed random R (so
// dout = R), the analytic gradient of every input and parameter must match
// (ℓ(θ+h) − ℓ(θ−h))/2h with relative error ‖num−ana‖/max(‖num‖,‖ana‖) ≤ 1e-6.

const fdStep = 1e-6
const fdTol = 1e-6

func randn(rng *rand.Rand, n int, scale float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = scale * rng.NormFloat64()
	}
	return x
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// CheckGradient compares analytic with the central difference of loss with
// respect to every entry of x (which loss reads).
func checkGradient(t *testing.T, name string, x, analytic []float64, loss func() float64) {
	t.Helper()
	num := make([]float64, len(x))
	for i := range x {
		old := x[i]
		x[i] = old + fdStep
		lp := loss()
		x[i] = old - fdStep
		lm := loss()
		x[i] = old
		num[i] = (lp - lm) / (2 * fdStep)
	}
	diff, nn, na := 0.0, 0.0, 0.0
	for i := range num {
		diff += (num[i] - analytic[i]) * (num[i] - analytic[i])
		nn += num[i] * num[i]
		na += analytic[i] * analytic[i]
	}
	den := math.Sqrt(math.Max(nn, na))
	if den == 0 {
		t.Fatalf("%s: gradient is exactly zero; the check would be vacuous", name)
	}
	rel := math.Sqrt(diff) / den
	if !(rel <= fdTol) {
		t.Errorf("%s: relative error %.3g > %.0e", name, rel, fdTol)
	} else {
		t.Logf("%s: relative error %.2g", name, rel)
	}
}

func TestLinearGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	B, I, O := 5, 7, 4
	x, w, b := randn(rng, B*I, 1), randn(rng, O*I, 0.5), randn(rng, O, 0.5)
	R := randn(rng, B*O, 1)
	out := make([]float64, B*O)
	loss := func() float64 { LinearForward(out, x, w, b, B, I, O); return dot(out, R) }
	dx, dw, db := make([]float64, B*I), make([]float64, O*I), make([]float64, O)
	LinearBackward(dx, dw, db, R, x, w, B, I, O)
	checkGradient(t, "Linear dx", x, dx, loss)
	checkGradient(t, "Linear dW", w, dw, loss)
	checkGradient(t, "Linear db", b, db, loss)
}

func TestLinearBackwardUsesFeedbackMatrix(t *testing.T) {
	// dinp must be dout·feedback, whatever feedback is: with feedback = 2W the
	// input gradient doubles while dW and db are unchanged.
	rng := rand.New(rand.NewPCG(2, 2))
	B, I, O := 3, 4, 5
	x, w := randn(rng, B*I, 1), randn(rng, O*I, 1)
	R := randn(rng, B*O, 1)
	w2 := make([]float64, len(w))
	for i := range w {
		w2[i] = 2 * w[i]
	}
	dx1, dx2 := make([]float64, B*I), make([]float64, B*I)
	dw1, dw2 := make([]float64, O*I), make([]float64, O*I)
	LinearBackward(dx1, dw1, nil, R, x, w, B, I, O)
	LinearBackward(dx2, dw2, nil, R, x, w2, B, I, O)
	checkFeedback(t, "matrix", dx1, dx2, dw1, dw2)
}

// checkFeedback checks a backward pass run with feedback W (dx1, dw1) and
// with 2W (dx2, dw2): dx is linear in the feedback and dW does not use it.
func checkFeedback(t *testing.T, what string, dx1, dx2, dw1, dw2 []float64) {
	t.Helper()
	for i := range dx1 {
		if math.Abs(dx2[i]-2*dx1[i]) > 1e-12*math.Abs(dx1[i])+1e-15 {
			t.Fatalf("dx[%d] = %v with 2W, want %v", i, dx2[i], 2*dx1[i])
		}
	}
	for i := range dw1 {
		if dw1[i] != dw2[i] {
			t.Fatalf("dW[%d] depends on the feedback %s", i, what)
		}
	}
}

func TestLayerNormGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, scale := range []float64{1, 1e3} {
		B, D := 4, 9
		x, g, b := randn(rng, B*D, scale), randn(rng, D, 1), randn(rng, D, 1)
		R := randn(rng, B*D, 1)
		out, mean, rstd := make([]float64, B*D), make([]float64, B), make([]float64, B)
		loss := func() float64 { LayerNormForward(out, mean, rstd, x, g, b, B, D); return dot(out, R) }
		loss()
		dx, dg, db := make([]float64, B*D), make([]float64, D), make([]float64, D)
		LayerNormBackward(dx, dg, db, R, x, mean, rstd, g, B, D)
		// The finite-difference step is relative to the input scale.
		for i := range x {
			x[i] /= scale
		}
		lossScaled := func() float64 {
			xs := make([]float64, len(x))
			for i := range x {
				xs[i] = x[i] * scale
			}
			LayerNormForward(out, mean, rstd, xs, g, b, B, D)
			return dot(out, R)
		}
		dxs := make([]float64, len(dx))
		for i := range dx {
			dxs[i] = dx[i] * scale
		}
		checkGradient(t, "LayerNorm dx", x, dxs, lossScaled)
		checkGradient(t, "LayerNorm dg", g, dg, lossScaled)
		checkGradient(t, "LayerNorm db", b, db, lossScaled)
	}
}

func TestActivationGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, act := range []Activation{ReLU, GELU} {
		x := randn(rng, 200, 2)
		for i := range x { // keep ReLU's kink out of the finite-difference stencil
			if math.Abs(x[i]) < 1e-3 {
				x[i] = 0.5
			}
		}
		x = append(x, 6, -6, 9, -9, 12.5, -12.5) // both sides of the tanh clamp
		R := randn(rng, len(x), 1)
		out := make([]float64, len(x))
		loss := func() float64 { ActForward(act, out, x); return dot(out, R) }
		dx := make([]float64, len(x))
		ActBackward(act, dx, R, x)
		checkGradient(t, string(act)+" dx", x, dx, loss)
	}
}

// The tanh-form GELU of the kernels, one float64 at a time.
const (
	sqrt2OverPi = blas.Sqrt2OverPi
	geluCubic   = blas.GELUCubic
)

func gelu(x float64) float64             { return blas.GELU1(x) }
func fastTanh(x float64) (t, dt float64) { return blas.FastTanh(x) }

func TestGELUMatchesDefinition(t *testing.T) {
	// Against the tanh-form GELU with math.Tanh: the approximation error of
	// fastTanh (≤ 2.6e-7) scaled by ½|x|.
	for x := -10.0; x <= 10; x += 1e-3 {
		want := 0.5 * x * (1 + math.Tanh(sqrt2OverPi*(x+geluCubic*x*x*x)))
		if e := math.Abs(gelu(x) - want); e > 0.5*math.Abs(x)*2.7e-7+1e-15 {
			t.Fatalf("gelu(%v) off the tanh-form GELU by %.3g", x, e)
		}
	}
	te := 0.0
	for x := -20.0; x <= 20; x += 1e-4 {
		v, _ := fastTanh(x)
		te = math.Max(te, math.Abs(v-math.Tanh(x)))
	}
	if te > 2.7e-7 {
		t.Errorf("max |fastTanh − tanh| = %.3g, want ≤ 2.7e-7", te)
	}
}

func TestResidualGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	a, f, R := randn(rng, 6, 1), randn(rng, 6, 1), randn(rng, 6, 1)
	out := make([]float64, 6)
	loss := func() float64 { ResidualForward(out, a, f); return dot(out, R) }
	zero := make([]float64, 6)
	da := make([]float64, 6)
	ResidualBackward(da, R, zero) // the branch contributes nothing here
	checkGradient(t, "Residual da", a, da, loss)
	checkGradient(t, "Residual df", f, R, loss) // df = dout
}

func TestCrossEntropyGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	B, C := 5, 4
	logits := randn(rng, B*C, 3)
	y := []int32{0, 3, 1, 1, 2}
	probs := make([]float64, B*C)
	loss := func() float64 { return CrossEntropyForward(probs, logits, y, B, C) }
	loss()
	d := make([]float64, B*C)
	CrossEntropyBackward(d, probs, y, B, C, 1)
	checkGradient(t, "CrossEntropy dlogits", logits, d, loss)
	// Known value: uniform logits give loss log C per sample.
	flat := make([]float64, B*C)
	if got, want := CrossEntropyForward(probs, flat, y, B, C), float64(B)*math.Log(float64(C)); math.Abs(got-want) > 1e-12 {
		t.Errorf("uniform logits: loss %v, want %v", got, want)
	}
}

func TestReLUBackwardEdgeCases(t *testing.T) {
	x := []float64{math.Copysign(0, -1), 0, 5e-324, -5e-324, 3, -3, math.Inf(1), math.Inf(-1)}
	want := []float64{0, 0, 2, 0, 2, 0, 2, 0}
	dout := []float64{2, 2, 2, 2, 2, 2, 2, 2}
	dx := make([]float64, len(x))
	ActBackward(ReLU, dx, dout, x)
	x32, d32, dx32 := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
	for i := range x {
		x32[i], d32[i] = float32(x[i]), 2
	}
	x32[2], x32[3] = math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32
	ActBackward(ReLU, dx32, d32, x32)
	for i := range x {
		if dx[i] != want[i] || float64(dx32[i]) != want[i] {
			t.Errorf("relu'(%v)·2 = %v (float64), %v (float32); want %v", x[i], dx[i], dx32[i], want[i])
		}
	}
}
