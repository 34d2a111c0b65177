package model

import (
	"math/rand/v2"
	"testing"

	"github.com/faudit/faudit/nn"
)

// With SetPenalty(λ), Backward(y, s) must be the exact gradient of
// s·(summed CE + λ·Σ_l Σ_b ‖f_l‖²), checked against central differences; and
// λ = 0 must change nothing.
func TestPenaltyGradient(t *testing.T) {
	const lambda, scale = 0.3, 1.0 / 3
	sumSq := func(fs [][]float64) float64 {
		s := 0.0
		for _, f := range fs {
			for _, v := range f {
				s += v * v
			}
		}
		return s
	}
	rcfg := func(skip bool) Config {
		return Config{Arch: "resmlp", In: 6, Classes: 4, Act: nn.GELU, D: 5, Hidden: 7, Blocks: 3, TerminalLN: true, Residual: skip, W2Std: 0.5}
	}
	for _, tc := range []struct {
		name        string
		build       func(rng *rand.Rand) (Network[float64], func() [][]float64)
		unpenalized float64 // a bound the penalty's effect must exceed
	}{
		{"resmlp/skip", func(rng *rand.Rand) (Network[float64], func() [][]float64) {
			m := NewResMLP[float64](rcfg(true), rng)
			return m, func() [][]float64 { return m.F }
		}, 1e-3},
		{"resmlp/noskip", func(rng *rand.Rand) (Network[float64], func() [][]float64) {
			m := NewResMLP[float64](rcfg(false), rng)
			return m, func() [][]float64 { return m.F }
		}, 1e-3},
		{"mlp", func(rng *rand.Rand) (Network[float64], func() [][]float64) {
			m := NewMLP[float64](Config{Arch: "mlp", In: 6, Classes: 4, Act: nn.GELU, HiddenLayers: []int{7, 5}}, rng)
			return m, func() [][]float64 { return m.Hs }
		}, 1e-3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, 9))
			m, branches := tc.build(rng)
			x, y := smallBatch(rng, 3, 6, 4)
			objective := func() float64 {
				m.Forward(x, 3)
				return scale * (m.Loss(y) + lambda*sumSq(branches()))
			}
			plain := map[string][]float64{}
			objective()
			m.Backward(y, scale)
			for _, p := range m.Params() {
				plain[p.Name] = append([]float64(nil), p.G...)
			}
			m.(Penalized).SetPenalty(lambda)
			objective()
			m.Backward(y, scale)
			moved := 0.0
			for _, p := range m.Params() {
				ana := append([]float64(nil), p.G...)
				if e := relErr(centralDiff(p.W, objective), ana); !(e <= 1e-6) {
					t.Errorf("%s: relative error %.3g against the penalised objective", p.Name, e)
				}
				moved = max(moved, relErr(plain[p.Name], ana))
			}
			if !(moved > tc.unpenalized) {
				t.Errorf("the penalty moved no gradient by more than %.2g (max relative change %.3g)", tc.unpenalized, moved)
			}
			m.(Penalized).SetPenalty(0)
			objective()
			m.Backward(y, scale)
			for _, p := range m.Params() {
				if e := relErr(plain[p.Name], p.G); e != 0 {
					t.Errorf("%s: λ=0 changed the gradient (relative %.3g)", p.Name, e)
				}
			}
		})
	}
}
