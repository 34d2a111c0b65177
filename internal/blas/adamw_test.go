package blas

import (
	"math"
	"math/rand/v2"
	"testing"
)

// adamwRef is the update written out as train.AdamW had it before the
// kernel: (1−β) formed in T, √ taken in float64 and rounded to T.
func adamwRef[T Float](w, g, m, v []T, decay, stepSize, invSqrtBC2, b1, b2, eps T) {
	for j := range w {
		gj := g[j]
		mj := T(b1*m[j]) + T((1-b1)*gj)
		vj := T(b2*v[j]) + T(T((1-b2)*gj)*gj)
		m[j], v[j] = mj, vj
		w[j] = T(w[j]*decay) - T(stepSize*mj)/(T(T(math.Sqrt(float64(vj)))*invSqrtBC2)+eps)
	}
}

func checkAdamWBits[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 7, 8, 9, 63, 64, 65, 1000, 4099} {
		w, g, m, v := make([]T, n), make([]T, n), make([]T, n), make([]T, n)
		for i := range w {
			w[i], g[i], m[i] = T(rng.NormFloat64()), T(rng.NormFloat64()*math.Pow(10, float64(rng.IntN(20)-15))), T(rng.NormFloat64()*1e-3)
			v[i] = T(math.Abs(rng.NormFloat64()) * 1e-6)
		}
		if n > 3 {
			g[0], v[0], m[0] = 0, 0, 0 // a parameter that never saw a gradient
			g[1] = T(math.SmallestNonzeroFloat32)
		}
		rw, rm, rv := append([]T(nil), w...), append([]T(nil), m...), append([]T(nil), v...)
		for step := 1; step <= 3; step++ {
			lr, wd := 1e-3, 0.01
			bc1, bc2 := 1-math.Pow(0.9, float64(step)), 1-math.Pow(0.999, float64(step))
			b1, b2 := T(0.9), T(0.999)
			c := AdamWCoef[T]{T(1 - lr*wd), T(lr / bc1), T(1 / math.Sqrt(bc2)), b1, 1 - b1, b2, 1 - b2, T(1e-8)}
			AdamW(w, g, m, v, &c)
			adamwRef(rw, g, rm, rv, c.Decay, c.Step, c.InvSqrtBC2, b1, b2, c.Eps)
			for i := range w {
				if math.Float64bits(float64(w[i])) != math.Float64bits(float64(rw[i])) || m[i] != rm[i] || v[i] != rv[i] {
					t.Fatalf("%T n=%d step %d element %d: kernel (w %v, m %v, v %v) vs reference (%v, %v, %v)",
						w[0], n, step, i, w[i], m[i], v[i], rw[i], rm[i], rv[i])
				}
			}
		}
	}
}

// TestAdamWBitIdentical: the kernel (AVX under cgo) and the scalar Go loop
// agree bit for bit with the plain formula, tails included.
func TestAdamWBitIdentical(t *testing.T) {
	checkAdamWBits[float32](t)
	checkAdamWBits[float64](t)
}

func BenchmarkAdamW(b *testing.B) {
	for _, n := range []int{1 << 16, 1 << 20} {
		w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range w {
			w[i], g[i] = 1, float32(i%13)-6
		}
		c := AdamWCoef[float32]{0.99999, 1e-3, 1.2, 0.9, 0.1, 0.999, 0.001, 1e-8}
		b.Run("kernel", func(b *testing.B) {
			for b.Loop() {
				AdamW(w, g, m, v, &c)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/elem")
		})
		b.Run("go", func(b *testing.B) {
			for b.Loop() {
				adamwGo(w, g, m, v, &c)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/elem")
		})
	}
}
