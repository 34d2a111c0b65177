package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/faudit/faudit/nn"
)

// smallCNN: 2×10×9 inputs (10×9 → 5×4 → 2×2 → 1×1), widths 2, 3, 3 — with
// Residual: stage 0 an identity skip, stage 1 a projection, stage 2 an
// identity skip.
func smallCNN(t *testing.T, residual bool, act nn.Activation, seed uint64) *CNN[float64] {
	t.Helper()
	cfg := Config{Arch: "cnn", In: 2 * 10 * 9, Shape: [3]int{2, 10, 9}, Classes: 4, Act: act,
		Channels: []int{2, 3, 3}, Residual: residual}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	net, err := New[float64](cfg, rand.New(rand.NewPCG(seed, seed)))
	if err != nil {
		t.Fatal(err)
	}
	return net.(*CNN[float64])
}

// warm runs a few training-mode forwards so the running statistics (and so
// the evaluation-mode map) are not the trivial 0/1.
func warm(m *CNN[float64], rng *rand.Rand, B int) {
	for range 3 {
		x, _ := smallBatch(rng, B, m.Cfg.In, m.Cfg.Classes)
		for i := range x {
			x[i] = 2*x[i] + 0.5
		}
		m.Forward(x, B)
	}
}

func TestCNNGradient(t *testing.T) {
	for _, tc := range []struct {
		name     string
		residual bool
		act      nn.Activation
		training bool
	}{
		{"plain/eval", false, nn.ReLU, false},
		{"plain/training", false, nn.ReLU, true},
		{"residual/eval", true, nn.ReLU, false},
		{"residual/training", true, nn.ReLU, true},
		{"residual/training/gelu", true, nn.GELU, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(41, 41))
			m := smallCNN(t, tc.residual, tc.act, 42)
			if tc.residual != (m.Stages[1].Proj != nil) || m.Stages[0].Proj != nil || m.Stages[2].Proj != nil {
				t.Fatalf("projections: %v %v %v", m.Stages[0].Proj != nil, m.Stages[1].Proj != nil, m.Stages[2].Proj != nil)
			}
			warm(m, rng, 5)
			m.SetTraining(tc.training)
			// Non-trivial BN affine parameters.
			for _, st := range m.Stages {
				for c := range st.BNg.W {
					st.BNg.W[c], st.BNb.W[c] = 1+0.3*rng.NormFloat64(), 0.3*rng.NormFloat64()
				}
			}
			x, y := smallBatch(rng, 3, m.Cfg.In, m.Cfg.Classes)
			checkModel(t, tc.name, m, x, y, 3)
		})
	}
}

// Logs the worst relative error over parameters and over positions (go test
// -v), for the residual CNN in both modes.
func TestCNNGradientErrors(t *testing.T) {
	for _, training := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(43, 43))
		m := smallCNN(t, true, nn.ReLU, 44)
		warm(m, rng, 4)
		m.SetTraining(training)
		x, y := smallBatch(rng, 4, m.Cfg.In, m.Cfg.Classes)
		const h = 1e-6
		loss := func() float64 { m.Forward(x, 4); return m.Loss(y) }
		loss()
		m.Backward(y, 1)
		worstP, worstH := 0.0, 0.0
		for _, p := range m.Params() {
			ana := append([]float64(nil), p.G...)
			num := make([]float64, len(p.W))
			for i := range p.W {
				old := p.W[i]
				p.W[i] = old + h
				lp := loss()
				p.W[i] = old - h
				lm := loss()
				p.W[i] = old
				num[i] = (lp - lm) / (2 * h)
			}
			worstP = math.Max(worstP, relErr(num, ana))
		}
		loss()
		m.Backward(y, 1)
		for p := range m.Positions() {
			ana := append([]float64(nil), m.PositionGrads()[p]...)
			num := make([]float64, len(ana))
			for i := range num {
				loss()
				hp := m.Positions()[p]
				old := hp[i]
				hp[i] = old + h
				m.ForwardFrom(p)
				lp := m.Loss(y)
				hp[i] = old - h
				m.ForwardFrom(p)
				lm := m.Loss(y)
				hp[i] = old
				num[i] = (lp - lm) / (2 * h)
			}
			worstH = math.Max(worstH, relErr(num, ana))
		}
		t.Logf("training=%v: worst relative error %.2g over parameters, %.2g over positions", training, worstP, worstH)
		if !(worstP <= 1e-6 && worstH <= 1e-6) {
			t.Errorf("training=%v: relative errors %.3g, %.3g", training, worstP, worstH)
		}
	}
}

