package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// convCases: odd sizes, 1×1, stride 2, padding larger than the kernel's
// reach, a non-square kernel.
var convCases = []Conv2dDims{
	{N: 2, Cin: 3, H: 7, W: 5, Cout: 4, KH: 3, KW: 3, Pad: 1},
	{N: 3, Cin: 2, H: 5, W: 6, Cout: 3, KH: 1, KW: 1},
	{N: 2, Cin: 2, H: 9, W: 7, Cout: 3, KH: 3, KW: 3, Pad: 1, Stride: 2},
	{N: 1, Cin: 3, H: 4, W: 5, Cout: 2, KH: 3, KW: 2, Pad: 2, Stride: 3},
	{N: 2, Cin: 1, H: 3, W: 3, Cout: 2, KH: 5, KW: 1, Pad: 2},
	{N: 2, Cin: 2, H: 6, W: 5, Cout: 3, KH: 5, KW: 3, Pad: 1},
	{N: 2, Cin: 1, H: 2, W: 2, Cout: 2, KH: 1, KW: 5, Pad: 2},
	{N: 2, Cin: 1, H: 2, W: 3, Cout: 2, KH: 7, KW: 7, Pad: 3},
}

// directConv is the definition, loop by loop.
func directConv(x, w, b []float64, d Conv2dDims) []float64 {
	OH, OW, s := d.OutH(), d.OutW(), d.stride()
	out := make([]float64, d.N*d.Cout*OH*OW)
	for n := 0; n < d.N; n++ {
		for co := 0; co < d.Cout; co++ {
			for oh := 0; oh < OH; oh++ {
				for ow := 0; ow < OW; ow++ {
					v := 0.0
					if b != nil {
						v = b[co]
					}
					for ci := 0; ci < d.Cin; ci++ {
						for ki := 0; ki < d.KH; ki++ {
							for kj := 0; kj < d.KW; kj++ {
								ih, iw := oh*s-d.Pad+ki, ow*s-d.Pad+kj
								if ih >= 0 && ih < d.H && iw >= 0 && iw < d.W {
									v += w[((co*d.Cin+ci)*d.KH+ki)*d.KW+kj] * x[((n*d.Cin+ci)*d.H+ih)*d.W+iw]
								}
							}
						}
					}
					out[((n*d.Cout+co)*OH+oh)*OW+ow] = v
				}
			}
		}
	}
	return out
}

// allLayouts returns every case with NCHW and with channel-major output.
func allLayouts() []Conv2dDims {
	var ds []Conv2dDims
	for _, d := range convCases {
		ds = append(ds, d)
		d.ChannelMajorOut = true
		ds = append(ds, d)
	}
	return ds
}

// toChannelMajor transposes x[N,C,HW] to [C,N,HW].
func toChannelMajor(x []float64, N, C, HW int) []float64 {
	y := make([]float64, len(x))
	for n := 0; n < N; n++ {
		for c := 0; c < C; c++ {
			copy(y[(c*N+n)*HW:][:HW], x[(n*C+c)*HW:][:HW])
		}
	}
	return y
}

func TestConv2dMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	for _, d := range allLayouts() {
		x, w, b := randn(rng, d.N*d.Cin*d.H*d.W, 1), randn(rng, d.Cout*d.Cin*d.KH*d.KW, 1), randn(rng, d.Cout, 1)
		want := directConv(x, w, b, d)
		if d.ChannelMajorOut {
			want = toChannelMajor(want, d.N, d.Cout, d.OutH()*d.OutW())
		}
		out := make([]float64, len(want))
		Conv2dForward(out, x, w, b, make([]float64, Conv2dWorkspace(d)), d)
		for i := range want {
			if math.Abs(out[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
				t.Fatalf("%+v: out[%d] = %v, want %v", d, i, out[i], want[i])
			}
		}
	}
}

