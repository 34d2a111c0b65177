package report

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/faudit/faudit"
	"github.com/faudit/faudit/protocol"
)

// Report is everything faudit report writes; report.json is this struct.
type Report struct {
	Version          string              `json:"faudit_version"`
	Dir              string              `json:"dir"`
	RunVersions      []string            `json:"run_versions"` // faudit versions that trained the runs
	NRuns            int                 `json:"n_runs"`
	NAudited         int                 `json:"n_audited"`
	NBaselines       int                 `json:"n_baselines"`
	Thresholds       protocol.Thresholds `json:"thresholds"`
	Conventions      map[string]string   `json:"conventions"`
	StandardPairRule string              `json:"standard_pair_rule"`
	Groups           []*Group            `json:"groups"`
	Runs             []*RunRow           `json:"runs"`
	Calibration      []Calibration       `json:"calibration"`
	Decisions        []Decision          `json:"decisions"`
	Ranking          Ranking             `json:"cosine_vs_function"`
	FreshB           []FreshBGroup       `json:"fresh_b"` // groups whose audits carry the fresh-B null
	Plots            []*Plot             `json:"plots"`
	Notes            []string            `json:"notes"`
}

// ReportConventions state how the report aggregates, beside the audit's
// own conventions (protocol.Conventions).
var ReportConventions = map[string]string{
	"report_groups":    "runs are grouped by config.json minus seed, feedback_seed, faudit_version, gemm_backend, gomaxprocs, audit_every and audit_n; the runs of a group are its seeds",
	"report_mean_std":  "accuracy, Γ (aggregate and per position), D3 lead, M2, nudge and training-loss decrease: mean ± sample std (ddof = 1) over seeds; \"—\" for the std of one seed",
	"report_geometric": "D1 growth, ‖h_p‖, ‖g_p‖ and D2's values span orders of magnitude: geometric mean over seeds",
	"report_verdict":   "a group's verdict is its seeds' common verdict, else FAIL k/n (k of n audited seeds fail), with how often each check fired",
	"report_deep":      "deep Γ and the nudge used for ranking: mean over positions p ≥ 1 (aggregate mean_deep; nudge Δloss averaged the same way, more negative = better)",
	"report_loss_drop": "training-loss decrease: the first epoch's train_loss minus the last epoch's, from metrics.jsonl",
	"report_ranks":     "ranks: 1 = best, ties share the mean rank; agreement with the deep-Γ ranking by Kendall's τ_b",
	"report_fresh_b":   "fresh-B null, per group and position over the runs whose audit.json carries fresh_b: Γ_train mean ± std over runs; Γ_fresh the mean of the runs' means over draws ± σ, the pooled within-run std over draws √(Σ (n_i − 1) s_i² / Σ (n_i − 1)); Δ = Γ_train − Γ_fresh and Δ/σ; reading: " + FreshBCriterion,
	"report_d3":        "D3 lead: accuracy minus the frozen-blocks baseline in pp, from audit.json, else from a baseline of the identical recipe and seed found under the directory",
}

// Build computes the report of the runs in c; dir is how to name the root
// in the output.
func Build(c *Collection, dir string) *Report {
	r := &Report{Version: faudit.Version, Dir: dir, NRuns: len(c.Runs), StandardPairRule: StandardPairRule,
		Conventions: map[string]string{}, Notes: append([]string(nil), c.Notes...)}
	for k, v := range protocol.Conventions {
		r.Conventions[k] = v
	}
	for k, v := range ReportConventions {
		r.Conventions[k] = v
	}
	r.Thresholds = r.thresholdsOf(c.Runs)
	versions := map[string]bool{}
	for _, run := range c.Runs {
		row := newRunRow(run)
		r.Runs = append(r.Runs, row)
		versions[run.Config.Version] = true
		if row.Audited {
			r.NAudited++
		}
		if row.Baseline {
			r.NBaselines++
		}
	}
	for v := range versions {
		r.RunVersions = append(r.RunVersions, v)
	}
	sort.Strings(r.RunVersions)
	attachBaselines(r.Runs)
	r.Groups = groupRows(r.Runs)
	r.Calibration = calibrations(c.Runs, r.Thresholds)
	r.Decisions = decisions(r.Groups)
	r.Ranking = rank(r.Groups)
	r.FreshB = freshBGroups(r.Groups)
	r.Plots = r.plots()
	return r
}

// thresholdsOf is the audits' thresholds (the defaults when nothing is
// audited), with a note when the audits used different ones.
func (r *Report) thresholdsOf(runs []*Run) protocol.Thresholds {
	th := protocol.DefaultThresholds()
	first := true
	for _, run := range runs {
		if run.Audit == nil {
			continue
		}
		if first {
			th, first = run.Audit.Thresholds, false
		} else if !reflect.DeepEqual(th, run.Audit.Thresholds) {
			r.Notes = append(r.Notes, fmt.Sprintf("%s was audited with other thresholds (%+v) than the first audited run (%+v); the report shows the first", run.Dir, run.Audit.Thresholds, th))
		}
	}
	return th
}
