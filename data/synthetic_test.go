package data

import (
	"hash/fnv"
	"math"
	"slices"
	"testing"
)

func hashSplit(s *Split) uint64 {
	h := fnv.New64a()
	var b [4]byte
	for _, v := range s.X {
		u := math.Float32bits(v)
		b[0], b[1], b[2], b[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
		h.Write(b[:])
	}
	for _, y := range s.Y {
		h.Write([]byte{byte(y)})
	}
	return h.Sum64()
}

func TestSyntheticShapeAndDefaults(t *testing.T) {
	for _, c := range []struct {
		spec string
		d    int
	}{{"synthetic", 64}, {"synthetic:16", 16}, {"Synthetic: 3", 3}} {
		d, err := Load(c.spec, Options{Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		if d.Name != c.spec || d.Shape != [3]int{1, 1, c.d} || d.Dim() != c.d || d.Classes != 10 ||
			d.Train.N != 10000 || d.Test.N != 2000 || len(d.Train.X) != 10000*c.d || len(d.Test.Y) != 2000 {
			t.Fatalf("%s: Name %q Shape %v Classes %d N %d/%d", c.spec, d.Name, d.Shape, d.Classes, d.Train.N, d.Test.N)
		}
		if len(d.Mean) != 1 || d.Mean[0] != 0 || len(d.Std) != 1 || d.Std[0] != 1 {
			t.Errorf("Mean %v Std %v, want [0] [1]", d.Mean, d.Std)
		}
		if m, s := meanStd(d.Train.X); !near(m, 0, 0.02) || !near(s, 1, 0.02) {
			t.Errorf("%s: inputs mean %v std %v, want ≈N(0,1)", c.spec, m, s)
		}
		h := d.Train.Histogram(10)
		present := 0
		for _, n := range h {
			if n > 0 {
				present++
			}
		}
		t.Logf("%s seed 7: train histogram %v, test %v", c.spec, h, d.Test.Histogram(10))
		if present <= 2 {
			t.Errorf("%s: only %d classes appear: %v", c.spec, present, h)
		}
		for _, y := range d.Train.Y {
			if y < 0 || y >= 10 {
				t.Fatalf("label %d out of range", y)
			}
		}
	}
}

func TestSyntheticDeterminism(t *testing.T) {
	load := func(seed uint64, trainN, testN int) *Dataset {
		d, err := Load("synthetic:32", Options{Seed: seed, TrainN: trainN, TestN: testN})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	a, b, c := load(1, 500, 100), load(1, 500, 100), load(2, 500, 100)
	if hashSplit(&a.Train) != hashSplit(&b.Train) || hashSplit(&a.Test) != hashSplit(&b.Test) {
		t.Error("same seed gave different data")
	}
	if hashSplit(&a.Train) == hashSplit(&c.Train) || hashSplit(&a.Test) == hashSplit(&c.Test) {
		t.Error("different seeds gave the same data")
	}
	diffLabels := 0
	for i := range a.Train.Y {
		if a.Train.Y[i] != c.Train.Y[i] {
			diffLabels++
		}
	}
	if diffLabels < 100 {
		t.Errorf("seeds 1 and 2 differ in only %d of 500 labels", diffLabels)
	}
	// Train and test are different draws.
	if a.Train.X[0] == a.Test.X[0] && a.Train.X[1] == a.Test.X[1] {
		t.Error("train and test start with the same inputs")
	}
	// A smaller TrainN is a prefix, and the test set does not depend on it.
	s := load(1, 50, 0)
	if s.Train.N != 50 || s.Test.N != 2000 {
		t.Fatalf("N %d/%d", s.Train.N, s.Test.N)
	}
	for i := range s.Train.X {
		if math.Float32bits(s.Train.X[i]) != math.Float32bits(a.Train.X[i]) {
			t.Fatalf("TrainN 50 is not a prefix of TrainN 500 at %d", i)
		}
	}
	for i := range a.Test.Y {
		if s.Test.Y[i] != a.Test.Y[i] || s.Test.X[i] != a.Test.X[i] {
			t.Fatalf("test split depends on TrainN/TestN at %d", i)
		}
	}
}

// TestSyntheticGolden pins the generator so that a change to it (which
// would silently change every synthetic experiment) is noticed.
func TestSyntheticGolden(t *testing.T) {
	d, err := Load("synthetic", Options{Seed: 1, TrainN: 1000, TestN: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := d.Train.Histogram(10)
	t.Logf("seed 1, 1000 samples: histogram %v, first labels %v, X[0] %v", got, d.Train.Y[:8], d.Train.X[0])
	want := []int{110, 78, 113, 104, 124, 91, 102, 88, 131, 59}
	if !slices.Equal(got, want) {
		t.Errorf("histogram %v, want %v", got, want)
	}
	if d.Train.X[0] != 0.87460774 {
		t.Errorf("X[0] = %v, want 0.87460774", d.Train.X[0])
	}
}
