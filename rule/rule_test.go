package rule

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/nn"
)

func nets(t *testing.T) map[string]func() model.Network[float64] {
	return map[string]func() model.Network[float64]{
		"resmlp": func() model.Network[float64] {
			cfg := model.Config{Arch: "resmlp", In: 12, Classes: 5, Act: nn.ReLU, D: 16, Hidden: 24, Blocks: 3,
				TerminalLN: true, Residual: true, W2Std: 0.01}
			return model.NewResMLP[float64](cfg, rand.New(rand.NewPCG(1, 1)))
		},
		"resmlp-noLN": func() model.Network[float64] {
			cfg := model.Config{Arch: "resmlp", In: 12, Classes: 5, Act: nn.GELU, D: 16, Hidden: 16, Blocks: 2,
				TerminalLN: false, Residual: true, W2Std: 0.01}
			return model.NewResMLP[float64](cfg, rand.New(rand.NewPCG(1, 1)))
		},
		"mlp": func() model.Network[float64] {
			cfg := model.Config{Arch: "mlp", In: 12, Classes: 5, Act: nn.ReLU, HiddenLayers: []int{20, 18, 16}}
			return model.NewMLP[float64](cfg, rand.New(rand.NewPCG(1, 1)))
		},
	}
}

func batch(B, in, classes int) ([]float64, []int32) {
	rng := rand.New(rand.NewPCG(2, 2))
	x := make([]float64, B*in)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	y := make([]int32, B)
	for i := range y {
		y[i] = int32(rng.IntN(classes))
	}
	return x, y
}

// snapshot copies every gradient.
func grads(ps []*nn.Param[float64]) [][]float64 {
	var g [][]float64
	for _, p := range ps {
		g = append(g, append([]float64(nil), p.G...))
	}
	return g
}

func maxRel(a, b []float64) float64 {
	d, n := 0.0, 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
		n = math.Max(n, math.Abs(b[i]))
	}
	if n == 0 {
		return d
	}
	return d / n
}

// meanCos is the per-sample cosine between a and b ([B, w]) averaged over the
// batch; a zero vector gives cosine 0.
func meanCos(a, b []float64, w int) float64 {
	B, s := len(a)/w, 0.0
	for r := 0; r < B; r++ {
		dot, na, nb := 0.0, 0.0, 0.0
		for j := r * w; j < (r+1)*w; j++ {
			dot += a[j] * b[j]
			na += a[j] * a[j]
			nb += b[j] * b[j]
		}
		if na > 0 && nb > 0 {
			s += dot / math.Sqrt(na*nb)
		}
	}
	return s / float64(B)
}

const B = 8

// reference runs exact backprop through the model itself.
func reference(net model.Network[float64], x []float64, y []int32) ([][]float64, [][]float64) {
	net.Forward(x, B)
	net.Loss(y)
	net.Backward(y, 1)
	var pos [][]float64
	for _, g := range net.PositionGrads() {
		pos = append(pos, append([]float64(nil), g...))
	}
	return pos, grads(net.Params())
}

func TestBPCreditIsTheTrueGradient(t *testing.T) {
	for name, mk := range nets(t) {
		net := mk()
		in := 12
		x, y := batch(B, in, 5)
		wantPos, wantG := reference(net, x, y)
		r, err := New("bp", net, Options{FeedbackSeed: 1, TrainBlocks: -1})
		if err != nil {
			t.Fatal(err)
		}
		net.Forward(x, B)
		net.Loss(y)
		r.Backward(y, 1, 0)
		for p, c := range r.Credit() {
			if e := maxRel(c, wantPos[p]); e > 1e-10 {
				t.Errorf("%s: bp credit at position %d off the true gradient by %.3g", name, p, e)
			}
		}
		for i, p := range net.Params() {
			if e := maxRel(p.G, wantG[i]); e > 1e-10 {
				t.Errorf("%s: bp gradient of %s off by %.3g", name, p.Name, e)
			}
		}
	}
}

func TestFAWithBEqualToWIsBP(t *testing.T) {
	for _, rn := range []string{"fa", "kp"} {
		for name, mk := range nets(t) {
			net := mk()
			x, y := batch(B, 12, 5)
			wantPos, wantG := reference(net, x, y)
			r, _ := New(rn, net, Options{FeedbackSeed: 1, TrainBlocks: -1})
			fb := r.Feedback()
			for i, l := range r.(interface{ linearsOf() []model.Slot[float64] }).linearsOf() {
				copy(fb[i].W, l.W.W)
			}
			net.Forward(x, B)
			net.Loss(y)
			r.Backward(y, 1, 0)
			for p, c := range r.Credit() {
				if e := maxRel(c, wantPos[p]); e != 0 {
					t.Errorf("%s %s, B = W: credit at position %d differs from BP by %.3g", rn, name, p, e)
				}
			}
			for i, p := range net.Params() {
				if e := maxRel(p.G, wantG[i]); e != 0 {
					t.Errorf("%s %s, B = W: gradient of %s differs from BP by %.3g", rn, name, p.Name, e)
				}
			}
		}
	}
}

