package protocol

import (
	"math"
	"sort"
)

// Summary is the median, mean and max of per-sample values.
type Summary struct {
	Median float64 `json:"median"`
	Mean   float64 `json:"mean"`
	Max    float64 `json:"max"`
}

func summarize(v []float64) Summary {
	if len(v) == 0 {
		return Summary{math.NaN(), math.NaN(), math.NaN()}
	}
	s := Summary{Median: median(v), Max: math.Inf(-1)}
	for _, x := range v {
		s.Mean += x
		s.Max = math.Max(s.Max, x)
	}
	s.Mean /= float64(len(v))
	return s
}

// median of v (the mean of the middle two for even lengths); v is not
// modified.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// MeanStd is the mean and the sample standard deviation (ddof = 1) of v:
// std is NaN for fewer than two values, and both are NaN for none.
func MeanStd(v []float64) (mean, std float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) < 2 {
		return mean, math.NaN()
	}
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)-1))
}

// meanStd is MeanStd with std 0 for a single value, as audit.json records
// the spread over one sample or one draw.
func meanStd(v []float64) (mean, std float64) {
	mean, std = MeanStd(v)
	if len(v) == 1 {
		std = 0
	}
	return mean, std
}

// norm is the L2 norm, scaled so that neither tiny (1e-300) nor huge
// entries under- or overflow in the squares.
func norm(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = math.Max(m, math.Abs(v))
	}
	if m == 0 || math.IsInf(m, 0) || math.IsNaN(m) {
		return m
	}
	s := 0.0
	for _, v := range x {
		s += (v / m) * (v / m)
	}
	return m * math.Sqrt(s)
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// cosine returns ⟨a,b⟩/(‖a‖‖b‖) and ok = false when either vector is
// exactly zero (no clamp: tiny but non-zero norms give the exact cosine).
func cosine(a, b []float64) (float64, bool) {
	na, nb := norm(a), norm(b)
	if na == 0 || nb == 0 {
		return 0, false
	}
	// Normalise before the product so ‖a‖‖b‖ cannot underflow.
	s := 0.0
	for i := range a {
		s += (a[i] / na) * (b[i] / nb)
	}
	return s, true
}

// pearsonR is the Pearson correlation of paired samples (two passes). It
// is 0 when either variable has exactly no spread (e.g. a zero credit).
func pearsonR(x, y []float64) float64 {
	if len(x) < 2 {
		return math.NaN()
	}
	mx, _ := meanStd(x)
	my, _ := meanStd(y)
	sxy, sxx, syy := 0.0, 0.0, 0.0
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}
