package rule

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/nn"
)

// testNet is one network the shared tests run every rule on: its config
// (cfg.In is the input width) and weight seed, and what the tests expect of
// it.
type testNet struct {
	cfg  model.Config
	seed uint64
	// positions and slots are the layout the rules see: credited positions
	// and linear slots (one feedback matrix each for fa and kp).
	positions, slots int
	// bpTol bounds bp's max relative error against the model's own backprop.
	bpTol float64
	// zeroGrad reports a parameter whose gradient vanishes identically (up
	// to rounding) by the architecture, under every rule, and so is exempt
	// from the non-zero check (nil: none).
	zeroGrad func(name string) bool
}

func (e testNet) build(t *testing.T) model.Credited[float64] {
	t.Helper()
	net, err := model.New[float64](e.cfg, rand.New(rand.NewPCG(e.seed, e.seed)))
	if err != nil {
		t.Fatal(err)
	}
	return net
}

func nets() map[string]testNet {
	// A small ViT-Mini: 1×8×8 inputs in 4×4 patches (5 tokens), d = 16, 2
	// heads, MLP hidden 32, 3 blocks, 5 classes.
	vit := func(terminalLN bool) testNet {
		return testNet{cfg: model.Config{Arch: "vit", In: 64, Shape: [3]int{1, 8, 8}, Classes: 5, Act: nn.GELU,
			D: 16, Blocks: 3, Heads: 2, MLPHidden: 32, Patch: 4, TerminalLN: terminalLN, Residual: true},
			seed: 1, positions: 3 + 1, slots: 1 + 6*3, zeroGrad: isKeyBias} // out_head; q, k, v, out, fc1, fc2 per block
	}
	// A small BatchNorm CNN: 1×12×12 inputs (12 → 6 → 3 → 1), widths 4, 6,
	// 6; with skips stage 0 and 1 have projections, stage 2 an identity. Its
	// slots are the head, the fc and stages 1 and 2 (stage 0 reads the input).
	cnn := func(residual bool, slots int) testNet {
		return testNet{cfg: model.Config{Arch: "cnn", In: 144, Shape: [3]int{1, 12, 12}, Classes: 5, Act: nn.ReLU,
			Channels: []int{4, 6, 6}, Residual: residual}, seed: 3, positions: 3, slots: slots}
	}
	return map[string]testNet{
		"resmlp": {cfg: model.Config{Arch: "resmlp", In: 12, Classes: 5, Act: nn.ReLU, D: 16, Hidden: 24, Blocks: 3,
			TerminalLN: true, Residual: true, W2Std: 0.01}, seed: 1, positions: 4, slots: 7, bpTol: 1e-10},
		"resmlp-noLN": {cfg: model.Config{Arch: "resmlp", In: 12, Classes: 5, Act: nn.GELU, D: 16, Hidden: 16, Blocks: 2,
			TerminalLN: false, Residual: true, W2Std: 0.01}, seed: 1, positions: 3, slots: 5, bpTol: 1e-10},
		"mlp": {cfg: model.Config{Arch: "mlp", In: 12, Classes: 5, Act: nn.ReLU, HiddenLayers: []int{20, 18, 16}},
			seed: 1, positions: 3, slots: 3, bpTol: 1e-10},
		"vit":          vit(true),
		"vit-noLN":     vit(false),
		"cnn":          cnn(false, 2+2),
		"cnn-residual": cnn(true, 2+2+1), // + stage 1's projection
	}
}

// isKeyBias: an attention key bias adds the same score to every key of a
// query, which the softmax ignores (shift invariance), so its gradient is
// identically zero, up to rounding.
func isKeyBias(name string) bool { return strings.HasSuffix(name, "attn.k.bias") }

