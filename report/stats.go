package report

import (
	"math"
	"sort"

	"github.com/faudit/faudit/protocol"
)

// Stat summarises one quantity over the seeds of a group. Mean is the
// arithmetic mean, or the geometric mean for quantities that span orders of
// magnitude (norms, growth ratios, relative errors; Geometric says which).
// Std is the sample standard deviation (ddof = 1) of the values, NaN with
// fewer than two values or for geometric means. Values that are NaN are
// left out; N counts the rest.
type Stat struct {
	Mean      float64 `json:"mean"`
	Std       float64 `json:"std"`
	Min       float64 `json:"min"`
	Max       float64 `json:"max"`
	N         int     `json:"n"`
	Geometric bool    `json:"geometric,omitempty"`
}

// finite drops NaN values (±Inf are kept: a growth can be infinite).
func finite(v []float64) []float64 {
	out := make([]float64, 0, len(v))
	for _, x := range v {
		if !math.IsNaN(x) {
			out = append(out, x)
		}
	}
	return out
}

func minMax(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// meanStd is the arithmetic mean and the sample std (ddof = 1) of the
// values that are not NaN, with their range.
func meanStd(values []float64) Stat {
	v := finite(values)
	s := Stat{Min: math.NaN(), Max: math.NaN(), N: len(v)}
	s.Mean, s.Std = protocol.MeanStd(v)
	if len(v) > 0 {
		s.Min, s.Max = minMax(v)
	}
	return s
}

// geoMean is the geometric mean of positive values (a zero gives 0, +Inf
// gives +Inf; negative values make it NaN).
func geoMean(values []float64) Stat {
	v := finite(values)
	s := Stat{Mean: math.NaN(), Std: math.NaN(), Min: math.NaN(), Max: math.NaN(), N: len(v), Geometric: true}
	if len(v) == 0 {
		return s
	}
	s.Min, s.Max = minMax(v)
	sum := 0.0
	for _, x := range v {
		sum += math.Log(x)
	}
	s.Mean = math.Exp(sum / float64(len(v)))
	return s
}

// ranks gives each value its rank, 1 = best (the largest when higherBetter,
// else the smallest); tied values share the mean of their ranks; NaN values
// get rank NaN and are not counted.
func ranks(values []float64, higherBetter bool) []float64 {
	idx := make([]int, 0, len(values))
	for i, v := range values {
		if !math.IsNaN(v) {
			idx = append(idx, i)
		}
	}
	better := func(a, b float64) bool {
		if higherBetter {
			return a > b
		}
		return a < b
	}
	sort.SliceStable(idx, func(i, j int) bool { return better(values[idx[i]], values[idx[j]]) })
	out := nans(len(values))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && values[idx[j+1]] == values[idx[i]] {
			j++
		}
		r := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			out[idx[k]] = r
		}
		i = j + 1
	}
	return out
}

// kendallTau is Kendall's τ_b between paired values (pairs with a NaN are
// left out), and the number of discordant pairs among the m compared. τ_b
// is NaN with fewer than two pairs or when either side is constant.
func kendallTau(x, y []float64) (tau float64, discordant, pairs int) {
	var a, b []float64
	for i := range x {
		if !math.IsNaN(x[i]) && !math.IsNaN(y[i]) {
			a, b = append(a, x[i]), append(b, y[i])
		}
	}
	n := len(a)
	var concordant, tiesX, tiesY int
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			dx, dy := sign(a[i]-a[j]), sign(b[i]-b[j])
			pairs++
			switch {
			case dx == 0 && dy == 0:
				tiesX++
				tiesY++
			case dx == 0:
				tiesX++
			case dy == 0:
				tiesY++
			case dx == dy:
				concordant++
			default:
				discordant++
			}
		}
	}
	den := math.Sqrt(float64(pairs-tiesX) * float64(pairs-tiesY))
	if n < 2 || den == 0 {
		return math.NaN(), discordant, pairs
	}
	return float64(concordant-discordant) / den, discordant, pairs
}

func sign(x float64) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// minMaxNormalise maps values to [0, 1] with 1 = best; a constant column
// maps to 0.5 and NaN stays NaN.
func minMaxNormalise(values []float64, higherBetter bool) []float64 {
	lo, hi := minMax(finite(values))
	out := make([]float64, len(values))
	for i, v := range values {
		switch {
		case math.IsNaN(v):
			out[i] = math.NaN()
		case hi == lo:
			out[i] = 0.5
		case higherBetter:
			out[i] = (v - lo) / (hi - lo)
		default:
			out[i] = (hi - v) / (hi - lo)
		}
	}
	return out
}
