package nn

import (
	"sync"

	"github.com/faudit/faudit/internal/blas"
	"github.com/faudit/faudit/internal/parallel"
)

// Conv2dDims are the sizes of a 2-D convolution over an NCHW batch: input
// [N, Cin, H, W], weight [Cout, Cin, KH, KW] (PyTorch's layout), output
// [N, Cout, OutH, OutW], with Pad zeros on every side and stride Stride
// (0 means 1).
//
// With ChannelMajorOut the output (and the dout of the backward pass) is
// [Cout, N, OutH, OutW] instead, the layout the GEMM produces: this spares a
// copy, and BatchNorm2d reads it as [1, Cout, N·OutH·OutW]. The input (and
// dinp) stay NCHW.
type Conv2dDims struct {
	N, Cin, H, W    int
	Cout, KH, KW    int
	Pad, Stride     int
	ChannelMajorOut bool
}

func (d Conv2dDims) stride() int { return max(d.Stride, 1) }

// OutH and OutW are the output height and width (floor, as PyTorch).
func (d Conv2dDims) OutH() int { return (d.H+2*d.Pad-d.KH)/d.stride() + 1 }
func (d Conv2dDims) OutW() int { return (d.W+2*d.Pad-d.KW)/d.stride() + 1 }

// How the work is split: the batch into parts, one per processor (parallel.Procs,
// at most N; one for small problems), and each part's samples into chunks
// that are im2col'd and multiplied together, the chunk's im2col matrix
// (about colBudget entries, at least one sample) staying in the core's cache
// between the two. colBudget is a variable so tests can force many chunks.
var colBudget = 1 << 17

func (d Conv2dDims) k() int   { return d.Cin * d.KH * d.KW }
func (d Conv2dDims) ohw() int { return d.OutH() * d.OutW() }

func (d Conv2dDims) parts() int {
	return parallel.Parts(d.N, d.N*d.ohw()*d.k()*d.Cout, 1<<17)
}

func (d Conv2dDims) chunk() int {
	return min(max(colBudget/max(d.k()*d.ohw(), 1), 1), max(d.N, 1))
}

// perPart is the scratch one part uses: its im2col matrix and, for NCHW
// output, its output in channel-major order; and (backward, more than one
// part) its partial weight gradient.
func (d Conv2dDims) perPart() int {
	n := d.chunk() * d.ohw() * d.k()
	if !d.ChannelMajorOut {
		n += d.chunk() * d.ohw() * d.Cout
	}
	if d.parts() > 1 {
		n += d.Cout * d.k()
	}
	return n
}

// Conv2dWorkspace is the length of the scratch buffer Conv2dForward and
// Conv2dBackward need for d (with the current GOMAXPROCS).
func Conv2dWorkspace(d Conv2dDims) int { return d.parts() * d.perPart() }

// Conv2dForward: out[N,Cout,OH,OW] = inp[N,Cin,H,W] ⋆ w[Cout,Cin,KH,KW] + b[Cout]
// (cross-correlation, as PyTorch's Conv2d; out is [Cout,N,OH,OW] with
// d.ChannelMajorOut), by im2col and one GEMM per chunk of samples; ws is
// scratch of length Conv2dWorkspace(d). b may be nil.
func Conv2dForward[T Float](out, inp, w, b, ws []T, d Conv2dDims) {
	runConv(convJob[T]{d: d, out: out, inp: inp, w: w, b: b, ws: ws})
}

// Conv2dBackward, given dout[N,Cout,OH,OW] ([Cout,N,OH,OW] with
// d.ChannelMajorOut) and the forward input inp[N,Cin,H,W]:
// dw[Cout,Cin,KH,KW] = Σ_n dout_n ⋆ inp_n, db[Cout] = Σ_{n,oh,ow} dout (in
// float64), and dinp[N,Cin,H,W], the error carried back to the input through
// feedback[Cout,Cin,KH,KW] (the transposed convolution): the weight itself
// for backpropagation, a stand-in (a fixed random kernel of the same shape,
// …) for the feedback-alignment family — as LinearBackward. Any of dinp,
// dw, db may be nil to skip it; ws is scratch of length Conv2dWorkspace(d).
func Conv2dBackward[T Float](dinp, dw, db, dout, inp, feedback, ws []T, d Conv2dDims) {
	if db != nil {
		j := convBiasGradJob[T]{db: db, dout: dout, d: d}
		runJob[T, convBiasGradJob[T]](&convBiasGradJobs, j, d.Cout, d.N*d.Cout*d.ohw())
	}
	if dinp == nil && dw == nil {
		return
	}
	P := runConv(convJob[T]{d: d, backward: true, dinp: dinp, dw: dw, dout: dout, inp: inp, w: feedback, ws: ws})
	if dw != nil && P > 1 { // sum the parts' partial weight gradients, in order
		n := d.Cout * d.k()
		j := convGradSumJob[T]{dw: dw, ws: ws, per: d.perPart(), n: n, sums: P}
		runJob[T, convGradSumJob[T]](&convGradSumJobs, j, n, n*P)
	}
}