func TestCNNBackwardWithWeightsIsBackward(t *testing.T) {
	for _, residual := range []bool{false, true} {
		for _, training := range []bool{true, false} {
			rng := rand.New(rand.NewPCG(45, 45))
			m := smallCNN(t, residual, nn.ReLU, 46)
			warm(m, rng, 6)
			m.SetTraining(training)
			x, y := smallBatch(rng, 6, m.Cfg.In, m.Cfg.Classes)
			m.Forward(x, 6)
			m.Loss(y)
			m.Backward(y, 0.25)
			var wantG, wantP [][]float64
			for _, p := range m.Params() {
				wantG = append(wantG, append([]float64(nil), p.G...))
				clear(p.G)
			}
			for _, d := range m.PositionGrads() {
				wantP = append(wantP, append([]float64(nil), d...))
			}
			slots := m.Slots()
			credit := make([][]float64, 3)
			for p, w := range m.PositionWidths() {
				credit[p] = make([]float64, 6*w)
			}
			m.BackwardWith(y, 0.25, func(i int) []float64 { return slots[i].W.W }, credit)
			for i, p := range m.Params() {
				for j := range p.G {
					if p.G[j] != wantG[i][j] {
						t.Fatalf("residual=%v training=%v: %s differs from Backward", residual, training, p.Name)
					}
				}
			}
			for p := range credit {
				for j := range credit[p] {
					if credit[p][j] != wantP[p][j] {
						t.Fatalf("residual=%v training=%v: credit at position %d differs from Backward", residual, training, p)
					}
				}
			}
		}
	}
}

func TestCNNShapesNamesAndSlots(t *testing.T) {
	cfg := Config{Arch: "cnn", In: 784, Shape: [3]int{1, 28, 28}, Classes: 10, Act: nn.ReLU,
		Channels: []int{32, 64, 128}, Residual: true}
	net, err := New[float32](cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	m := net.(*CNN[float32])
	if got, want := m.PositionWidths(), []int{32 * 14 * 14, 64 * 7 * 7, 128 * 3 * 3}; !slices.Equal(got, want) {
		t.Errorf("position widths %v, want %v", got, want)
	}
	if l := m.PositionLayout(2); l != (Layout{Channels: 128, Height: 3, Width: 3}) {
		t.Errorf("layout of position 2: %+v", l)
	}
	var names []string
	n := 0
	for _, p := range m.Params() {
		names = append(names, p.Name)
		n += len(p.W)
	}
	want := "stages.0.conv.weight stages.0.bn.weight stages.0.bn.bias stages.0.proj.weight " +
		"stages.1.conv.weight stages.1.bn.weight stages.1.bn.bias stages.1.proj.weight " +
		"stages.2.conv.weight stages.2.bn.weight stages.2.bn.bias stages.2.proj.weight " +
		"fc.weight fc.bias head.weight head.bias"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("params\n%s\nwant\n%s", got, want)
	}
	// 288+64+32 + 18432+128+2048 + 73728+256+8192 + 1152·128+128 + 1290
	if wantN := 384 + 20608 + 82176 + 147584 + 1290; n != wantN {
		t.Errorf("%d parameters, want %d", n, wantN)
	}
	var bufs []string
	for _, b := range m.Buffers() {
		bufs = append(bufs, b.Name)
	}
	if got := strings.Join(bufs, " "); got != "stages.0.bn.running_mean stages.0.bn.running_var stages.1.bn.running_mean stages.1.bn.running_var stages.2.bn.running_mean stages.2.bn.running_var" {
		t.Errorf("buffers: %s", got)
	}
	var slots []string
	for _, s := range m.Slots() {
		slots = append(slots, s.W.Name)
	}
	if got := strings.Join(slots, " "); got != "head.weight fc.weight stages.1.conv.weight stages.1.proj.weight stages.2.conv.weight stages.2.proj.weight" {
		t.Errorf("slots: %s", got)
	}
	s := m.Slots()
	if s[0].Block != -1 || s[1].Block != -1 || s[2].Block != 1 || s[5].Block != 2 {
		t.Errorf("slot blocks: %d %d %d %d", s[0].Block, s[1].Block, s[2].Block, s[5].Block)
	}
	if math.Abs(s[2].Std-1/math.Sqrt(3*32*9)) > 1e-15 || s[2].Law != "uniform" || math.Abs(s[3].Std-1/math.Sqrt(3*32)) > 1e-15 {
		t.Errorf("conv slot std %v (%s), projection %v", s[2].Std, s[2].Law, s[3].Std)
	}
	// The init law of a conv: U(−1/√fan_in, 1/√fan_in), fan_in = 32·9.
	w := m.Stages[1].Conv.W
	bound, ss := 1/math.Sqrt(288), 0.0
	for _, v := range w {
		if math.Abs(float64(v)) > bound {
			t.Fatalf("conv weight %v outside ±%v", v, bound)
		}
		ss += float64(v) * float64(v)
	}
	if std := math.Sqrt(ss / float64(len(w))); math.Abs(std-s[2].Std)/s[2].Std > 0.02 {
		t.Errorf("stage 1 conv weight std %.4g, slot says %.4g", std, s[2].Std)
	}
	if !m.Training {
		t.Error("a new CNN must be in training mode")
	}
	// Without skips there are no projections.
	cfg.Residual = false
	net, _ = New[float32](cfg, rand.New(rand.NewPCG(1, 1)))
	if len(net.Slots()) != 4 || len(net.Params()) != 13 {
		t.Errorf("no skip: %d slots, %d params; want 4 and 13", len(net.Slots()), len(net.Params()))
	}
}

