package blas

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMaxPool2x2MatchesGo: the kernel's maxima and argmax equal the Go
// loop's, on planes with even and odd sides (tails of every length), with
// many ties (values from a small set, −0 and +0 among them) and with NaNs
// and infinities mixed in.
func TestMaxPool2x2MatchesGo(t *testing.T) {
	checkMaxPool[float32](t)
	checkMaxPool[float64](t)
}

func checkMaxPool[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	vals := []float64{-1, math.Copysign(0, -1), 0, 1, 2, math.Inf(1), math.Inf(-1)}
	for _, hw := range [][2]int{{28, 28}, {14, 14}, {7, 7}, {2, 2}, {3, 5}, {6, 17}, {5, 34}, {9, 33}} {
		H, W := hw[0], hw[1]
		for _, special := range []bool{false, true} {
			planes := 1 + 128/max((H/2)*(W/2), 1)
			x := make([]T, planes*H*W)
			for i := range x {
				x[i] = T(vals[rng.IntN(5)])
				if special && rng.IntN(8) == 0 {
					x[i] = T(vals[5+rng.IntN(2)])
				}
				if special && rng.IntN(16) == 0 {
					x[i] = T(math.NaN())
				}
			}
			n := planes * (H / 2) * (W / 2)
			o1, o2 := make([]T, n), make([]T, n)
			i1, i2 := make([]int32, n), make([]int32, n)
			MaxPool2x2(o1, i1, x, planes, H, W)
			maxPool2x2Go(o2, i2, x, planes, H, W)
			checkBits(t, "MaxPool2x2", n, o1, o2)
			for i := range i2 {
				if i1[i] != i2[i] {
					t.Fatalf("MaxPool2x2 %T %dx%d: argmax [%d] = %d, Go loop gives %d", x[0], H, W, i, i1[i], i2[i])
				}
			}
		}
	}
}