// At initialisation every non-BP rule's credit at every hidden position is
// finite, non-zero and clearly not BP's (mean per-sample cosine < 0.99) —
// except where the rule's definition makes it exact: fa-block's last
// position, which receives the true gradient.
func TestRulesDifferFromBPAtInit(t *testing.T) {
	for _, rn := range Names() {
		if rn == "bp" {
			continue
		}
		for name, mk := range nets(t) {
			net := mk()
			x, y := batch(64, 12, 5)
			net.Forward(x, 64)
			net.Loss(y)
			net.Backward(y, 1)
			var bpPos [][]float64
			for _, g := range net.PositionGrads() {
				bpPos = append(bpPos, append([]float64(nil), g...))
			}
			r, err := New(rn, net, Options{FeedbackSeed: 9, TrainBlocks: -1})
			if err != nil {
				t.Fatal(err)
			}
			r.Backward(y, 1, 0)
			cr := r.Credit()
			for p := range cr {
				w := len(cr[p]) / 64
				if rn == "fa-block" && p == len(cr)-1 {
					if c := meanCos(cr[p], bpPos[p], w); math.Abs(c-1) > 1e-12 {
						t.Errorf("fa-block %s: last position cosine %v, want exactly 1", name, c)
					}
					continue
				}
				norm := 0.0
				for _, v := range cr[p] {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("%s %s: non-finite credit at position %d", rn, name, p)
					}
					norm += v * v
				}
				c := meanCos(cr[p], bpPos[p], w)
				t.Logf("%-8s %-12s position %d: cosine with BP %+.3f", rn, name, p, c)
				if norm == 0 || !(c < 0.99) {
					t.Errorf("%s %s position %d: ‖c‖² = %.3g, cosine with BP %.4f; want non-zero and < 0.99", rn, name, p, norm, c)
				}
			}
		}
	}
}

func TestUnknownRuleAndBadOptions(t *testing.T) {
	net := nets(t)["mlp"]()
	if _, err := New("magic", net, Options{TrainBlocks: -1}); err == nil {
		t.Error("unknown rule accepted")
	}
	if _, err := New("fa", net, Options{TrainBlocks: 4}); err == nil {
		t.Error("--train-blocks larger than the network accepted")
	}
	if _, err := New("fa", net, Options{TrainBlocks: -1, FeedbackScale: math.NaN()}); err == nil {
		t.Error("NaN feedback scale accepted")
	}
}

func TestFrozenBlocksAreLeftOutOfParams(t *testing.T) {
	net := nets(t)["resmlp"]().(*model.ResMLP[float64])
	for k, want := range map[int]int{-1: 2 + 3*6 + 2 + 2, 0: 2 + 2 + 2, 1: 2 + 6 + 2 + 2} {
		r, _ := New("dfa", net, Options{TrainBlocks: k})
		if got := len(r.Params()); got != want {
			t.Errorf("train-blocks %d: %d trainable tensors, want %d", k, got, want)
		}
		if k == 0 && r.Name() != "bp" {
			t.Errorf("train-blocks 0 (the frozen baseline) trains with %s, want bp", r.Name())
		}
	}
	r, _ := New("kp", net, Options{TrainBlocks: 1})
	if got, want := len(r.Params()), 2+6+2+2+1+2; got != want { // + head B + last block's two B
		t.Errorf("kp with train-blocks 1: %d trainable tensors, want %d", got, want)
	}
}

// brsf redraws its magnitudes from (feedback seed, step): the same step
// gives the same credit (so a resumed run replays it), another step another.
func TestBRSFMagnitudesFollowTheStep(t *testing.T) {
	net := nets(t)["mlp"]()
	x, y := batch(B, 12, 5)
	r, _ := New("brsf", net, Options{FeedbackSeed: 4, TrainBlocks: -1})
	credit := func(step int64) []float64 {
		net.Forward(x, B)
		net.Loss(y)
		r.Backward(y, 1, step)
		return append([]float64(nil), r.Credit()[0]...)
	}
	a, b, c := credit(7), credit(8), credit(7)
	if maxRel(a, c) != 0 {
		t.Error("brsf: the same step gave different credit")
	}
	if maxRel(a, b) == 0 {
		t.Error("brsf: consecutive steps gave identical credit")
	}
}
