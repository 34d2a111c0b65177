package train

import (
	"math"
	"testing"

	"github.com/faudit/faudit/nn"
)

// Three AdamW steps on one scalar against PyTorch's formula written out in
// float64: w ← w(1−lr·wd); m ← β1 m + (1−β1)g; v ← β2 v + (1−β2)g²;
// w ← w − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε).
func TestAdamWMatchesPyTorchFormula(t *testing.T) {
	p := nn.NewParam[float64]("w", 1)
	p.W[0] = 0.5
	o := NewAdamW([]*nn.Param[float64]{p}, 0.01)
	w, m, v := 0.5, 0.0, 0.0
	for step, g := range []float64{0.3, -0.1, 2.0} {
		p.G[0] = g
		o.Step(1e-2)
		n := float64(step + 1)
		w *= 1 - 1e-2*0.01
		m = 0.9*m + 0.1*g
		v = 0.999*v + 0.001*g*g
		w -= 1e-2 / (1 - math.Pow(0.9, n)) * m / (math.Sqrt(v)/math.Sqrt(1-math.Pow(0.999, n)) + 1e-8)
		if math.Abs(p.W[0]-w) > 1e-15 {
			t.Fatalf("step %d: w = %.17g, want %.17g", step+1, p.W[0], w)
		}
	}
}

func TestSGDMomentum(t *testing.T) {
	p := nn.NewParam[float64]("w", 1)
	p.W[0] = 1
	o := NewSGD([]*nn.Param[float64]{p}, 0.9, 0.1)
	// step 1: g = 0.5 + 0.1·1 = 0.6, buf = 0.6, w = 1 − 0.1·0.6 = 0.94
	// step 2: g = 0.5 + 0.094 = 0.594, buf = 0.54 + 0.594 = 1.134, w = 0.94 − 0.1134 = 0.8266
	for _, want := range []float64{0.94, 0.8266} {
		p.G[0] = 0.5
		o.Step(0.1)
		if math.Abs(p.W[0]-want) > 1e-12 {
			t.Fatalf("w = %.15g, want %.15g", p.W[0], want)
		}
	}
}