// eachNet runs f as a subtest on a fresh copy of every network in nets.
func eachNet(t *testing.T, f func(t *testing.T, e testNet, net model.Credited[float64])) {
	ns := nets()
	for _, name := range slices.Sorted(maps.Keys(ns)) {
		t.Run(name, func(t *testing.T) { f(t, ns[name], ns[name].build(t)) })
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
	eachNet(t, func(t *testing.T, e testNet, net model.Credited[float64]) {
		x, y := batch(B, e.cfg.In, e.cfg.Classes)
		wantPos, wantG := reference(net, x, y)
		r, err := New("bp", net, Options{FeedbackSeed: 1, TrainBlocks: -1})
		if err != nil {
			t.Fatal(err)
		}
		net.Forward(x, B)
		net.Loss(y)
		r.Backward(y, 1, 0)
		for p, c := range r.Credit() {
			if d := maxRel(c, wantPos[p]); d > e.bpTol {
				t.Errorf("bp credit at position %d off the true gradient by %.3g", p, d)
			}
		}
		for i, p := range net.Params() {
			if d := maxRel(p.G, wantG[i]); d > e.bpTol {
				t.Errorf("bp gradient of %s off by %.3g", p.Name, d)
			}
		}
	})
}

// fa and kp with B = W (copied in slot order) are BP, bit for bit.
func TestFAWithBEqualToWIsBP(t *testing.T) {
	for _, rn := range []string{"fa", "kp"} {
		t.Run(rn, func(t *testing.T) {
			eachNet(t, func(t *testing.T, e testNet, net model.Credited[float64]) {
				x, y := batch(B, e.cfg.In, e.cfg.Classes)
				wantPos, wantG := reference(net, x, y)
				r, err := New(rn, net, Options{FeedbackSeed: 1, TrainBlocks: -1})
				if err != nil {
					t.Fatal(err)
				}
				fb := r.Feedback()
				slots := r.(interface{ linearsOf() []model.Slot[float64] }).linearsOf()
				if len(fb) != len(slots) || len(slots) != len(net.Slots()) || len(slots) != e.slots {
					t.Fatalf("%d feedback matrices for %d slots (the net has %d), want %d", len(fb), len(slots), len(net.Slots()), e.slots)
				}
				for i, l := range slots {
					if fb[i].Name != "feedback."+l.W.Name {
						t.Fatalf("feedback %d is %s, slot weight %s", i, fb[i].Name, l.W.Name)
					}
					copy(fb[i].W, l.W.W)
				}
				net.Forward(x, B)
				net.Loss(y)
				r.Backward(y, 1, 0)
				for p, c := range r.Credit() {
					if d := maxRel(c, wantPos[p]); d != 0 {
						t.Errorf("B = W: credit at position %d differs from BP by %.3g", p, d)
					}
				}
				for i, p := range net.Params() {
					if d := maxRel(p.G, wantG[i]); d != 0 {
						t.Errorf("B = W: gradient of %s differs from BP by %.3g", p.Name, d)
					}
				}
			})
		})
	}
}

// atInit runs exact BP and then rule rn on a batch of n through net at init.
// It returns the rule, its credit and BP's position gradients; every gradient
// is cleared in between, so what is left in them is the rule's own.
func atInit(t *testing.T, rn string, e testNet, net model.Credited[float64], n int) (Rule[float64], [][]float64, [][]float64) {
	t.Helper()
	x, y := batch(n, e.cfg.In, e.cfg.Classes)
	net.Forward(x, n)
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
	for _, ps := range [][]*nn.Param[float64]{net.Params(), r.Params()} {
		for _, p := range ps {
			clear(p.G)
		}
	}
	r.Backward(y, 1, 0)
	return r, r.Credit(), bpPos
}

// At initialisation every rule gives finite, non-zero credit of the right
// size at every position, and a finite, non-zero gradient for every
// parameter it trains (but those the architecture zeroes).
func TestRulesGiveFiniteNonZeroCreditAndGradients(t *testing.T) {
	const n = 64
	for _, rn := range Names() {
		t.Run(rn, func(t *testing.T) {
			eachNet(t, func(t *testing.T, e testNet, net model.Credited[float64]) {
				r, cr, _ := atInit(t, rn, e, net, n)
				widths := net.PositionWidths()
				if len(cr) != len(widths) || len(cr) != e.positions {
					t.Fatalf("credit at %d positions (the net has %d), want %d", len(cr), len(widths), e.positions)
				}
				for p, c := range cr {
					if len(c) != n*widths[p] {
						t.Fatalf("credit at position %d has %d values, want %d", p, len(c), n*widths[p])
					}
					norm := 0.0
					for _, v := range c {
						if math.IsNaN(v) || math.IsInf(v, 0) {
							t.Fatalf("non-finite credit at position %d", p)
						}
						norm += v * v
					}
					if norm == 0 {
						t.Errorf("zero credit at position %d", p)
					}
				}
				for _, p := range r.Params() {
					g := 0.0
					for _, v := range p.G {
						if math.IsNaN(v) || math.IsInf(v, 0) {
							t.Fatalf("non-finite gradient of %s", p.Name)
						}
						g += v * v
					}
					if g == 0 && (e.zeroGrad == nil || !e.zeroGrad(p.Name)) {
						t.Errorf("zero gradient for %s", p.Name)
					}
				}
			})
		})
	}
}

// At initialisation every non-BP rule's credit at every position is clearly
// not BP's (mean per-sample cosine < 0.99) — except where the rule's
// definition makes it exact: fa-block's last position, which receives the
// true gradient.
func TestRulesDifferFromBPAtInit(t *testing.T) {
	const n = 64
	for _, rn := range Names() {
		if rn == "bp" {
			continue
		}
		t.Run(rn, func(t *testing.T) {
			eachNet(t, func(t *testing.T, e testNet, net model.Credited[float64]) {
				_, cr, bpPos := atInit(t, rn, e, net, n)
				for p := range cr {
					c := meanCos(cr[p], bpPos[p], len(cr[p])/n)
					t.Logf("position %d: cosine with BP %+.3f", p, c)
					if rn == "fa-block" && p == len(cr)-1 {
						if math.Abs(c-1) > 1e-12 {
							t.Errorf("last position cosine %v, want exactly 1", c)
						}
						continue
					}
					if !(c < 0.99) {
						t.Errorf("position %d: cosine with BP %.4f; want < 0.99", p, c)
					}
				}
			})
		})
	}
}

func TestUnknownRuleAndBadOptions(t *testing.T) {
	net := nets()["mlp"].build(t)
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
	net := nets()["resmlp"].build(t).(*model.ResMLP[float64])
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
	net := nets()["mlp"].build(t)
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
