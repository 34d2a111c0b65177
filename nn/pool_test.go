package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestMaxPool2x2Gradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 31))
	for _, hw := range [][2]int{{6, 4}, {7, 5}, {3, 9}} {
		N, C, H, W := 2, 3, hw[0], hw[1]
		OH, OW := H/2, W/2
		// A permutation keeps every window's maximum clear of the others
		// (gap 1 ≫ the finite-difference step).
		x := make([]float64, N*C*H*W)
		for i, p := range rng.Perm(len(x)) {
			x[i] = float64(p) - float64(len(x))/2
		}
		R := randn(rng, N*C*OH*OW, 1)
		out, idx := make([]float64, len(R)), make([]int32, len(R))
		loss := func() float64 { MaxPool2x2Forward(out, idx, x, N, C, H, W); return dot(out, R) }
		loss()
		for pl := 0; pl < N*C; pl++ {
			for oh := 0; oh < OH; oh++ {
				for ow := 0; ow < OW; ow++ {
					m := math.Inf(-1)
					for _, j := range []int{2*oh*W + 2*ow, 2*oh*W + 2*ow + 1, (2*oh+1)*W + 2*ow, (2*oh+1)*W + 2*ow + 1} {
						m = math.Max(m, x[pl*H*W+j])
					}
					if got := out[(pl*OH+oh)*OW+ow]; got != m {
						t.Fatalf("%dx%d: window max %v, want %v", H, W, got, m)
					}
				}
			}
		}
		dx := make([]float64, len(x))
		for i := range dx {
			dx[i] = math.NaN() // must be overwritten, zeros included
		}
		MaxPool2x2Backward(dx, R, idx, N, C, H, W)
		checkGradient(t, "MaxPool2x2 dx", x, dx, loss)
	}
}

func TestMaxPool2x2TiesAndNaN(t *testing.T) {
	inf := math.Inf(1)
	x := []float64{1, 1, 1, 1, math.NaN(), 2, 3, math.NaN(), -inf, inf, 1, 2, 2, 3, math.NaN(), 1}
	out, idx := make([]float64, 4), make([]int32, 4)
	MaxPool2x2Forward(out, idx, x, 4, 1, 2, 2)
	if out[0] != 1 || idx[0] != 0 {
		t.Errorf("ties: max %v at %d, want 1 at 0 (the first)", out[0], idx[0])
	}
	if !math.IsNaN(out[1]) || idx[1] != 0 {
		t.Errorf("NaN window: max %v at %d, want NaN at 0", out[1], idx[1])
	}
	if out[2] != inf || idx[2] != 1 {
		t.Errorf("±Inf window: max %v at %d, want +Inf at 1", out[2], idx[2])
	}
	if !math.IsNaN(out[3]) || idx[3] != 2 {
		t.Errorf("late NaN: max %v at %d, want NaN at 2", out[3], idx[3])
	}
	// Many ties: the first maximum in row-major order, as PyTorch's scan.
	rng := rand.New(rand.NewPCG(32, 32))
	N, C, H, W := 3, 2, 8, 6
	x = make([]float64, N*C*H*W)
	for i := range x {
		x[i] = float64(rng.IntN(3))
	}
	out, idx = make([]float64, N*C*H*W/4), make([]int32, N*C*H*W/4)
	MaxPool2x2Forward(out, idx, x, N, C, H, W)
	for pl := 0; pl < N*C; pl++ {
		for oh := 0; oh < H/2; oh++ {
			for ow := 0; ow < W/2; ow++ {
				k := 2*oh*W + 2*ow
				for _, j := range []int{k + 1, k + W, k + W + 1} {
					if x[pl*H*W+j] > x[pl*H*W+k] {
						k = j
					}
				}
				if o := (pl*H/2+oh)*W/2 + ow; int(idx[o]) != k {
					t.Fatalf("window (%d,%d,%d): argmax %d, want %d", pl, oh, ow, idx[o], k)
				}
			}
		}
	}
}

// BenchmarkMaxPool2x2: the CNN's three poolings on MNIST at batch 128,
// forward and backward.
func BenchmarkMaxPool2x2(b *testing.B) {
	for _, s := range [][3]int{{32, 28, 28}, {64, 14, 14}, {128, 7, 7}} {
		name := fmt.Sprintf("%dx%dx%d", s[0], s[1], s[2])
		b.Run(name+"/f32", func(b *testing.B) { benchPool[float32](b, 128*s[0], s[1], s[2]) })
		b.Run(name+"/f64", func(b *testing.B) { benchPool[float64](b, 128*s[0], s[1], s[2]) })
	}
}

func benchPool[T Float](b *testing.B, planes, H, W int) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, dx := make([]T, planes*H*W), make([]T, planes*H*W)
	for i := range x {
		x[i] = T(rng.NormFloat64())
	}
	out, idx := make([]T, planes*(H/2)*(W/2)), make([]int32, planes*(H/2)*(W/2))
	b.Run("fwd", func(b *testing.B) {
		for b.Loop() {
			MaxPool2x2Forward(out, idx, x, 1, planes, H, W)
		}
	})
	b.Run("bwd", func(b *testing.B) {
		for b.Loop() {
			MaxPool2x2Backward(dx, out, idx, 1, planes, H, W)
		}
	})
}
