package blas

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The kernels (AVX2 under cgo) against their Go loops, bit for bit, at
// lengths with and without tails, with special values mixed in.

func vecData[T Float](rng *rand.Rand, n int, scale float64, special bool) []T {
	x := make([]T, n)
	for i := range x {
		x[i] = T(scale * rng.NormFloat64())
	}
	if special && n >= 9 {
		x[0], x[1], x[2] = T(math.Copysign(0, -1)), 0, T(math.NaN())
		x[3], x[4] = T(math.Inf(1)), T(math.Inf(-1))
		x[5], x[6] = T(math.SmallestNonzeroFloat32), -T(math.SmallestNonzeroFloat32)
		x[7] = T(math.Float64frombits(math.Float64bits(math.NaN()) | 1<<63)) // negative NaN
	}
	return x
}

func bitsEqual[T Float](a, b T) bool {
	if a != a && b != b {
		return true // any NaN
	}
	return math.Float64bits(float64(a)) == math.Float64bits(float64(b))
}

func checkBits[T Float](t *testing.T, name string, n int, got, want []T) {
	t.Helper()
	for i := range want {
		if !bitsEqual(got[i], want[i]) {
			t.Fatalf("%s %T n=%d: [%d] = %v (%#x), Go loop gives %v (%#x)", name, got[0], n, i, got[i],
				math.Float64bits(float64(got[i])), want[i], math.Float64bits(float64(want[i])))
		}
	}
}

func checkVec[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{64, 65, 71, 72, 100, 256, 1000, 1031} {
		x, y, d := vecData[T](rng, n, 2, true), vecData[T](rng, n, 1, false), vecData[T](rng, n, 1, false)
		got, want := make([]T, n), make([]T, n)
		ReLU(got, x)
		reluGo(want, x)
		checkBits(t, "ReLU", n, got, want)
		ReLUGrad(got, d, x)
		reluGradGo(want, d, x)
		checkBits(t, "ReLUGrad", n, got, want)
		Add(got, x, y)
		addGo(want, x, y)
		checkBits(t, "Add", n, got, want)
		if a, b := Sum64(y), sum8(y); !bitsEqual(a, b) {
			t.Fatalf("Sum64 n=%d: %v, Go loop %v", n, a, b)
		}
		if a, b := SumSqDev64(y, 0.3), sumSq8(y, 0.3); !bitsEqual(a, b) {
			t.Fatalf("SumSqDev64 n=%d: %v, Go loop %v", n, a, b)
		}
		a1, b1 := DotDev64(d, y, 0.3)
		a2, b2 := dotDev8(d, y, 0.3)
		if !bitsEqual(a1, a2) || !bitsEqual(b1, b2) {
			t.Fatalf("DotDev64 n=%d: %v %v, Go loop %v %v", n, a1, b1, a2, b2)
		}
		Affine(got, y, 0.3, 1.7, -0.2)
		affineGo(want, y, 0.3, 1.7, -0.2)
		checkBits(t, "Affine", n, got, want)
		BNGrad(got, d, y, 1.3, 0.1, 0.3, 0.9, -0.4)
		bnGradGo(want, d, y, 1.3, 0.1, 0.3, 0.9, -0.4)
		checkBits(t, "BNGrad", n, got, want)
		for _, xs := range [][]T{x, vecData[T](rng, n, 5, true)} { // scale 5 crosses the tanh clamp
			GELU(got, xs)
			geluGo(want, xs)
			checkBits(t, "GELU", n, got, want)
			GELUGrad(got, d, xs)
			geluGradGo(want, d, xs)
			checkBits(t, "GELUGrad", n, got, want)
		}

		for _, rows := range []int{1, 3, 4, 7, 64} {
			ld := n + 3
			m := vecData[T](rng, rows*ld, 1, false)
			xm := vecData[T](rng, rows*ld, 3, false)
			mean, rstd := vecData[T](rng, rows, 1, false), vecData[T](rng, rows, 1, false)
			cs, cw := make([]T, n), make([]T, n)
			ColumnSum(cs, m, rows, ld)
			columnSumGo(cw, m, rows, ld)
			checkBits(t, "ColumnSum", n, cs, cw)
			LayerNormParamGrads(cs, nil, m, xm, mean, rstd, rows, ld)
			layerNormDG(cw, m, xm, mean, rstd, rows, ld)
			checkBits(t, "LayerNormParamGrads", n, cs, cw)

			// LayerNorm rows: D = n, rows rows, then the gradient from it.
			D := n
			xr := vecData[T](rng, rows*D, 5, false)
			g, b := vecData[T](rng, D, 1, false), vecData[T](rng, D, 1, false)
			o1, o2 := make([]T, rows*D), make([]T, rows*D)
			m1, m2, r1, r2 := make([]T, rows), make([]T, rows), make([]T, rows), make([]T, rows)
			LayerNormRows(o1, m1, r1, xr, g, b, D, 1e-5)
			layerNormRowsGo(o2, m2, r2, xr, g, b, D, 1e-5)
			checkBits(t, "LayerNormRows mean", n, m1, m2)
			checkBits(t, "LayerNormRows rstd", n, r1, r2)
			checkBits(t, "LayerNormRows out", n, o1, o2)
			dout := vecData[T](rng, rows*D, 1, false)
			LayerNormGradRows(o1, dout, xr, m1, r1, g, D)
			layerNormGradRowsGo(o2, dout, xr, m2, r2, g, D)
			checkBits(t, "LayerNormGradRows", n, o1, o2)
		}
	}
}

func TestVecKernelsMatchGo(t *testing.T) {
	checkVec[float32](t)
	checkVec[float64](t)
}

func checkSoftmax[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, n := range []int{1, 3, 4, 5, 17, 64, 101} {
		for _, rows := range []int{1, 7, 64} {
			x := vecData[T](rng, rows*n, 4, rows*n >= 9 && n > 8)
			if n > 12 {
				x[10], x[11] = -800, -720 // exp flushed to 0, and just above the flush
			}
			got, want := append([]T(nil), x...), append([]T(nil), x...)
			buf := make([]float64, n)
			SoftmaxRows(got, n, buf)
			softmaxRowsGo(want, n, buf)
			checkBits(t, "SoftmaxRows", n, got, want)
		}
	}
}

func TestSoftmaxRowsMatchesGo(t *testing.T) {
	checkSoftmax[float32](t)
	checkSoftmax[float64](t)
}

func TestExpAccuracy(t *testing.T) {
	worst := 0.0
	for x := ExpMin; x <= 0; x += 1e-3 {
		want := math.Exp(x)
		worst = max(worst, math.Abs(Exp(x)-want)/want)
	}
	rng := rand.New(rand.NewPCG(25, 26))
	for range 100000 {
		x := -rng.Float64() * 2
		worst = max(worst, math.Abs(Exp(x)-math.Exp(x))/math.Exp(x))
	}
	if worst > 1e-15 {
		t.Errorf("Exp: max relative error %.3g > 1e-15", worst)
	}
	t.Logf("Exp: max relative error %.3g", worst)
	if Exp(-0) != 1 || Exp(ExpMin-1e-9) != 0 || Exp(math.Inf(-1)) != 0 || !math.IsNaN(Exp(math.NaN())) {
		t.Errorf("Exp edge cases: %v %v %v %v", Exp(-0), Exp(ExpMin-1e-9), Exp(math.Inf(-1)), Exp(math.NaN()))
	}
}
