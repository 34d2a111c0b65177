package report

import (
	"fmt"
	"math"
)

// Ranking is the cosine-vs-function analysis (paper §8.5): the audited
// rule groups ranked by deep Γ beside their rankings by functional metrics.
type Ranking struct {
	Groups     []string        `json:"groups"`
	Metrics    []RankMetric    `json:"metrics"` // Metrics[0] is deep Γ
	Agreements []RankAgreement `json:"agreements"`
	Summary    string          `json:"summary"`
}

// RankMetric is one column: values per group, ranks (1 = best, ties share
// the mean rank) and values min-max normalised with 1 = best.
type RankMetric struct {
	Name         string    `json:"name"`
	HigherBetter bool      `json:"higher_better"`
	Values       []float64 `json:"values"`
	Ranks        []float64 `json:"ranks"`
	Normalised   []float64 `json:"normalised"`
}

// RankAgreement compares the deep-Γ ranking with one functional ranking.
type RankAgreement struct {
	Metric     string  `json:"metric"`
	Tau        float64 `json:"kendall_tau_b"`
	Discordant int     `json:"discordant_pairs"`
	Pairs      int     `json:"pairs"`
	Reading    string  `json:"reading"`
}

// rankingMetrics are the columns: deep Γ, then the functional metrics.
var rankingMetrics = []struct {
	name         string
	higherBetter bool
	value        func(*Group) float64
}{
	{"deep Γ", true, func(g *Group) float64 { return g.GammaDeep.Mean }},
	{"accuracy", true, func(g *Group) float64 { return g.Accuracy.Mean }},
	{"nudge Δloss", false, func(g *Group) float64 { return g.NudgeDeep.Mean }},
	{"train-loss decrease", true, func(g *Group) float64 { return g.LossDrop.Mean }},
	{"D3 lead", true, func(g *Group) float64 { return g.D3Lead.Mean }},
}

// rank builds the ranking over the audited, non-baseline groups with a
// deep Γ.
func rank(groups []*Group) Ranking {
	var in []*Group
	for _, g := range groups {
		if !g.Baseline && g.Audited > 0 && !math.IsNaN(g.GammaDeep.Mean) {
			in = append(in, g)
		}
	}
	var r Ranking
	for _, g := range in {
		r.Groups = append(r.Groups, g.Label)
	}
	for _, m := range rankingMetrics {
		vals := make([]float64, len(in))
		for i, g := range in {
			vals[i] = m.value(g)
		}
		r.Metrics = append(r.Metrics, RankMetric{Name: m.name, HigherBetter: m.higherBetter, Values: vals,
			Ranks: ranks(vals, m.higherBetter), Normalised: minMaxNormalise(vals, m.higherBetter)})
	}
	if len(in) < 2 {
		r.Summary = fmt.Sprintf("Only %d audited rule group(s) with a deep Γ: a ranking needs at least two", len(in))
		return r
	}
	cos := r.Metrics[0]
	agree, total := 0, 0
	for _, m := range r.Metrics[1:] {
		tau, disc, pairs := kendallTau(cos.Ranks, m.Ranks)
		a := RankAgreement{Metric: m.Name, Tau: tau, Discordant: disc, Pairs: pairs, Reading: tauReading(tau)}
		r.Agreements = append(r.Agreements, a)
		if !math.IsNaN(tau) {
			total++
			if tau >= 0.5 {
				agree++
			}
		}
	}
	r.Summary = fmt.Sprintf("The deep-Γ ranking agrees (τ_b ≥ 0.5) with %d of the %d functional rankings that could be compared", agree, total)
	if total > 0 && agree < total {
		r.Summary += "; where it does not, a higher cosine does not mean more useful credit"
	}
	return r
}

// tauReading puts Kendall's τ_b into words.
func tauReading(tau float64) string {
	switch {
	case math.IsNaN(tau):
		return "not comparable (too few values, or one side constant)"
	case tau == 1:
		return "same order"
	case tau >= 0.5:
		return "largely agrees"
	case tau > 0:
		return "weak agreement"
	case tau == -1:
		return "reversed"
	}
	return "disagrees"
}