// convBiasGradJob is db[Cout] = Σ_{n,oh,ow} dout, split over the channels.
type convBiasGradJob[T Float] struct {
	db, dout []T
	d        Conv2dDims
	parts    int
}

var convBiasGradJobs jobPool

func (j *convBiasGradJob[T]) setParts(p int) { j.parts = p }

// Run is part p: a block of channels, each summed over the batch in order.
func (j *convBiasGradJob[T]) Run(p int) {
	d, OHW := j.d, j.d.ohw()
	lo, hi := rowBlock(p, j.parts, d.Cout)
	for c := lo; c < hi; c++ {
		s := 0.0
		for n := 0; n < d.N; n++ {
			off := (n*d.Cout + c) * OHW
			if d.ChannelMajorOut {
				off = (c*d.N + n) * OHW
			}
			s += blas.Sum64(j.dout[off:][:OHW])
		}
		j.db[c] = T(s)
	}
}

// convGradSumJob is dw[n] = Σ_q the partial weight gradient of part q, in
// part order: the last n entries of each part's scratch (per entries) in ws.
// Split over the entries of dw.
type convGradSumJob[T Float] struct {
	dw, ws              []T
	per, n, sums, parts int
}

var convGradSumJobs jobPool

func (j *convGradSumJob[T]) setParts(p int) { j.parts = p }

func (j *convGradSumJob[T]) Run(p int) {
	lo, hi := rowBlock(p, j.parts, j.n)
	per, n := j.per, j.n
	dw := j.dw[lo:hi]
	copy(dw, j.ws[per-n+lo:per-n+hi])
	for q := 1; q < j.sums; q++ {
		blas.Add(dw, dw, j.ws[(q+1)*per-n+lo:][:hi-lo])
	}
}

// convJob is one forward or backward convolution, split over the batch.
type convJob[T Float] struct {
	d                  Conv2dDims
	backward           bool
	parts              int
	out, inp, w, b, ws []T // forward (w is the feedback kernel backward)
	dinp, dw, dout     []T // backward
}

// Jobs handed to the helpers are recycled, so a convolution allocates
// nothing.
var convJobs32, convJobs64 = sync.Pool{New: func() any { return new(convJob[float32]) }},
	sync.Pool{New: func() any { return new(convJob[float64]) }}

// runConv runs j over its parts and returns their number.
func runConv[T Float](j convJob[T]) int {
	P := j.d.parts()
	if len(j.ws) < P*j.d.perPart() {
		panic("nn: convolution workspace shorter than Conv2dWorkspace")
	}
	j.parts = P
	if P == 1 {
		j.Run(0)
		return 1
	}
	var pool *sync.Pool
	switch any(*new(T)).(type) {
	case float32:
		pool = &convJobs32
	case float64:
		pool = &convJobs64
	}
	if pool == nil { // a named float type
		pj := new(convJob[T])
		*pj = j
		parallel.Run(P, pj)
		return P
	}
	pj := pool.Get().(*convJob[T])
	*pj = j
	parallel.Run(P, pj)
	*pj = convJob[T]{}
	pool.Put(pj)
	return P
}

