package rule

import (
	"math"
	"testing"

	"github.com/faudit/faudit/model"
)

// Under a local rule with --penalty λ, block l's gradients must be those of
// its local objective ⟨f_l, t_{l+1}⟩ + λ·s·Σ_b ‖f_l‖² with h_l held fixed
// (t = the credit, rms-normalised or not; s the loss scale), checked against
// central differences of that objective.
func TestLocalRulesAddThePenaltyToEachBlocksObjective(t *testing.T) {
	const lambda, scale = 0.2, 1.0 / 8
	for _, name := range []string{"dfa", "fa-block"} {
		for _, norm := range []string{"", "rms"} {
			for _, kind := range []string{"resmlp", "mlp"} {
				net := nets()[kind].build(t)
				r, err := New(name, net, Options{TrainBlocks: -1, FeedbackSeed: 3, LocalNorm: norm, Penalty: lambda})
				if err != nil {
					t.Fatal(err)
				}
				x, y := batch(8, 12, 5)
				net.Forward(x, 8)
				net.Loss(y)
				r.Backward(y, scale, 0)
				cn := net.(model.Credited[float64])
				var a *arch[float64]
				switch r := r.(type) {
				case *dfa[float64]:
					a = r.a
				case *faBlock[float64]:
					a = r.a
				}
				branch := func(l int) []float64 { return net.(*model.MLP[float64]).Hs[l] }
				if rm, ok := net.(*model.ResMLP[float64]); ok {
					branch = func(l int) []float64 { return rm.F[l] }
				}
				for l := 0; l < cn.NumBlocks(); l++ {
					target := append([]float64(nil), a.target(cn.BlockOutput(l))...)
					objective := func() float64 {
						net.Forward(x, 8)
						j := 0.0
						for i, f := range branch(l) {
							j += f*target[i] + lambda*scale*f*f
						}
						return j
					}
					for _, p := range cn.BlockParams(l) {
						ana := append([]float64(nil), p.G...)
						num := make([]float64, len(p.W))
						for i := range p.W {
							old := p.W[i]
							p.W[i] = old + 1e-6
							jp := objective()
							p.W[i] = old - 1e-6
							jm := objective()
							p.W[i] = old
							num[i] = (jp - jm) / 2e-6
						}
						if e := maxRel(num, ana); !(e <= 1e-6) || math.IsNaN(e) {
							t.Errorf("%s %s norm=%q block %d %s: max relative error %.3g", name, kind, norm, l, p.Name, e)
						}
					}
				}
			}
		}
	}
}

func TestPenaltyNeedsAPenalizedArchitecture(t *testing.T) {
	net := nets()["mlp"].build(t)
	for _, bad := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := New("dfa", net, Options{TrainBlocks: -1, Penalty: bad}); err == nil {
			t.Errorf("--penalty %v accepted", bad)
		}
	}
	if _, err := New("dfa", net, Options{TrainBlocks: -1, Penalty: 1e-2}); err != nil {
		t.Errorf("--penalty 1e-2 on an mlp: %v", err)
	}
}
