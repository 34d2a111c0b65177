package nn

import (
	"math"

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
		for i, v := range x {
			out[i] = max(v, 0)
		}
	case GELU:
		parallel.For(len(x), len(x)*24, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				out[i] = T(gelu(float64(x[i])))
			}
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
		reluBackward(dx, dout, x)
	case GELU:
		parallel.For(len(x), len(x)*32, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				dx[i] = dout[i] * T(geluGrad(float64(x[i])))
			}
		})
	default:
		panic("nn: unknown activation " + string(act))
	}
}

// reluBackward sets dx = dout where x > 0 and +0 elsewhere, without a
// branch (the sign of x is a coin flip, and mispredictions cost more than the
// arithmetic): for the bit pattern s of x read as a signed integer, x > 0
// exactly when s > 0, and ((−s) & ^s) has its sign bit set exactly then
// (−0.0, whose s is the minimum integer, included).
func reluBackward[T Float](dx, dout, x []T) {
	switch x := any(x).(type) {
	case []float32:
		dx, dout := any(dx).([]float32)[:len(x)], any(dout).([]float32)[:len(x)]
		for i, v := range x {
			s := int32(math.Float32bits(v))
			mask := uint32(((-s) & ^s) >> 31)
			dx[i] = math.Float32frombits(math.Float32bits(dout[i]) & mask)
		}
	case []float64:
		dx, dout := any(dx).([]float64)[:len(x)], any(dout).([]float64)[:len(x)]
		for i, v := range x {
			s := int64(math.Float64bits(v))
			mask := uint64(((-s) & ^s) >> 63)
			dx[i] = math.Float64frombits(math.Float64bits(dout[i]) & mask)
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
