package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/faudit/faudit/model"
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

// optimParams is a parameter set whose sizes straddle the split points of the
// optimisers' one-pass update (the parameters' concatenation is split).
func optimParams[T nn.Float](seed uint64) []*nn.Param[T] {
	rng := rand.New(rand.NewPCG(seed, 1))
	var ps []*nn.Param[T]
	for i, n := range []int{3, 70001, 1, 256, 40000, 65} {
		p := nn.NewParam[T](fmt.Sprint("p", i), n)
		for j := range p.W {
			p.W[j], p.G[j] = T(rng.NormFloat64()), T(rng.NormFloat64()*1e-2)
		}
		ps = append(ps, p)
	}
	return ps
}

func sameParams[T nn.Float](t *testing.T, what string, a, b []*nn.Param[T]) {
	t.Helper()
	for i := range a {
		for j := range a[i].W {
			if math.Float64bits(float64(a[i].W[j])) != math.Float64bits(float64(b[i].W[j])) {
				t.Fatalf("%s: %s[%d] = %v vs %v", what, a[i].Name, j, a[i].W[j], b[i].W[j])
			}
		}
	}
}

// The optimisers update all parameters in one pass split over goroutines.
// Whatever GOMAXPROCS, the result must be the plain per-element formula's
// (the TestAdamWMatchesPyTorchFormula operation order, rounded to T).
func checkOptimSplit[T nn.Float](t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	ref := optimParams[T](1)
	m, v := make([][]T, len(ref)), make([][]T, len(ref))
	for i, p := range ref {
		m[i], v[i] = make([]T, len(p.W)), make([]T, len(p.W))
	}
	const lr, wd = 1e-3, 0.01
	for step := 1; step <= 3; step++ {
		bc1, bc2 := 1-math.Pow(0.9, float64(step)), 1-math.Pow(0.999, float64(step))
		b1, b2 := T(0.9), T(0.999)
		decay, size, isb, eps := T(1-lr*wd), T(lr/bc1), T(1/math.Sqrt(bc2)), T(1e-8)
		for i, p := range ref {
			for j, g := range p.G {
				mj := T(b1*m[i][j]) + T((1-b1)*g)
				vj := T(b2*v[i][j]) + T(T((1-b2)*g)*g)
				m[i][j], v[i][j] = mj, vj
				p.W[j] = T(p.W[j]*decay) - T(size*mj)/(T(T(math.Sqrt(float64(vj)))*isb)+eps)
			}
		}
	}
	for _, procs := range []int{1, 2, 3} {
		runtime.GOMAXPROCS(procs)
		ps := optimParams[T](1)
		o := NewAdamW(ps, wd)
		for step := 1; step <= 3; step++ {
			o.Step(lr)
		}
		sameParams(t, fmt.Sprintf("AdamW %T GOMAXPROCS=%d", ps[0].W[0], procs), ps, ref)
	}

	sgdRef := optimParams[T](2)
	buf := make([][]T, len(sgdRef))
	for i, p := range sgdRef {
		buf[i] = make([]T, len(p.W))
	}
	for step := 0; step < 3; step++ {
		for i, p := range sgdRef {
			for j := range p.W {
				g := p.G[j] + T(0.01)*p.W[j]
				if step == 0 {
					buf[i][j] = g
				} else {
					buf[i][j] = T(0.9)*buf[i][j] + g
				}
				p.W[j] -= T(0.1) * buf[i][j]
			}
		}
	}
	for _, procs := range []int{1, 2, 3} {
		runtime.GOMAXPROCS(procs)
		ps := optimParams[T](2)
		o := NewSGD(ps, 0.9, 0.01)
		for step := 0; step < 3; step++ {
			o.Step(0.1)
		}
		sameParams(t, fmt.Sprintf("SGD %T GOMAXPROCS=%d", ps[0].W[0], procs), ps, sgdRef)
	}
}

func TestOptimizersSplitMatchFormula(t *testing.T) {
	checkOptimSplit[float32](t)
	checkOptimSplit[float64](t)
}

// BenchmarkAdamWStep is one AdamW step over the default ResMLP's parameters
// (about 732k).
func BenchmarkAdamWStep(b *testing.B) {
	for _, prec := range []string{"float32", "float64"} {
		b.Run(prec, func(b *testing.B) {
			if prec == "float32" {
				benchAdamW[float32](b)
			} else {
				benchAdamW[float64](b)
			}
		})
	}
}

func benchAdamW[T nn.Float](b *testing.B) {
	net, err := model.New[T](model.DefaultConfig(784, 10), rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		b.Fatal(err)
	}
	o := NewAdamW(net.Params(), 0.01)
	b.ReportAllocs()
	for b.Loop() {
		o.Step(1e-3)
	}
}
