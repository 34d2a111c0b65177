package rule

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/nn"
)

// A small ViT-Mini: 1×8×8 inputs in 4×4 patches (5 tokens), d = 16, 2
// heads, MLP hidden 32, 3 blocks, 5 classes.
func smallViT(t *testing.T, terminalLN bool) model.Credited[float64] {
	t.Helper()
	cfg := model.Config{Arch: "vit", In: 64, Shape: [3]int{1, 8, 8}, Classes: 5, Act: nn.GELU,
		D: 16, Blocks: 3, Heads: 2, MLPHidden: 32, Patch: 4, TerminalLN: terminalLN, Residual: true}
	net, err := model.New[float64](cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// Every rule runs on the ViT at init and gives finite, non-zero credit at
// every position, and finite gradients for every parameter it trains.
func TestRulesRunOnViT(t *testing.T) {
	const n = 16
	for _, ln := range []bool{true, false} {
		for _, rn := range Names() {
			net := smallViT(t, ln)
			x, y := batch(n, 64, 5)
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
			for _, p := range r.Params() {
				clear(p.G)
			}
			r.Backward(y, 1, 0)
			cr := r.Credit()
			if len(cr) != net.NumBlocks()+1 {
				t.Fatalf("%s: credit at %d positions, want %d", rn, len(cr), net.NumBlocks()+1)
			}
			for p, c := range cr {
				norm := 0.0
				for _, v := range c {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("%s ln=%v: non-finite credit at position %d", rn, ln, p)
					}
					norm += v * v
				}
				if norm == 0 {
					t.Errorf("%s ln=%v: zero credit at position %d", rn, ln, p)
				}
				t.Logf("%-8s ln=%-5v position %d: ‖c‖ %.3g, cosine with BP %+.3f", rn, ln, p, math.Sqrt(norm), meanCos(c, bpPos[p], len(c)/n))
			}
			for _, p := range r.Params() {
				g := 0.0
				for _, v := range p.G {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("%s ln=%v: non-finite gradient of %s", rn, ln, p.Name)
					}
					g += v * v
				}
				// Every parameter learns, except the key biases, whose
				// gradient vanishes identically (softmax shift invariance).
				if g == 0 && !isKeyBias(p.Name) {
					t.Errorf("%s ln=%v: zero gradient for %s", rn, ln, p.Name)
				}
			}
		}
	}
}

func isKeyBias(name string) bool {
	return len(name) > 11 && name[len(name)-11:] == "attn.k.bias"
}

// fa and kp with B = W (copied in slot order) are BP, bit for bit.
func TestFAWithBEqualToWIsBPOnViT(t *testing.T) {
	for _, rn := range []string{"fa", "kp"} {
		for _, ln := range []bool{true, false} {
			net := smallViT(t, ln)
			x, y := batch(B, 64, 5)
			wantPos, wantG := reference(net, x, y)
			r, err := New(rn, net, Options{FeedbackSeed: 1, TrainBlocks: -1})
			if err != nil {
				t.Fatal(err)
			}
			fb := r.Feedback()
			slots := r.(interface{ linearsOf() []model.Slot[float64] }).linearsOf()
			if len(fb) != len(slots) || len(slots) != 1+6*net.NumBlocks() {
				t.Fatalf("%s: %d feedback matrices for %d slots", rn, len(fb), len(slots))
			}
			for i, l := range slots {
				if fb[i].Name != "feedback."+l.W.Name {
					t.Fatalf("%s: feedback %d is %s, slot weight %s", rn, i, fb[i].Name, l.W.Name)
				}
				copy(fb[i].W, l.W.W)
			}
			net.Forward(x, B)
			net.Loss(y)
			r.Backward(y, 1, 0)
			for p, c := range r.Credit() {
				if e := maxRel(c, wantPos[p]); e != 0 {
					t.Errorf("%s ln=%v, B = W: credit at position %d differs from BP by %.3g", rn, ln, p, e)
				}
			}
			for i, p := range net.Params() {
				if e := maxRel(p.G, wantG[i]); e != 0 {
					t.Errorf("%s ln=%v, B = W: gradient of %s differs from BP by %.3g", rn, ln, p.Name, e)
				}
			}
		}
	}
}

// bp's credit on the ViT is the model's own gradient.
func TestBPCreditOnViT(t *testing.T) {
	net := smallViT(t, true)
	x, y := batch(B, 64, 5)
	wantPos, wantG := reference(net, x, y)
	r, _ := New("bp", net, Options{FeedbackSeed: 1, TrainBlocks: -1})
	net.Forward(x, B)
	net.Loss(y)
	r.Backward(y, 1, 0)
	for p, c := range r.Credit() {
		if e := maxRel(c, wantPos[p]); e != 0 {
			t.Errorf("bp credit at position %d off the true gradient by %.3g", p, e)
		}
	}
	for i, p := range net.Params() {
		if e := maxRel(p.G, wantG[i]); e != 0 {
			t.Errorf("bp gradient of %s off by %.3g", p.Name, e)
		}
	}
}