func TestConv2dGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	for _, d := range allLayouts() {
		t.Run(fmt.Sprintf("%dx%dx%d_k%dx%d_p%d_s%d_cm%v", d.Cin, d.H, d.W, d.KH, d.KW, d.Pad, d.Stride, d.ChannelMajorOut), func(t *testing.T) {
			x, w, b := randn(rng, d.N*d.Cin*d.H*d.W, 1), randn(rng, d.Cout*d.Cin*d.KH*d.KW, 0.5), randn(rng, d.Cout, 0.5)
			R := randn(rng, d.N*d.Cout*d.OutH()*d.OutW(), 1)
			ws := make([]float64, Conv2dWorkspace(d))
			out := make([]float64, len(R))
			loss := func() float64 { Conv2dForward(out, x, w, b, ws, d); return dot(out, R) }
			dx, dw, db := make([]float64, len(x)), make([]float64, len(w)), make([]float64, len(b))
			Conv2dBackward(dx, dw, db, R, x, w, ws, d)
			checkGradient(t, "Conv2d dx", x, dx, loss)
			checkGradient(t, "Conv2d dW", w, dw, loss)
			checkGradient(t, "Conv2d db", b, db, loss)
		})
	}
}

// Splitting the batch into parts (over 3 processors) and each part into
// one-sample chunks must give the result of one part and one chunk (up to
// the summation order of dW).
func TestConv2dPartsAndChunks(t *testing.T) {
	for _, cm := range []bool{false, true} {
		testConv2dSplit(t, Conv2dDims{N: 7, Cin: 8, H: 10, W: 9, Cout: 16, KH: 3, KW: 3, Pad: 1, ChannelMajorOut: cm})
	}
}

func testConv2dSplit(t *testing.T, d Conv2dDims) {
	rng := rand.New(rand.NewPCG(13, 13))
	x, w, b := randn(rng, d.N*d.Cin*d.H*d.W, 1), randn(rng, d.Cout*d.Cin*9, 1), randn(rng, d.Cout, 1)
	R := randn(rng, d.N*d.Cout*d.H*d.W, 1)
	defer func(procs, budget int) { runtime.GOMAXPROCS(procs); colBudget = budget }(runtime.GOMAXPROCS(0), colBudget)
	run := func(procs, budget, wantParts, wantChunk int) (out, dx, dw, db []float64) {
		runtime.GOMAXPROCS(procs)
		colBudget = budget
		if d.parts() != wantParts || d.chunk() != wantChunk {
			t.Fatalf("%d parts of %d-sample chunks, want %d of %d", d.parts(), d.chunk(), wantParts, wantChunk)
		}
		out, dx, dw, db = make([]float64, len(R)), make([]float64, len(x)), make([]float64, len(w)), make([]float64, len(b))
		ws := make([]float64, Conv2dWorkspace(d))
		for i := range ws {
			ws[i] = math.NaN() // scratch must be fully overwritten
		}
		Conv2dForward(out, x, w, b, ws, d)
		Conv2dBackward(dx, dw, db, R, x, w, ws, d)
		return
	}
	o1, dx1, dw1, db1 := run(1, 1<<30, 1, d.N)
	o2, dx2, dw2, db2 := run(3, 1, 3, 1)
	want := directConv(x, w, b, d)
	if d.ChannelMajorOut {
		want = toChannelMajor(want, d.N, d.Cout, d.H*d.W)
	}
	for i := range want {
		if math.Abs(o1[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
			t.Fatalf("out[%d] = %v, want %v", i, o1[i], want[i])
		}
	}
	for name, p := range map[string][2][]float64{"out": {o1, o2}, "dx": {dx1, dx2}, "dW": {dw1, dw2}, "db": {db1, db2}} {
		for i := range p[0] {
			if math.Abs(p[0][i]-p[1][i]) > 1e-12*(1+math.Abs(p[0][i])) {
				t.Fatalf("cm=%v %s[%d]: %v in one part, %v in 3 parts of 1-sample chunks", d.ChannelMajorOut, name, i, p[0][i], p[1][i])
			}
		}
	}
}

func TestConv2dBackwardUsesFeedbackKernel(t *testing.T) {
	// dinp must be the transposed convolution with the kernel passed in: with
	// 2W it doubles, while dW and db do not move.
	rng := rand.New(rand.NewPCG(14, 14))
	d := convCases[0]
	x, w := randn(rng, d.N*d.Cin*d.H*d.W, 1), randn(rng, d.Cout*d.Cin*9, 1)
	R := randn(rng, d.N*d.Cout*d.H*d.W, 1)
	w2 := make([]float64, len(w))
	for i := range w {
		w2[i] = 2 * w[i]
	}
	ws := make([]float64, Conv2dWorkspace(d))
	dx1, dx2 := make([]float64, len(x)), make([]float64, len(x))
	dw1, dw2 := make([]float64, len(w)), make([]float64, len(w))
	Conv2dBackward(dx1, dw1, nil, R, x, w, ws, d)
	Conv2dBackward(dx2, dw2, nil, R, x, w2, ws, d)
	checkFeedback(t, "kernel", dx1, dx2, dw1, dw2)
}

func TestConv2dFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 15))
	d := convCases[2]
	x, w, b := randn(rng, d.N*d.Cin*d.H*d.W, 1), randn(rng, d.Cout*d.Cin*9, 1), randn(rng, d.Cout, 1)
	want := directConv(x, w, b, d)
	x32, w32, b32 := to32(x), to32(w), to32(b)
	out := make([]float32, len(want))
	Conv2dForward(out, x32, w32, b32, make([]float32, Conv2dWorkspace(d)), d)
	for i := range want {
		if math.Abs(float64(out[i])-want[i]) > 1e-5*(1+math.Abs(want[i])) {
			t.Fatalf("float32 out[%d] = %v, want %v", i, out[i], want[i])
		}
	}
}

