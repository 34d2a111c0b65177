package train

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/faudit/faudit/data"
	"github.com/faudit/faudit/internal/safetensors"
	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/nn"
	"github.com/faudit/faudit/rule"
)

func angle(a, b []float64) float64 {
	dot, na, nb := 0.0, 0.0, 0.0
	for i := range a {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	return math.Acos(dot/math.Sqrt(na*nb)) * 180 / math.Pi
}

// Kolen-Pollack: B gets W's update and decay, so the W–B angle shrinks.
func TestKPAlignsBWithW(t *testing.T) {
	ds, err := data.Load("synthetic:16", data.Options{TrainN: 2000, TestN: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"mlp", "resmlp"} {
		cfg := model.DefaultConfig(16, 10)
		cfg.Arch, cfg.D, cfg.Hidden, cfg.HiddenLayers = arch, 32, 32, []int{32, 32}
		net, _ := model.New[float64](cfg, rand.New(rand.NewPCG(1, 1)))
		r, err := rule.New("kp", net, rule.Options{FeedbackSeed: 1, FeedbackScale: 1, TrainBlocks: -1})
		if err != nil {
			t.Fatal(err)
		}
		weights := map[string]*nn.Param[float64]{}
		for _, p := range net.Params() {
			weights["feedback."+p.Name] = p
		}
		angles := func() []float64 {
			var out []float64
			for _, b := range r.Feedback() {
				out = append(out, angle(weights[b.Name].W, b.W))
			}
			return out
		}
		before := angles()
		opt := NewAdamW(r.Params(), 0.01)
		x, y := make([]float64, 50*16), make([]int32, 50)
		idx := make([]int, 50)
		for step := 0; step < 400; step++ {
			for i := range idx {
				idx[i] = (step*50 + i) % 2000
			}
			gather(x, y, &ds.Train, idx, 16)
			net.Forward(x, 50)
			net.Loss(y)
			r.Backward(y, 1.0/50, int64(step))
			opt.Step(1e-2)
		}
		after := angles()
		for i, b := range r.Feedback() {
			t.Logf("%s %s: W–B angle %.1f° → %.1f°", arch, b.Name, before[i], after[i])
			if !(after[i] < before[i]-20) {
				t.Errorf("%s %s: W–B angle %.1f° → %.1f°, want a clear decrease", arch, b.Name, before[i], after[i])
			}
		}
	}
}

// --train-blocks k: the frozen blocks end bit-identical to their init, the
// trained ones move; and the checkpoint holds the rule's B unchanged.
func TestFrozenBlocksStayAtInitAndBIsSaved(t *testing.T) {
	for _, rn := range []string{"dfa", "fa", "bp"} {
		cfg := smallConfig()
		cfg.Rule, cfg.TrainBlocks, cfg.Epochs = rn, 1, 1
		dir := t.TempDir()
		if _, err := Start(context.Background(), cfg, Options{Out: dir}); err != nil {
			t.Fatal(err)
		}
		ts, _, err := safetensors.ReadFile(filepath.Join(dir, CheckpointFile))
		if err != nil {
			t.Fatal(err)
		}
		saved := map[string][]float64{}
		for _, x := range ts {
			saved[x.Name], _ = safetensors.ToFloats[float64](x)
		}
		m := cfg.Model
		m.In, m.Classes = 16, 10
		init, _ := model.New[float64](m, rand.New(rand.NewPCG(cfg.Seed, 1)))
		for _, p := range init.Params() {
			same := slices.Equal(saved[p.Name], p.W)
			inFrozen := len(p.Name) > 9 && p.Name[:9] == "blocks.0."
			if inFrozen && !same {
				t.Errorf("%s: frozen %s changed during training", rn, p.Name)
			}
			if !inFrozen && same {
				t.Errorf("%s: trainable %s did not change", rn, p.Name)
			}
		}
		r, _ := rule.New(rn, init, rule.Options{FeedbackSeed: cfg.FeedbackSeed, FeedbackScale: 1, TrainBlocks: 1})
		for _, b := range r.Feedback() {
			if !slices.Equal(saved[b.Name], b.W) {
				t.Errorf("%s: checkpoint's %s is not the B drawn from the feedback seed", rn, b.Name)
			}
		}
		if rn != "bp" && len(r.Feedback()) == 0 {
			t.Errorf("%s has no feedback matrices to save", rn)
		}
	}
}

// Every rule trains both architectures on 3000 MNIST digits without NaN and
// well above chance (10 %).
func TestEveryRuleLearns(t *testing.T) {
	for _, arch := range []string{"mlp", "resmlp"} {
		for _, rn := range rule.Names() {
			cfg := smallConfig()
			cfg.Rule, cfg.Epochs, cfg.Data, cfg.TrainN, cfg.TestN, cfg.Batch = rn, 2, "mnist", 3000, 1000, 32
			cfg.Model.Arch, cfg.Model.HiddenLayers = arch, []int{64, 64}
			cfg.Precision = "float32"
			res, err := Start(context.Background(), cfg, Options{Out: t.TempDir()})
			if err != nil {
				t.Fatalf("%s %s: %v", arch, rn, err)
			}
			t.Logf("%-6s %-8s test accuracy %.3f", arch, rn, res.TestAcc)
			if res.TestAcc < 0.5 {
				t.Errorf("%s %s: test accuracy %.3f, want ≥ 0.5", arch, rn, res.TestAcc)
			}
		}
	}
}
