package rule

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/nn"
)

// cnn is a small BatchNorm CNN: 1×12×12 inputs (12 → 6 → 3 → 1), widths
// 4, 6, 6; with skips stage 0 and 1 have projections, stage 2 an identity.
func cnn(t *testing.T, residual bool) model.Credited[float64] {
	t.Helper()
	cfg := model.Config{Arch: "cnn", In: 144, Shape: [3]int{1, 12, 12}, Classes: 5, Act: nn.ReLU,
		Channels: []int{4, 6, 6}, Residual: residual}
	net, err := model.New[float64](cfg, rand.New(rand.NewPCG(3, 3)))
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// Every rule runs on the CNN at init and gives finite, non-zero credit at
// every position and finite gradients.
func TestRulesRunOnCNN(t *testing.T) {
	for _, residual := range []bool{false, true} {
		for _, rn := range Names() {
			net := cnn(t, residual)
			x, y := batch(B, 144, 5)
			r, err := New(rn, net, Options{FeedbackSeed: 4, TrainBlocks: -1})
			if err != nil {
				t.Fatal(err)
			}
			net.Forward(x, B)
			net.Loss(y)
			r.Backward(y, 1.0/B, 0)
			for p, c := range r.Credit() {
				if len(c) != B*net.PositionWidths()[p] {
					t.Fatalf("%s residual=%v: credit at position %d has %d values, want %d", rn, residual, p, len(c), B*net.PositionWidths()[p])
				}
				norm := 0.0
				for _, v := range c {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("%s residual=%v: non-finite credit at position %d", rn, residual, p)
					}
					norm += v * v
				}
				t.Logf("%-8s residual=%-5v position %d: ‖c‖ = %.3g", rn, residual, p, math.Sqrt(norm))
				if norm == 0 {
					t.Errorf("%s residual=%v: zero credit at position %d", rn, residual, p)
				}
			}
			for _, p := range r.Params() {
				for _, v := range p.G {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("%s residual=%v: non-finite gradient of %s", rn, residual, p.Name)
					}
				}
			}
		}
	}
}

// fa (and kp) with every B set to its W, in slot order, is exactly BP.
func TestFAWithBEqualToWIsBPOnCNN(t *testing.T) {
	for _, residual := range []bool{false, true} {
		for _, rn := range []string{"fa", "kp"} {
			net := cnn(t, residual)
			x, y := batch(B, 144, 5)
			wantPos, wantG := reference(net, x, y)
			r, err := New(rn, net, Options{FeedbackSeed: 1, TrainBlocks: -1})
			if err != nil {
				t.Fatal(err)
			}
			fb, slots := r.Feedback(), net.Slots()
			if len(fb) != len(slots) {
				t.Fatalf("%s: %d feedback kernels for %d slots", rn, len(fb), len(slots))
			}
			for i, s := range slots {
				if fb[i].Name != "feedback."+s.W.Name {
					t.Fatalf("feedback %d is %s, slot %d is %s", i, fb[i].Name, i, s.W.Name)
				}
				copy(fb[i].W, s.W.W)
			}
			net.Forward(x, B)
			net.Loss(y)
			r.Backward(y, 1, 0)
			for p, c := range r.Credit() {
				if e := maxRel(c, wantPos[p]); e != 0 {
					t.Errorf("%s residual=%v, B = W: credit at position %d differs from BP by %.3g", rn, residual, p, e)
				}
			}
			for i, p := range net.Params() {
				if e := maxRel(p.G, wantG[i]); e != 0 {
					t.Errorf("%s residual=%v, B = W: gradient of %s differs from BP by %.3g", rn, residual, p.Name, e)
				}
			}
		}
	}
}
