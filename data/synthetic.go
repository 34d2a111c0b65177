package data

import (
	"math"
	"math/rand/v2"
)

const (
	defaultSyntheticDim   = 64
	maxSyntheticDim       = 1 << 20
	syntheticHidden       = 128
	syntheticClasses      = 10
	defaultSyntheticTrain = 10000
	defaultSyntheticTest  = 2000
	// maxSyntheticValues bounds N×D of one split (4 GiB of float32).
	maxSyntheticValues = 1 << 30

	// Second PCG words of the three independent streams.
	streamTeacher = 0x7eac4e5_0001
	streamTrain   = 0x7eac4e5_0002
	streamTest    = 0x7eac4e5_0003
)

// teacher is the fixed random MLP D→128 (tanh)→10 that labels the inputs.
type teacher struct {
	d      int
	w1, b1 []float64 // hidden×d, hidden
	w2, b2 []float64 // classes×hidden, classes
}

func newTeacher(seed uint64, d int) *teacher {
	r := rand.New(rand.NewPCG(seed, streamTeacher))
	t := &teacher{
		d:  d,
		w1: make([]float64, syntheticHidden*d),
		b1: make([]float64, syntheticHidden),
		w2: make([]float64, syntheticClasses*syntheticHidden),
		b2: make([]float64, syntheticClasses),
	}
	s1 := 1 / math.Sqrt(float64(d))
	for i := range t.w1 {
		t.w1[i] = r.NormFloat64() * s1
	}
	for i := range t.b1 {
		t.b1[i] = r.NormFloat64() * 0.1
	}
	s2 := 1 / math.Sqrt(syntheticHidden)
	for i := range t.w2 {
		t.w2[i] = r.NormFloat64() * s2
	}
	// b2 stays zero: no class is favoured a priori.
	return t
}

// label returns the argmax (first on ties) of the teacher logits for x.
// Products are rounded explicitly (float64(...)) so that no platform fuses
// them into FMA, keeping labels bit-identical across architectures as far
// as math.Tanh allows.
func (t *teacher) label(x []float32, h []float64) int32 {
	for j := range syntheticHidden {
		w := t.w1[j*t.d : (j+1)*t.d]
		s := t.b1[j]
		for i, v := range x {
			s += float64(w[i] * float64(v))
		}
		h[j] = math.Tanh(s)
	}
	best, bestV := 0, math.Inf(-1)
	for k := range syntheticClasses {
		w := t.w2[k*syntheticHidden : (k+1)*syntheticHidden]
		s := t.b2[k]
		for j, v := range h {
			s += float64(w[j] * v)
		}
		if s > bestV {
			best, bestV = k, s
		}
	}
	return int32(best)
}

func (t *teacher) split(seed, stream uint64, n int) Split {
	r := rand.New(rand.NewPCG(seed, stream))
	s := Split{X: make([]float32, n*t.d), Y: make([]int32, n), N: n}
	h := make([]float64, syntheticHidden)
	for i := range n {
		x := s.X[i*t.d : (i+1)*t.d]
		for j := range x {
			x[j] = float32(r.NormFloat64())
		}
		s.Y[i] = t.label(x, h)
	}
	return s
}

func loadSynthetic(spec string, d int, opt Options) (*Dataset, error) {
	trainN, testN := opt.TrainN, opt.TestN
	if trainN == 0 {
		trainN = defaultSyntheticTrain
	}
	if testN == 0 {
		testN = defaultSyntheticTest
	}
	if trainN > maxSyntheticValues/d {
		return nil, specErr(spec, "TrainN %d × D %d is too large (expected at most %d values per split)", trainN, d, maxSyntheticValues)
	}
	if testN > maxSyntheticValues/d {
		return nil, specErr(spec, "TestN %d × D %d is too large (expected at most %d values per split)", testN, d, maxSyntheticValues)
	}
	t := newTeacher(opt.Seed, d)
	return &Dataset{
		Name:    spec,
		Shape:   [3]int{1, 1, d},
		Classes: syntheticClasses,
		Train:   t.split(opt.Seed, streamTrain, trainN),
		Test:    t.split(opt.Seed, streamTest, testN),
		Mean:    []float64{0},
		Std:     []float64{1},
	}, nil
}
