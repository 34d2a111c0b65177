package blas

// GELU, tanh form (PyTorch's approximate='tanh'), with a rational tanh:
//
//	gelu(x) = ½·x·(1 + t(u)),  u = √(2/π)·(x + 0.044715·x³),  t = fastTanh
//
// computed in float64 whatever T is, and its exact derivative (the
// derivative of the approximation, so finite differences of the forward
// agree with it to float64 precision). The Go code here is the definition;
// under cgo an AVX2 loop (vec_cgo.go) computes the same operations in the
// same order, without fused multiply-adds, so both give the same bits.
// Every product below is wrapped in float64(·), which keeps the compiler
// from fusing it into a multiply-add (GOAMD64=v3 would otherwise).

const (
	Sqrt2OverPi = 0.7978845608028654
	GELUCubic   = 0.044715
	geluCubic3  = 0.134145 // 3·GELUCubic
)

// Rational minimax approximation of tanh on [−c, c] (Eigen's coefficients;
// |error| ≤ 2.6e-7 against math.Tanh, checked in nn's tests); constant
// beyond c. The dt* constants are the derivative's coefficients k·th(2k+1)
// and k·thb(2k), written out so that C and Go round the same decimals.
const (
	th1, th3, th5, th7     = 4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05, 5.12229709037114e-08
	th9, th11, th13        = -8.60467152213735e-11, 2.00018790482477e-13, -2.76076847742355e-16
	thb0, thb2, thb4, thb6 = 4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04, 1.19825839466702e-06
	dth5, dth7, dth9       = 2.97144471435958e-05, 1.536689127111342e-07, -3.44186860885494e-10 // 2·th5, 3·th7, 4·th9
	dth11, dth13           = 1.000093952412385e-12, -1.65646108645413e-15                       // 5·th11, 6·th13
	dthb4, dthb6           = 2.37069411373308e-04, 3.59477518400106e-06                         // 2·thb4, 3·thb6
	tanhClamp              = 7.90531110763549805
)

// FastTanh returns t ≈ tanh(x) and the exact derivative dt/dx of the
// approximation t = x·P(x²)/Q(x²) (dt = 0 beyond the clamp).
func FastTanh(x float64) (t, dt float64) {
	clamped := x > tanhClamp || x < -tanhClamp
	if clamped {
		x = min(max(x, -tanhClamp), tanhClamp)
	}
	s := float64(x * x)
	p := th1 + float64(s*(th3+float64(s*(th5+float64(s*(th7+float64(s*(th9+float64(s*(th11+float64(s*th13)))))))))))
	q := thb0 + float64(s*(thb2+float64(s*(thb4+float64(s*thb6)))))
	t = float64(x*p) / q
	if clamped {
		return t, 0
	}
	dp := th3 + float64(s*(dth5+float64(s*(dth7+float64(s*(dth9+float64(s*(dth11+float64(s*dth13)))))))))
	dq := thb2 + float64(s*(dthb4+float64(s*dthb6)))
	s2 := s + s
	num := float64((p+float64(s2*dp))*q) - float64(float64(s2*p)*dq)
	return t, num / float64(q*q)
}

// geluArg is u = √(2/π)·(x + 0.044715·x³).
func geluArg(x float64) float64 {
	return float64(Sqrt2OverPi * (x + float64(float64(float64(GELUCubic*x)*x)*x)))
}

// GELU1 is gelu(x).
func GELU1(x float64) float64 {
	t, _ := FastTanh(geluArg(x))
	return float64(0.5*x) * (1 + t)
}

// geluGrad1 is gelu'(x) = ½(1 + t) + ½·x·t'(u)·√(2/π)·(1 + 3·0.044715·x²).
func geluGrad1(x float64) float64 {
	t, dt := FastTanh(geluArg(x))
	du := float64(Sqrt2OverPi * (1 + float64(float64(geluCubic3*x)*x)))
	return float64(0.5*(1+t)) + float64(float64(float64(0.5*x)*dt)*du)
}

// GELU: out[i] = T(gelu(x[i])). out may alias x.
func GELU[T Float](out, x []T) {
	out = out[:len(x)]
	if len(x) >= minVec && vecGELU(out, x) {
		return
	}
	geluGo(out, x)
}

// GELUGrad: dx[i] = dout[i]·T(gelu'(x[i])) (the product in T). dx may alias
// dout.
func GELUGrad[T Float](dx, dout, x []T) {
	dx, dout = dx[:len(x)], dout[:len(x)]
	if len(x) >= minVec && vecGELUGrad(dx, dout, x) {
		return
	}
	geluGradGo(dx, dout, x)
}

// The Go loops convert a chunk of x to float64 before the polynomial work:
// converting each float32 straight into the argument register would make
// every element wait for the previous one (CVTSS2SD merges into its
// destination register), serialising the whole chain.
const geluChunk = 256

func geluGo[T Float](out, x []T) {
	var buf [geluChunk]float64
	for i0 := 0; i0 < len(x); i0 += geluChunk {
		b := toFloat64(&buf, x[i0:min(i0+geluChunk, len(x))])
		o := out[i0:][:len(b)]
		for j, v := range b {
			o[j] = T(GELU1(v))
		}
	}
}

func geluGradGo[T Float](dx, dout, x []T) {
	var buf [geluChunk]float64
	for i0 := 0; i0 < len(x); i0 += geluChunk {
		b := toFloat64(&buf, x[i0:min(i0+geluChunk, len(x))])
		d, o := dout[i0:][:len(b)], dx[i0:][:len(b)]
		for j, v := range b {
			o[j] = d[j] * T(geluGrad1(v))
		}
	}
}

// toFloat64 converts the chunk xs into buf and returns it as a slice.
func toFloat64[T Float](buf *[geluChunk]float64, xs []T) []float64 {
	b := buf[:len(xs)]
	for j, v := range xs {
		b[j] = float64(v)
	}
	return b
}