// Run does samples [p·N/parts, (p+1)·N/parts) in chunks.
func (j *convJob[T]) Run(p int) {
	d := j.d
	OHW, K, Co := d.ohw(), d.k(), d.Cout
	per := d.perPart()
	ws := j.ws[p*per : (p+1)*per]
	dw := j.dw
	if j.parts > 1 && dw != nil {
		dw = ws[per-Co*K:]
	}
	nc := d.chunk()
	first := true
	for n0, end := p*d.N/j.parts, (p+1)*d.N/j.parts; n0 < end; n0 += nc {
		n1 := min(n0+nc, end)
		P := (n1 - n0) * OHW
		col := ws[:K*P]
		var tmp []T // NCHW output: the chunk's output channel-major
		if !d.ChannelMajorOut {
			tmp = ws[K*P : K*P+Co*P]
		}
		if !j.backward {
			im2col(col, j.inp, d, n0, n1)
			if d.ChannelMajorOut { // straight into out's columns n0·OHW … n1·OHW
				blas.Gemm(false, false, Co, P, K, 1, j.w, K, col, P, 0, j.out[n0*OHW:], d.N*OHW)
				if j.b != nil {
					for c := 0; c < Co; c++ {
						row, bc := j.out[c*d.N*OHW+n0*OHW:][:P], j.b[c]
						for i := range row {
							row[i] += bc
						}
					}
				}
				continue
			}
			blas.Gemm(false, false, Co, P, K, 1, j.w, K, col, P, 0, tmp, P)
			for n := n0; n < n1; n++ { // tmp is [Cout, chunk·OHW]; out is [N, Cout, OHW]
				for c := 0; c < Co; c++ {
					src, dst := tmp[c*P+(n-n0)*OHW:][:OHW], j.out[(n*Co+c)*OHW:][:OHW]
					if j.b == nil {
						copy(dst, src)
						continue
					}
					bc := j.b[c]
					for i, v := range src {
						dst[i] = v + bc
					}
				}
			}
			continue
		}
		// dcm is the chunk's dout in channel-major order, [Cout, chunk·OHW]
		// with leading dimension ld.
		dcm, ld := j.dout[n0*OHW:], d.N*OHW
		if !d.ChannelMajorOut {
			for n := n0; n < n1; n++ {
				for c := 0; c < Co; c++ {
					copy(tmp[c*P+(n-n0)*OHW:][:OHW], j.dout[(n*Co+c)*OHW:][:OHW])
				}
			}
			dcm, ld = tmp, P
		}
		if dw != nil {
			im2col(col, j.inp, d, n0, n1)
			beta := T(1)
			if first {
				beta = 0
			}
			blas.Gemm(false, true, Co, K, P, 1, dcm, ld, col, P, beta, dw, K)
		}
		if j.dinp != nil {
			blas.Gemm(true, false, K, P, Co, 1, j.w, K, dcm, ld, 0, col, P)
			col2im(j.dinp, col, d, n0, n1)
		}
		first = false
	}
	if first && dw != nil { // a part without samples
		clear(dw[:Co*K])
	}
}

// im2col fills col[K, P] (K = Cin·KH·KW rows ordered like the weight's
// columns, P = (n1−n0)·OH·OW) for samples n0 … n1−1:
// col[(ci,ki,kj), (n,oh,ow)] = inp[n, ci, oh·s−pad+ki, ow·s−pad+kj], zero
// outside the image.
func im2col[T Float](col, inp []T, d Conv2dDims, n0, n1 int) {
	OH, OW := d.OutH(), d.OutW()
	OHW, HW, KK, s := OH*OW, d.H*d.W, d.KH*d.KW, d.stride()
	K, P := d.Cin*KK, (n1-n0)*OH*OW
	same := s == 1 && OW == d.W // then output row oh, column ow reads input entry oh·W+ow + a shift
	for k := 0; k < K; k++ {
		ci, ki, kj := k/KK, (k%KK)/d.KW, k%d.KW
		lo, hi := validRange(OW, d.W, kj-d.Pad, s)
		ohLo, ohHi := validRange(OH, d.H, ki-d.Pad, s)
		row := col[k*P:][:P]
		for n := n0; n < n1; n++ {
			plane := inp[(n*d.Cin+ci)*HW:][:HW]
			dst := row[(n-n0)*OHW:][:OHW]
			if same {
				// One copy for the valid rows (what it brings in across a
				// row's end lands in the edge columns, zeroed next).
				shift := (ki-d.Pad)*d.W + kj - d.Pad
				a := min(max(ohLo*OW, -shift, 0), OHW)
				b := max(min(ohHi*OW, HW-shift, OHW), a)
				clear(dst[:a])
				if a < b {
					copy(dst[a:b], plane[a+shift:b+shift])
				}
				clear(dst[b:])
				if lo > 0 || hi < OW {
					zeroEdges(dst, OW, ohLo, ohHi, lo, hi)
				}
				continue
			}
			for oh := 0; oh < OH; oh++ {
				r := dst[oh*OW:][:OW]
				if oh < ohLo || oh >= ohHi || lo == hi {
					clear(r)
					continue
				}
				src := plane[(oh*s-d.Pad+ki)*d.W:][:d.W]
				clear(r[:lo])
				if off := kj - d.Pad; s == 1 {
					copy(r[lo:hi], src[lo+off:hi+off])
				} else {
					for ow := lo; ow < hi; ow++ {
						r[ow] = src[ow*s+off]
					}
				}
				clear(r[hi:])
			}
		}
	}
}

