package report

import (
	"math"

	"github.com/faudit/faudit/protocol"
)

// RunRow is one run's numbers as the report uses them (NaN where a value
// does not exist: not audited, check not run, one epoch, …).
type RunRow struct {
	Dir          string         `json:"dir"`
	Group        string         `json:"group"`
	Seed         uint64         `json:"seed"`
	FeedbackSeed uint64         `json:"feedback_seed"`
	Baseline     bool           `json:"baseline"`
	Classes      int            `json:"classes"`
	Epochs       int            `json:"epochs"`
	Accuracy     float64        `json:"accuracy"`
	TestLoss     float64        `json:"test_loss"`
	TrainLoss    float64        `json:"train_loss"`
	LossDrop     float64        `json:"train_loss_decrease"` // first epoch's train_loss − last epoch's
	Audited      bool           `json:"audited"`
	AuditNote    string         `json:"audit_note,omitempty"`
	Verdict      string         `json:"verdict"`
	GammaAll     float64        `json:"gamma_mean_all"`
	GammaDeep    float64        `json:"gamma_mean_deep"`
	Gamma        []float64      `json:"gamma"`
	HNorm        []float64      `json:"h_norm"`
	GNormPaper   []float64      `json:"g_norm_paper"`
	D1           float64        `json:"d1_growth"`
	D2Paper      float64        `json:"d2_g_norm_paper"`
	D2RelErr     float64        `json:"d2_rel_err"`
	D2Fired      []string       `json:"d2_fired"` // D2 criteria that fired
	D3Lead       float64        `json:"d3_lead_pp"`
	D3Source     string         `json:"d3_source,omitempty"` // "audit" or "baseline found by the report"
	FrozenAcc    float64        `json:"frozen_acc"`
	M2           float64        `json:"m2_ratio"`
	NudgeDeep    float64        `json:"nudge_deep"` // mean over positions ≥ 1 of the nudge Δloss
	Ran          []string       `json:"checks_ran"`
	Fired        []string       `json:"checks_fired"`
	FirstFired   map[string]int `json:"first_fired_epoch,omitempty"`
	StandardPair string         `json:"standard_pair"` // what the standard pair says (see StandardPairRule)

	run *Run
}

var nan = math.NaN()

// newRunRow reads a run's numbers.
func newRunRow(r *Run) *RunRow {
	row := &RunRow{Dir: r.Dir, Seed: r.Config.Seed, FeedbackSeed: r.Config.FeedbackSeed, Baseline: r.Baseline,
		Classes: r.Config.Model.Classes, Epochs: r.Result.Epochs, Accuracy: r.Result.TestAcc,
		TestLoss: r.Result.TestLoss, TrainLoss: r.Result.TrainLoss, LossDrop: lossDrop(r),
		Verdict: "not audited", AuditNote: r.AuditNote,
		GammaAll: nan, GammaDeep: nan, D1: nan, D2Paper: nan, D2RelErr: nan, D3Lead: nan, FrozenAcc: nan, M2: nan, NudgeDeep: nan,
		StandardPair: "—", run: r}
	if a := r.Audit; a != nil {
		row.fromAudit(a)
	}
	return row
}

// lossDrop is the first epoch's training loss minus the last's (NaN with
// fewer than two epochs).
func lossDrop(r *Run) float64 {
	if len(r.Metrics) < 2 {
		return nan
	}
	return r.Metrics[0].TrainLoss - r.Metrics[len(r.Metrics)-1].TrainLoss
}

// fromAudit fills the audited fields.
func (row *RunRow) fromAudit(a *protocol.Report) {
	row.Audited, row.Verdict = true, a.Verdict
	row.GammaAll, row.GammaDeep = a.Aggregate.MeanAll, a.Aggregate.MeanDeep
	nudge := []float64{}
	for p, l := range a.Layers {
		row.Gamma = append(row.Gamma, l.CosMean)
		row.HNorm = append(row.HNorm, l.HNorm.Median)
		row.GNormPaper = append(row.GNormPaper, l.GNormPaper)
		if p >= 1 {
			nudge = append(nudge, l.Nudge)
		}
	}
	row.NudgeDeep = meanStd(nudge).Mean
	value := func(name string) float64 {
		if c, ok := a.Checks[name]; ok && c.Ran {
			return c.Value
		}
		return nan
	}
	row.D1, row.M2 = value("D1"), value("M2")
	row.D2Paper, row.D2RelErr = a.Layers[len(a.Layers)-1].GNormPaper, nan
	if d2, ok := a.Checks["D2"]; ok && d2.Criteria != nil {
		row.D2Paper, row.D2RelErr = d2.Criteria["paper"].Value, d2.Criteria["precision"].Value
		for _, k := range []string{"paper", "precision"} {
			if d2.Criteria[k].Fired {
				row.D2Fired = append(row.D2Fired, k)
			}
		}
	}
	if d3 := value("D3"); !math.IsNaN(d3) {
		row.D3Lead, row.D3Source = d3, "audit"
		if a.FrozenAcc != nil {
			row.FrozenAcc = *a.FrozenAcc
		}
	}
	for _, k := range protocol.CheckNames {
		c, ok := a.Checks[k]
		if !ok || !c.Ran {
			continue
		}
		row.Ran = append(row.Ran, k)
		if !c.Pass {
			row.Fired = append(row.Fired, k)
		}
		if c.FirstFired != nil {
			if row.FirstFired == nil {
				row.FirstFired = map[string]int{}
			}
			row.FirstFired[k] = *c.FirstFired
		}
	}
	row.StandardPair = standardPair(row.Accuracy, row.GammaAll, row.Classes)
}

// attachBaselines gives rules without an audited D3 the accuracy lead over
// a frozen-blocks baseline of the identical recipe and seed found among the
// runs.
func attachBaselines(rows []*RunRow) {
	frozen := map[string]float64{}
	for _, r := range rows {
		if r.Baseline {
			frozen[frozenKey(r.run.Config)] = r.Accuracy
		}
	}
	for _, r := range rows {
		if r.Baseline || !math.IsNaN(r.D3Lead) {
			continue
		}
		if acc, ok := frozen[frozenKey(r.run.Config)]; ok {
			r.FrozenAcc, r.D3Lead, r.D3Source = acc, (r.Accuracy-acc)*100, "baseline found by the report"
		}
	}
}
