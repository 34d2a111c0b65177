package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestBatchNorm2dGradientTraining(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	N, C, HW := 3, 4, 5
	x, g, b := randn(rng, N*C*HW, 2), randn(rng, C, 1), randn(rng, C, 1)
	for i := range x { // channels at different offsets and scales
		x[i] = x[i]*float64(1+(i/HW)%C) + float64((i/HW)%C)
	}
	R := randn(rng, N*C*HW, 1)
	_, mean, rstd, dx := checkBNGradient(t, x, g, b, nil, nil, R, N, C, HW, true)

	// dx may alias dout.
	d2 := append([]float64(nil), R...)
	BatchNorm2dBackward(d2, nil, nil, d2, x, mean, rstd, g, N, C, HW, true)
	for i := range d2 {
		if d2[i] != dx[i] {
			t.Fatalf("in-place backward: dx[%d] = %v, want %v", i, d2[i], dx[i])
		}
	}
}

// checkBNGradient checks BatchNorm2dBackward's dx, dg and db against finite
// differences of the loss Σ out·R. It returns the forward pass (which
// returns out), the statistics it saved and dx.
func checkBNGradient(t *testing.T, x, g, b, rm, rv, R []float64, N, C, HW int, training bool) (forward func() []float64, mean, rstd, dx []float64) {
	t.Helper()
	mode := "eval"
	if training {
		mode = "training"
	}
	out, mean, rstd := make([]float64, len(x)), make([]float64, C), make([]float64, C)
	forward = func() []float64 {
		BatchNorm2dForward(out, mean, rstd, x, g, b, rm, rv, N, C, HW, training)
		return out
	}
	f := func() float64 { return dot(forward(), R) }
	f()
	dx, dg, db := make([]float64, len(x)), make([]float64, C), make([]float64, C)
	BatchNorm2dBackward(dx, dg, db, R, x, mean, rstd, g, N, C, HW, training)
	checkGradient(t, "BatchNorm2d ("+mode+") dx", x, dx, f)
	checkGradient(t, "BatchNorm2d ("+mode+") dg", g, dg, f)
	checkGradient(t, "BatchNorm2d ("+mode+") db", b, db, f)
	return forward, mean, rstd, dx
}

func TestBatchNorm2dGradientEval(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 22))
	N, C, HW := 3, 4, 5
	x, g, b := randn(rng, N*C*HW, 2), randn(rng, C, 1), randn(rng, C, 1)
	rm, rv := randn(rng, C, 1), randn(rng, C, 1)
	for i := range rv {
		rv[i] = rv[i]*rv[i] + 0.1
	}
	R := randn(rng, N*C*HW, 1)
	forward, _, _, _ := checkBNGradient(t, x, g, b, rm, rv, R, N, C, HW, false)
	// A fixed affine map of the running statistics, which it leaves alone.
	out := forward()
	for i, v := range x {
		c := (i / HW) % C
		want := (v-rm[c])/math.Sqrt(rv[c]+BNEps)*g[c] + b[c]
		if math.Abs(out[i]-want) > 1e-12*(1+math.Abs(want)) {
			t.Fatalf("eval out[%d] = %v, want %v", i, out[i], want)
		}
	}
}

// The running statistics follow torch.nn.BatchNorm2d (momentum 0.1, eps
// 1e-5): running_mean ← 0.9·running_mean + 0.1·mean, running_var ←
// 0.9·running_var + 0.1·var_unbiased, starting from 0 and 1, while the
// output is normalised with the biased variance. Example: N=2, C=2, H×W=1×2;
// channel 0 holds 1, 2 | 3, 4 (mean 2.5, biased var 1.25, unbiased 5/3),
// channel 1 holds 0, 0 | 0, 8 (mean 2, biased var 12, unbiased 16).
func TestBatchNorm2dRunningStatistics(t *testing.T) {
	x := []float64{1, 2, 0, 0, 3, 4, 0, 8} // [n][c][hw]
	N, C, HW := 2, 2, 2
	g, b := []float64{1, 1}, []float64{0, 0}
	rm, rv := []float64{0, 0}, []float64{1, 1}
	out, mean, rstd := make([]float64, 8), make([]float64, 2), make([]float64, 2)
	BatchNorm2dForward(out, mean, rstd, x, g, b, rm, rv, N, C, HW, true)
	wantRM, wantRV := []float64{0.25, 0.2}, []float64{0.9 + 0.1*5.0/3, 0.9 + 1.6}
	for c := range 2 {
		if math.Abs(rm[c]-wantRM[c]) > 1e-15 || math.Abs(rv[c]-wantRV[c]) > 1e-15 {
			t.Errorf("after one step, channel %d: running mean %v var %v, want %v %v", c, rm[c], rv[c], wantRM[c], wantRV[c])
		}
	}
	if want := (1 - 2.5) / math.Sqrt(1.25+1e-5); math.Abs(out[0]-want) > 1e-15 {
		t.Errorf("out[0] = %v, want %v (biased variance)", out[0], want)
	}
	if want := (8 - 2) / math.Sqrt(12+1e-5); math.Abs(out[7]-want) > 1e-15 {
		t.Errorf("out[7] = %v, want %v (biased variance)", out[7], want)
	}
	BatchNorm2dForward(out, mean, rstd, x, g, b, rm, rv, N, C, HW, true)
	wantRM, wantRV = []float64{0.475, 0.38}, []float64{0.9*wantRV[0] + 0.1*5.0/3, 0.9*2.5 + 1.6}
	for c := range 2 {
		if math.Abs(rm[c]-wantRM[c]) > 1e-15 || math.Abs(rv[c]-wantRV[c]) > 1e-15 {
			t.Errorf("after two steps, channel %d: running mean %v var %v, want %v %v", c, rm[c], rv[c], wantRM[c], wantRV[c])
		}
	}
	// Evaluation leaves them alone and normalises with them.
	BatchNorm2dForward(out, mean, rstd, x, g, b, rm, rv, N, C, HW, false)
	if rm[0] != wantRM[0] || rv[1] != wantRV[1] {
		t.Errorf("evaluation changed the running statistics")
	}
	if want := (1 - 0.475) / math.Sqrt(wantRV[0]+1e-5); math.Abs(out[0]-want) > 1e-15 {
		t.Errorf("eval out[0] = %v, want %v", out[0], want)
	}
}