// zeroEdges zeroes columns [0, lo) and [hi, OW) of rows [ohLo, ohHi) of
// x [·, OW], element by element (a clear call per pad column costs more).
func zeroEdges[T Float](x []T, OW, ohLo, ohHi, lo, hi int) {
	for oh := ohLo; oh < ohHi; oh++ {
		r := x[oh*OW:][:OW]
		for i := 0; i < lo; i++ {
			r[i] = 0
		}
		for i := hi; i < OW; i++ {
			r[i] = 0
		}
	}
}

// validRange is the range [lo, hi) of ow in [0, n) with 0 ≤ ow·s + off < w.
func validRange(n, w, off, s int) (lo, hi int) {
	if off < 0 {
		lo = (-off + s - 1) / s
	}
	if w-off > 0 {
		hi = (w - off + s - 1) / s
	}
	hi = min(hi, n)
	lo = min(lo, hi)
	return lo, hi
}

// col2im is im2col's adjoint: dinp[N,Cin,H,W] (samples n0 … n1−1,
// overwritten) = Σ over the entries of dcol[K, P] that im2col copied from
// each input element, in a fixed order (k = 0 … K−1). It zeroes the entries
// of dcol that read padding (dcol is scratch).
func col2im[T Float](dinp, dcol []T, d Conv2dDims, n0, n1 int) {
	OH, OW := d.OutH(), d.OutW()
	OHW, HW, KK := OH*OW, d.H*d.W, d.KH*d.KW
	K, P, s := d.Cin*KK, (n1-n0)*OH*OW, d.stride()
	same := s == 1 && OW == d.W // then output entry oh·W+ow reads input entry oh·W+ow + a shift
	clear(dinp[n0*d.Cin*HW : n1*d.Cin*HW])
	for n := n0; n < n1; n++ {
		for k := 0; k < K; k++ {
			ci, ki, kj := k/KK, (k%KK)/d.KW, k%d.KW
			plane := dinp[(n*d.Cin+ci)*HW:][:HW]
			src := dcol[k*P+(n-n0)*OHW:][:OHW]
			off := kj - d.Pad
			lo, hi := validRange(OW, d.W, off, s)
			if lo == hi {
				continue
			}
			ohLo, ohHi := validRange(OH, d.H, ki-d.Pad, s)
			if same {
				// One add over the valid rows, as im2col's one copy: the
				// entries of the edge columns, which would land across a
				// row's end, are zeroed first.
				if lo > 0 || hi < OW {
					zeroEdges(src, OW, ohLo, ohHi, lo, hi)
				}
				shift := (ki-d.Pad)*d.W + off
				a := min(max(ohLo*OW, -shift, 0), OHW)
				b := max(min(ohHi*OW, HW-shift, OHW), a)
				if a < b {
					dd := plane[a+shift : b+shift]
					blas.Add(dd, dd, src[a:b])
				}
				continue
			}
			for oh := ohLo; oh < ohHi; oh++ {
				ih := oh*s - d.Pad + ki
				r, dst := src[oh*OW:][:OW], plane[ih*d.W:][:d.W]
				if s == 1 {
					dd := dst[lo+off : hi+off]
					for i, v := range r[lo:hi] {
						dd[i] += v
					}
				} else {
					for ow := lo; ow < hi; ow++ {
						dst[ow*s+off] += r[ow]
					}
				}
			}
		}
	}
}
