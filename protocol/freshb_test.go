package protocol

import (
	"context"
	"math"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/faudit/faudit"
	"github.com/faudit/faudit/internal/blas"
	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/train"
)

// The fresh-B null on a trained DFA network: where Γ with the training B is
// non-trivial, Γ with freshly drawn B collapses to about zero.
func TestFreshBNullOnDFA(t *testing.T) {
	m := model.DefaultConfig(0, 0)
	m.D, m.Hidden, m.Blocks = 64, 64, 3
	cfg := train.Config{Version: faudit.Version, Model: m, Rule: "dfa", Data: "mnist", TrainN: 4000, TestN: 512,
		Epochs: 2, Batch: 64, Optimizer: "adamw", LR: 1e-3, WD: 0.01, Momentum: 0.9, Schedule: "constant",
		Seed: 11, FeedbackSeed: 11, FeedbackScale: 1, TrainBlocks: -1, Precision: "float32",
		Backend: blas.Backend, GoMaxProcs: runtime.GOMAXPROCS(0)}
	dir := filepath.Join(t.TempDir(), "dfa")
	if _, err := train.Start(context.Background(), cfg, train.Options{Out: dir}); err != nil {
		t.Fatal(err)
	}
	rep, err := Audit(context.Background(), dir, AuditOptions{Measure: Options{EvalN: 512, Directions: 2}, Thresholds: DefaultThresholds(), NoBaseline: true, FreshB: 5})
	if err != nil {
		t.Fatal(err)
	}
	nontrivial := 0
	for _, l := range rep.FreshB.Layers {
		t.Logf("h%d: Γ train %+.3f, fresh %+.3f ± %.3f", l.Position, l.Train, l.FreshMean, l.FreshStd)
		if l.Train > 0.1 {
			nontrivial++
			if math.Abs(l.FreshMean) > l.Train/4 {
				t.Errorf("h%d: |Γ fresh| %.3f not well below Γ train %.3f", l.Position, math.Abs(l.FreshMean), l.Train)
			}
		}
	}
	if nontrivial == 0 {
		t.Fatal("no position with Γ train > 0.1: the null is not probed")
	}
	if _, err := FreshBNull(nil, FrozenRecipe(cfg), nil, nil, 3, Options{}, nil); err == nil {
		t.Error("a fresh-B null for a bp run was accepted")
	}
}
