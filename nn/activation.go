package nn

import (
	"github.com/faudit/faudit/internal/blas"
	"github.com/faudit/faudit/internal/parallel"
)

// Activation names an element-wise nonlinearity.
type Activation string

const (
	ReLU Activation = "relu"
	GELU Activation = "gelu" // tanh form, with a rational tanh (see fastTanh)
)

// ActForward: out[N] = act(x[N]).
func ActForward[T Float](act Activation, out, x []T) {
	switch act {
	case ReLU:
		if parallel.Parts(len(x), len(x)/8, parallel.MinWork) <= 1 {
			blas.ReLU(out, x)
			return
		}
		parallel.For(len(x), len(x)/8, func(lo, hi int) { blas.ReLU(out[lo:hi], x[lo:hi]) })
	case GELU:
		parallel.For(len(x), len(x)*24, func(lo, hi int) {
			geluChunks(out, nil, x, lo, hi)
		})
	default:
		panic("nn: unknown activation " + string(act))
	}
}

// ActBackward: dx[N] = dout[N]·act'(x[N]), where x is the forward input.
// dx may alias dout.
func ActBackward[T Float](act Activation, dx, dout, x []T) {
	switch act {
	case ReLU:
		if parallel.Parts(len(x), len(x)/8, parallel.MinWork) <= 1 {
			blas.ReLUGrad(dx, dout, x)
			return
		}
		parallel.For(len(x), len(x)/8, func(lo, hi int) { blas.ReLUGrad(dx[lo:hi], dout[lo:hi], x[lo:hi]) })
	case GELU:
		parallel.For(len(x), len(x)*32, func(lo, hi int) {
			geluChunks(dx, dout, x, lo, hi)
		})
	default:
		panic("nn: unknown activation " + string(act))
	}
}

// chunk is the length of the float64 buffer GELU works in. Converting each
// float32 straight into the argument register of gelu would make every
// element wait for the previous one (CVTSS2SD merges into its destination
// register, which holds the previous result), serialising the whole
// polynomial chain; converting a chunk first keeps the elements independent.
const chunk = 256

// geluChunks sets dst[i] = gelu(x[i]) for i in [lo, hi) or, when dout is
// non-nil, dst[i] = dout[i]·gelu'(x[i]), working in float64 chunks.
func geluChunks[T Float](dst, dout, x []T, lo, hi int) {
	var buf [chunk]float64
	for i0 := lo; i0 < hi; i0 += chunk {
		xs := x[i0:min(i0+chunk, hi)]
		b := buf[:len(xs)]
		for j, v := range xs {
			b[j] = float64(v)
		}
		if dout == nil {
			for j, v := range b {
				dst[i0+j] = T(gelu(v))
			}
			continue
		}
		for j, v := range b {
			dst[i0+j] = dout[i0+j] * T(geluGrad(v))
		}
	}
}

const (
	sqrt2OverPi = 0.7978845608028654
	geluCubic   = 0.044715
)

// gelu(x) = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), PyTorch's
// approximate='tanh' form, with tanh from fastTanh (absolute error ≤ 3e-7).
func gelu(x float64) float64 {
	t, _ := fastTanh(sqrt2OverPi * (x + geluCubic*x*x*x))
	return 0.5 * x * (1 + t)
}

// geluGrad is the exact derivative of gelu as computed above (so finite
// differences of the forward agree with it to float64 precision).
func geluGrad(x float64) float64 {
	t, dt := fastTanh(sqrt2OverPi * (x + geluCubic*x*x*x))
	return 0.5*(1+t) + 0.5*x*dt*sqrt2OverPi*(1+3*geluCubic*x*x)
}

// Rational minimax approximation of tanh on [−c, c] (Eigen's coefficients;
// |error| ≤ 2.6e-7 against math.Tanh, checked in a test); constant beyond c.
const (
	th1, th3, th5, th7     = 4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05, 5.12229709037114e-08
	th9, th11, th13        = -8.60467152213735e-11, 2.00018790482477e-13, -2.76076847742355e-16
	thb0, thb2, thb4, thb6 = 4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04, 1.19825839466702e-06
	tanhClamp              = 7.90531110763549805
)

// fastTanh returns t ≈ tanh(x) and the exact derivative dt/dx of the
// approximation: t = x·P(x²)/Q(x²).
func fastTanh(x float64) (t, dt float64) {
	if x > tanhClamp || x < -tanhClamp {
		x = min(max(x, -tanhClamp), tanhClamp)
		s := x * x
		return x * poly(s) / qpoly(s), 0
	}
	s := x * x
	p, q := poly(s), qpoly(s)
	dp := th3 + s*(2*th5+s*(3*th7+s*(4*th9+s*(5*th11+s*6*th13))))
	dq := thb2 + s*(2*thb4+s*3*thb6)
	return x * p / q, ((p+2*s*dp)*q - 2*s*p*dq) / (q * q)
}

func poly(s float64) float64 {
	return th1 + s*(th3+s*(th5+s*(th7+s*(th9+s*(th11+s*th13)))))
}

func qpoly(s float64) float64 { return thb0 + s*(thb2+s*(thb4+s*thb6)) }
