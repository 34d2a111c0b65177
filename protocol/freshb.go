package protocol

import (
	"fmt"
	"math"

	"github.com/faudit/faudit/rule"
	"github.com/faudit/faudit/train"
)

// FreshB is the fresh-B null (§5.11): Γ_p recomputed on the trained network
// with feedback matrices drawn afresh from other seeds, beside Γ_p with the
// training matrices. Alignment the network acquired with its own B shows as
// Γ_train ≫ |Γ_fresh|; alignment that any B would give does not.
type FreshB struct {
	N      int          `json:"n"`
	Seeds  []uint64     `json:"seeds"`
	Layers []FreshLayer `json:"layers"`
}

// FreshLayer is one position's null.
type FreshLayer struct {
	Position  int     `json:"position"`
	Train     float64 `json:"cos_train"`      // Γ_p with the training feedback
	FreshMean float64 `json:"cos_fresh_mean"` // mean over draws of Γ_p with fresh feedback
	FreshStd  float64 `json:"cos_fresh_std"`  // sample std (ddof = 1) over draws
}

// FreshBNull computes the null with n draws (feedback seeds seed+1 … seed+n
// of the run's feedback seed) on s, the run's subject, whose network is
// reused with each fresh rule in place of its own (s itself is unchanged).
// Rules without random feedback (bp, usf) have no null.
func FreshBNull(s *Subject, cfg train.Config, x []float64, y []int32, n int, opt Options, train0 *Measurements) (*FreshB, error) {
	switch cfg.Rule {
	case "bp", "usf":
		return nil, fmt.Errorf("--fresh-b: rule %s has no random feedback to redraw", cfg.Rule)
	}
	if cfg.TrainBlocks == 0 {
		return nil, fmt.Errorf("--fresh-b: a frozen-blocks baseline trains with bp and has no feedback")
	}
	opt.Cheap = true
	per := make([][]float64, len(train0.Layers))
	f := &FreshB{N: n}
	for k := 1; k <= n; k++ {
		seed := cfg.FeedbackSeed + uint64(k)
		fresh, err := rule.New(cfg.Rule, s.Net, rule.Options{FeedbackSeed: seed, FeedbackScale: cfg.FeedbackScale,
			TrainBlocks: cfg.TrainBlocks, LocalNorm: cfg.LocalNorm})
		if err != nil {
			return nil, err
		}
		sf := *s
		sf.Rule = fresh
		m := Measure(&sf, x, y, opt)
		for p, l := range m.Layers {
			per[p] = append(per[p], l.CosMean)
		}
		f.Seeds = append(f.Seeds, seed)
	}
	for p, l := range train0.Layers {
		mean, std := meanStd(per[p])
		if n < 2 {
			std = math.NaN()
		}
		f.Layers = append(f.Layers, FreshLayer{Position: p, Train: l.CosMean, FreshMean: mean, FreshStd: std})
	}
	return f, nil
}