// Forward in training mode folds the batch statistics into the running ones
// (PyTorch's update, checked in package nn); ForwardFrom and evaluation mode
// leave them alone, and evaluation uses them.
func TestCNNRunningStatistics(t *testing.T) {
	rng := rand.New(rand.NewPCG(47, 47))
	m := smallCNN(t, true, nn.ReLU, 48)
	x, y := smallBatch(rng, 5, m.Cfg.In, m.Cfg.Classes)
	snap := func() []float64 {
		var s []float64
		for _, b := range m.Buffers() {
			s = append(s, b.W...)
		}
		return s
	}
	m.Forward(x, 5)
	st := m.Stages[0]
	// stage 0: running = 0.9·(0, 1) + 0.1·(batch mean, unbiased batch var);
	// the conv output st.a is channel-major [Co, B, H, W].
	M := 5 * st.Hgt * st.Wid
	for c := 0; c < st.Co; c++ {
		s, s2 := 0.0, 0.0
		for _, v := range st.a[c*M:][:M] {
			s += v
		}
		mean := s / float64(M)
		for _, v := range st.a[c*M:][:M] {
			s2 += (v - mean) * (v - mean)
		}
		if rm, want := st.RunMean.W[c], 0.1*mean; math.Abs(rm-want) > 1e-12 {
			t.Errorf("running mean[%d] = %v, want %v", c, rm, want)
		}
		if rv, want := st.RunVar.W[c], 0.9+0.1*s2/float64(M-1); math.Abs(rv-want) > 1e-12 {
			t.Errorf("running var[%d] = %v, want %v", c, rv, want)
		}
	}
	before := snap()
	m.ForwardFrom(0)
	m.ForwardFrom(1)
	m.SetTraining(false)
	m.Forward(x, 5)
	l1 := m.Loss(y)
	after := snap()
	for i := range before {
		if before[i] != after[i] {
			t.Fatal("ForwardFrom or an evaluation-mode Forward changed the running statistics")
		}
	}
	// Evaluation is per-sample: a sample's logits do not depend on the batch.
	logits := append([]float64(nil), m.Logits...)
	m.Forward(x[2*m.Cfg.In:], 1)
	for j := 0; j < m.Cfg.Classes; j++ {
		if math.Abs(m.Logits[j]-logits[2*m.Cfg.Classes+j]) > 1e-12 {
			t.Fatalf("evaluation mode: sample 2's logits depend on the batch")
		}
	}
	m.SetTraining(true)
	m.Forward(x, 5)
	if l2 := m.Loss(y); l1 == l2 {
		t.Error("training and evaluation mode gave the same loss")
	}
}

func TestCNNValidate(t *testing.T) {
	base := Config{Arch: "cnn", In: 784, Shape: [3]int{1, 28, 28}, Classes: 10, Act: nn.ReLU, Channels: []int{32, 64, 128}}
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Channels = []int{32, 64} }, "--channels"},
		{func(c *Config) { c.Channels = []int{32, 0, 8} }, "--channels"},
		{func(c *Config) { c.Shape = [3]int{1, 28, 27} }, "does not match"},
		{func(c *Config) { c.Shape, c.In = [3]int{1, 1, 64}, 64 }, "too small"},
	} {
		c := base
		c.Channels = append([]int(nil), base.Channels...)
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: error %v, want one line containing %q", c, err, tc.want)
		}
	}
	noShape := base
	noShape.Shape = [3]int{}
	if err := noShape.Validate(); err != nil {
		t.Errorf("shape-dependent checks must be skipped without a shape: %v", err)
	}
	if _, err := New[float64](noShape, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("a CNN without an input shape was built")
	}
	if err := base.Validate(); err != nil {
		t.Error(err)
	}
}
