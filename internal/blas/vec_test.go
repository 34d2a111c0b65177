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
