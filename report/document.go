package report

import (
	"fmt"
	"strings"

	"github.com/faudit/faudit/protocol"
)

// section is one part of report.md and report.html.
type section struct {
	ID     string
	Title  string
	Intro  []string // paragraphs
	Tables []Table
	Plots  []*Plot
}

// checkExplanations say in a sentence or two what each check asks, with
// the thresholds the audits used.
func checkExplanations(th protocol.Thresholds) [][2]string {
	return [][2]string{
		{"D1 scale stability", fmt.Sprintf("the largest growth of the median ‖h‖ across one block, max_p ‖h_{p+1}‖/‖h_p‖. It fails above %g: "+
			"the residual stream is exploding (Mode 1, measurement degeneracy), and every norm-dependent number downstream with it.", th.D1Growth)},
		{"D2 reference validity", fmt.Sprintf("whether the backprop reference g_L at the deepest position can be trusted. The paper's criterion fails when the "+
			"median ‖g_L‖ in its convention (mean-reduced loss over batches of 128) falls below %g (the paper: ten times the 1e-8 clamp of F.cosine_similarity); "+
			"the precision criterion fails when g_L's relative error in the training precision exceeds %g. Decision: %s. A cosine against an invalid reference measures noise.",
			th.D2PaperFloor, th.D2MaxRelErr, th.D2Criterion)},
		{"D3 depth utility", fmt.Sprintf("test accuracy against the frozen-blocks baseline (the same recipe with every block frozen at init, the rest trained with BP). "+
			"It fails when the lead is below %g pp: the trained blocks add nothing over random ones.", th.D3MarginPP)},
		{"M2 aggregation collapse", fmt.Sprintf("whether one end of the network carries the aggregate Γ: it fails when, for an end with |Γ| ≥ %g, the rest of the "+
			"network holds at most %g of that end's mean Γ (Mode 2). The per-position Γ table shows where the credit sits.", th.M2MinGamma, th.M2Ratio)},
	}
}

// sections lays out the report.
func (r *Report) sections() []section {
	gammas, norms := r.PositionTables()
	byName := func(sec string) []*Plot {
		var out []*Plot
		for _, p := range r.Plots {
			if p.Section == sec {
				out = append(out, p)
			}
		}
		return out
	}
	epochs := section{ID: "epochs", Title: SectionEpochs, Plots: byName(SectionEpochs),
		Intro: []string{"D1 and D2 at every in-training audit (faudit train --audit-every N), with the thresholds they are checked against: the epoch a line crosses is the epoch the check would first have fired."}}
	if len(epochs.Plots) == 0 {
		epochs.Intro = []string{"No run has in-training audit records in metrics.jsonl (train with --audit-every N to get them), so there is nothing to plot against epoch."}
	}
	out := []section{
		{ID: "audit", Title: "Audit table", Tables: []Table{r.AuditTable()},
			Intro: []string{"Read a row left to right: what the standard pair reports (accuracy, aggregate Γ), where the credit sits (Γ per position), then the protocol's checks and verdict. " +
				"A verdict written FAIL k/n means the seeds disagree: k of the n audited seeds fail."}},
		{ID: "gamma", Title: SectionGamma, Tables: gammas, Plots: byName(SectionGamma)},
		{ID: "fresh-b", Title: SectionFreshB, Intro: r.freshBIntro(), Tables: r.FreshBTables(), Plots: byName(SectionFreshB)},
		{ID: "norms", Title: SectionNorms, Tables: norms, Plots: byName(SectionNorms)},
		epochs,
	}
	if t := r.PenaltyTables(); len(t) > 0 {
		out = append(out, section{ID: "penalty", Title: SectionPenalty, Tables: t, Plots: byName(SectionPenalty),
			Intro: []string{"Groups that differ only in the per-block scale penalty λ‖f_l(h_l)‖². If the penalty cures Mode 1, ‖h_L‖ falls, ‖g_L‖ rises above the D2 floor and D1/D2 stop firing; the per-position Γ table still shows where the credit sits."}})
	}
	if t := r.LadderTables(); len(t) > 0 {
		out = append(out, section{ID: "ladder", Title: SectionLadder, Tables: t, Plots: byName(SectionLadder)})
	}
	out = append(out,
		section{ID: "calibration", Title: "Calibration margins and the decision table", Tables: []Table{r.CalibrationTable(), r.DecisionTable()},
			Intro: []string{"The paper's first summary analysis (§5.11): how far the passing and failing runs lie from each check's threshold, and what the standard pair would have concluded beside the protocol."}},
		section{ID: "function", Title: SectionFunction, Tables: r.RankingTables(), Plots: byName(SectionFunction),
			Intro: []string{"The paper's second summary analysis (§8.5): does a higher deep-position cosine mean credit that does more? " + r.Ranking.Summary + "."}},
		section{ID: "runs", Title: "Runs", Tables: []Table{r.RunsTable()}},
	)
	return out
}

// header is the opening paragraph: what was aggregated.
func (r *Report) header() string {
	return fmt.Sprintf("%d runs (%d audited, %d frozen-blocks baselines) in %d groups, found under %s; report by faudit %s; runs trained by faudit %s.",
		r.NRuns, r.NAudited, r.NBaselines, len(r.Groups), r.Dir, r.Version, strings.Join(r.RunVersions, ", "))
}
