package nn

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/faudit/faudit/internal/blas"
)

// The layers split their work over goroutines (rows, columns, GEMM row
// blocks). These tests hold each one to a plain serial version bit for bit,
// at shapes large enough to be split and at odd ones that are not.

func randT[T Float](rng *rand.Rand, n int, scale float64) []T {
	x := make([]T, n)
	for i := range x {
		x[i] = T(scale * rng.NormFloat64())
	}
	return x
}

func sameBits[T Float](t *testing.T, name string, got, want []T) {
	t.Helper()
	for i := range want {
		if math.Float64bits(float64(got[i])) != math.Float64bits(float64(want[i])) {
			t.Fatalf("%s[%d] = %v, serial version gives %v", name, i, got[i], want[i])
		}
	}
}

var splitShapes = [][2]int{{128, 256}, {256, 1024}, {5, 7}, {3, 5000}, {1000, 3}}

// layerNormBackwardSerial is LayerNormBackward as one call over all rows,
// then one plain loop over rows for dg and db.
func layerNormBackwardSerial[T Float](dx, dg, db, dout, x, mean, rstd, g []T, B, D int) {
	blas.LayerNormGradRows(dx, dout, x, mean, rstd, g, D)
	clear(dg[:D])
	clear(db[:D])
	for r := 0; r < B; r++ {
		xr, dr := x[r*D:r*D+D], dout[r*D:r*D+D]
		m, rs := mean[r], rstd[r]
		for j, xv := range xr {
			dg[j] += T(T(dr[j]*T(xv-m)) * rs)
			db[j] += dr[j]
		}
	}
}

func checkLayerNormSplit[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, s := range splitShapes {
		B, D := s[0], s[1]
		x, g, b, dout := randT[T](rng, B*D, 3), randT[T](rng, D, 1), randT[T](rng, D, 1), randT[T](rng, B*D, 1)
		out, mean, rstd := make([]T, B*D), make([]T, B), make([]T, B)
		LayerNormForward(out, mean, rstd, x, g, b, B, D)
		dx, dg, db := make([]T, B*D), make([]T, D), make([]T, D)
		LayerNormBackward(dx, dg, db, dout, x, mean, rstd, g, B, D)
		wx, wg, wb := make([]T, B*D), make([]T, D), make([]T, D)
		layerNormBackwardSerial(wx, wg, wb, dout, x, mean, rstd, g, B, D)
		sameBits(t, "LayerNorm dx", dx, wx)
		sameBits(t, "LayerNorm dg", dg, wg)
		sameBits(t, "LayerNorm db", db, wb)
		dx2 := make([]T, B*D) // without parameter gradients
		LayerNormBackward(dx2, nil, nil, dout, x, mean, rstd, g, B, D)
		sameBits(t, "LayerNorm dx (no dg, db)", dx2, wx)
	}
}

func checkLinearSplit[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, s := range [][3]int{{128, 784, 256}, {128, 256, 10}, {128, 256, 1024}, {7, 5, 3}, {300, 17, 40}} {
		B, I, O := s[0], s[1], s[2]
		x, w, b, fb, dout := randT[T](rng, B*I, 1), randT[T](rng, O*I, 1), randT[T](rng, O, 1), randT[T](rng, O*I, 1), randT[T](rng, B*O, 1)
		out, want := make([]T, B*O), make([]T, B*O)
		// The forward product, split as LinearForward splits it (by columns
		// when they are wide enough, else as Gemm does), block by block.
		gemmFwd := func(beta T, c []T) {
			parts := blas.Splits(B, O, I)
			for p := 0; p < parts; p++ {
				if O/parts >= 64 {
					blas.GemmColPart(p, parts, false, true, B, O, I, 1, x, I, w, I, beta, c, O)
				} else {
					blas.GemmPart(p, parts, false, true, B, O, I, 1, x, I, w, I, beta, c, O)
				}
			}
		}
		LinearForward(out, x, w, b, B, I, O)
		for r := 0; r < B; r++ {
			copy(want[r*O:], b)
		}
		gemmFwd(1, want)
		sameBits(t, "Linear out", out, want)
		LinearForward(out, x, w, nil, B, I, O)
		gemmFwd(0, want)
		sameBits(t, "Linear out (no bias)", out, want)

		dx, dw, db := make([]T, B*I), make([]T, O*I), make([]T, O)
		LinearBackward(dx, dw, db, dout, x, fb, B, I, O)
		// With both products, each is split into its own row blocks (whole, on
		// two processors): the reference runs those blocks one after another.
		wx, ww, wb := make([]T, B*I), make([]T, O*I), make([]T, O)
		nX, nW := linearBackwardSplit(B, I, O, true, true)
		for p := 0; p < max(nX, 1); p++ {
			blas.GemmPart(p, max(nX, 1), false, false, B, I, O, 1, dout, O, fb, I, 0, wx, I)
		}
		for p := 0; p < max(nW, 1); p++ {
			blas.GemmPart(p, max(nW, 1), true, false, O, I, B, 1, dout, O, x, I, 0, ww, I)
		}
		columnSum(wb, dout, B, O, 0, O)
		sameBits(t, "Linear dinp", dx, wx)
		sameBits(t, "Linear dw", dw, ww)
		sameBits(t, "Linear db", db, wb)
		// Alone, each product is exactly Gemm's.
		blas.Gemm(false, false, B, I, O, 1, dout, O, fb, I, 0, wx, I)
		blas.Gemm(true, false, O, I, B, 1, dout, O, x, I, 0, ww, I)
		clear(dx)
		clear(db)
		LinearBackward(dx, nil, db, dout, x, fb, B, I, O)
		sameBits(t, "Linear dinp (alone)", dx, wx)
		sameBits(t, "Linear db (with dinp)", db, wb)
		clear(dw)
		clear(db)
		LinearBackward(nil, dw, db, dout, x, nil, B, I, O)
		sameBits(t, "Linear dw (alone)", dw, ww)
		sameBits(t, "Linear db (with dw)", db, wb)
		ColumnSum(db, dout, B, O)
		sameBits(t, "ColumnSum", db, wb)
	}
}

func TestSplitLayersMatchSerial(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3, 4} {
		runtime.GOMAXPROCS(procs)
		checkLayerNormSplit[float32](t)
		checkLayerNormSplit[float64](t)
		checkLinearSplit[float32](t)
		checkLinearSplit[float64](t)
	}
}