func to32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// BenchmarkConv2d: the CNN's 3×3 convolutions on MNIST at batch 128,
// forward and backward (dW and dinp), in the model's channel-major output
// layout. Reports GFLOP/s (2·K·Cout·N·OH·OW per GEMM).
func BenchmarkConv2d(b *testing.B) {
	stages := []Conv2dDims{
		{N: 128, Cin: 1, H: 28, W: 28, Cout: 32, KH: 3, KW: 3, Pad: 1, ChannelMajorOut: true},
		{N: 128, Cin: 32, H: 14, W: 14, Cout: 64, KH: 3, KW: 3, Pad: 1, ChannelMajorOut: true},
		{N: 128, Cin: 64, H: 7, W: 7, Cout: 128, KH: 3, KW: 3, Pad: 1, ChannelMajorOut: true},
	}
	for _, d := range stages {
		for _, budget := range []int{1 << 18, 1 << 20, 1 << 22} {
			name := fmt.Sprintf("%dx%dx%d-%d/col%dk", d.Cin, d.H, d.W, d.Cout, budget>>10)
			b.Run(name+"/f64/fwd", func(b *testing.B) { benchConv[float64](b, d, budget, false) })
			b.Run(name+"/f64/bwd", func(b *testing.B) { benchConv[float64](b, d, budget, true) })
			b.Run(name+"/f32/fwd", func(b *testing.B) { benchConv[float32](b, d, budget, false) })
			b.Run(name+"/f32/bwd", func(b *testing.B) { benchConv[float32](b, d, budget, true) })
		}
	}
}

func benchConv[T Float](b *testing.B, d Conv2dDims, budget int, backward bool) {
	old := colBudget
	colBudget = budget
	defer func() { colBudget = old }()
	x, w := make([]T, d.N*d.Cin*d.H*d.W), make([]T, d.Cout*d.Cin*d.KH*d.KW)
	out := make([]T, d.N*d.Cout*d.OutH()*d.OutW())
	dx, dw := make([]T, len(x)), make([]T, len(w))
	for i := range x {
		x[i] = T(i%7) - 3
	}
	for i := range w {
		w[i] = T(i%5) - 2
	}
	ws := make([]T, Conv2dWorkspace(d))
	gemms := 1.0
	for b.Loop() {
		if backward {
			Conv2dBackward(dx, dw, nil, out, x, w, ws, d)
			gemms = 2
		} else {
			Conv2dForward(out, x, w, nil, ws, d)
		}
	}
	flop := 2 * float64(d.Cin*d.KH*d.KW*d.Cout*d.N*d.OutH()*d.OutW()) * gemms
	b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
