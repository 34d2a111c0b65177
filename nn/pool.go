package nn

import "github.com/faudit/faudit/internal/blas"

// MaxPool2x2Forward: out[N,C,H/2,W/2] (floor: an odd last row or column is
// dropped, as PyTorch) = the maximum of each 2×2 window of x[N,C,H,W], stride
// 2. idx[N·C·(H/2)·(W/2)] saves each maximum's offset within its H×W plane
// for the backward pass (the first maximum in row-major order on ties; a NaN
// wins, as in PyTorch). The planes are split over goroutines; each block is
// one blas.MaxPool2x2 call.
func MaxPool2x2Forward[T Float](out []T, idx []int32, x []T, N, C, H, W int) {
	j := poolJob[T]{out: out, idx: idx, x: x, planes: N * C, H: H, W: W}
	runJob[T, poolJob[T]](&poolJobs, j, N*C, N*C*(H/2)*(W/2)*4)
}

// MaxPool2x2Backward: dx[N,C,H,W] = dout[N,C,H/2,W/2] routed to the maxima
// saved in idx by the forward pass, zero elsewhere.
func MaxPool2x2Backward[T Float](dx, dout []T, idx []int32, N, C, H, W int) {
	j := poolJob[T]{backward: true, x: dx, out: dout, idx: idx, planes: N * C, H: H, W: W}
	runJob[T, poolJob[T]](&poolJobs, j, N*C, N*C*H*W)
}

// poolJob is one max-pool forward or backward, split over the planes.
type poolJob[T Float] struct {
	backward bool
	out, x   []T // forward; dx, dout backward
	idx      []int32
	planes   int // N·C
	H, W     int
	parts    int
}

var poolJobs jobPool

func (j *poolJob[T]) setParts(p int) { j.parts = p }

// Run is part p: a block of the planes.
func (j *poolJob[T]) Run(p int) {
	H, W := j.H, j.W
	OHW := (H / 2) * (W / 2)
	lo, hi := rowBlock(p, j.parts, j.planes)
	x, out, idx := j.x[lo*H*W:hi*H*W], j.out[lo*OHW:hi*OHW], j.idx[lo*OHW:hi*OHW]
	if !j.backward {
		blas.MaxPool2x2(out, idx, x, hi-lo, H, W)
		return
	}
	for pl := range hi - lo { // one plane at a time, while it is in L1
		d := x[pl*H*W:][:H*W]
		clear(d)
		for i, v := range out[pl*OHW:][:OHW] {
			d[idx[pl*OHW+i]] = v
		}
	}
}
