package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/faudit/faudit/protocol"
)

// Table is one table of the report, rendered to Markdown and HTML alike.
type Table struct {
	ID      string
	Title   string
	Caption string
	Header  []string
	Rows    [][]string
}

// num formats a number as protocol.FormatNum does (the audit's own
// tables), but with ∞ and −∞ for infinities.
func num(x float64) string {
	switch {
	case math.IsInf(x, 1):
		return "∞"
	case math.IsInf(x, -1):
		return "−∞"
	}
	return protocol.FormatNum(x)
}

func acc(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return fmt.Sprintf("%.4f", x)
}

func pp(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return fmt.Sprintf("%+.2f", x)
}

// pm is "mean ± std" with f, and "mean ± —" for one seed.
func pm(s Stat, f func(float64) string) string {
	if math.IsNaN(s.Mean) {
		return "—"
	}
	std := "—"
	if !math.IsNaN(s.Std) {
		std = strings.TrimPrefix(f(s.Std), "+")
	}
	return f(s.Mean) + " ± " + std
}

func times(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return num(x) + "×"
}

func (g *Group) seedsCell() string {
	if g.Audited == len(g.rows) {
		return fmt.Sprint(len(g.rows))
	}
	return fmt.Sprintf("%d (%d audited)", len(g.rows), g.Audited)
}

func gammaProfile(s []Stat) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = protocol.FormatSigned(v.Mean)
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, " ")
}

// AuditTable is one row per group.
func (r *Report) AuditTable() Table {
	t := Table{ID: "audit", Title: "Audit table",
		Caption: "One row per rule × architecture × settings; n seeds. Accuracy, Γ, D3 and M2: mean ± std (ddof = 1) over seeds. " +
			"D1, ‖h_L‖ and the D2 values: geometric mean over seeds. Γ per position lists h0 … hL.",
		Header: []string{"group", "n", "accuracy", "Γ mean_all", "Γ mean_deep", "Γ per position (h0 … hL)", "D1 growth", "‖h_L‖",
			"D2 ‖g_L‖ paper", "D2 κ", "D3 lead (pp)", "M2", "verdict", "checks fired"}}
	for _, g := range r.Groups {
		t.Rows = append(t.Rows, []string{g.Label, g.seedsCell(), pm(g.Accuracy, acc), pm(g.GammaAll, protocol.FormatSigned), pm(g.GammaDeep, protocol.FormatSigned),
			gammaProfile(g.Gamma), times(g.D1.Mean), num(lastStat(g.HNorm).Mean), num(g.D2Paper.Mean), num(g.D2RelErr.Mean),
			pm(g.D3Lead, pp), num(g.M2.Mean), g.Verdict, g.FiredSummary()})
	}
	return t
}

// PositionTables are, per architecture, Γ_p (mean ± std; rule groups
// only) and the median norms ‖h_p‖ and ‖g_p‖ per position.
func (r *Report) PositionTables() (gammas, norms []Table) {
	for _, f := range archFamilies(r.Groups, true) {
		P := f.groups[0].Positions
		header := append([]string{"group"}, positionTicks(P)...)
		gamma := Table{ID: "gamma-" + slug(f.label), Title: "Per-position Γ — " + f.label, Header: header,
			Caption: "Γ_p, mean ± std over seeds: where the credit sits."}
		h := Table{ID: "h-" + slug(f.label), Title: "Median ‖h_p‖ — " + f.label, Header: header, Caption: "Geometric mean over seeds."}
		g := Table{ID: "g-" + slug(f.label), Title: "Median ‖g_p‖, paper convention — " + f.label, Header: header,
			Caption: fmt.Sprintf("Geometric mean over seeds; D2's paper criterion fails below %g at the deepest position.", r.Thresholds.D2PaperFloor)}
		for _, grp := range f.groups {
			gr, hr, gg := []string{grp.Label}, []string{grp.Label}, []string{grp.Label}
			for p := 0; p < P; p++ {
				gr = append(gr, pm(grp.Gamma[p], protocol.FormatSigned))
				hr = append(hr, num(grp.HNorm[p].Mean))
				gg = append(gg, num(grp.GNormPaper[p].Mean))
			}
			if !grp.Baseline {
				gamma.Rows = append(gamma.Rows, gr)
			}
			h.Rows, g.Rows = append(h.Rows, hr), append(g.Rows, gg)
		}
		if len(gamma.Rows) > 0 {
			gammas = append(gammas, gamma)
		}
		norms = append(norms, h, g)
	}
	return gammas, norms
}

// interval writes a threshold range with its open and closed ends.
func interval(c Calibration) string {
	if math.IsNaN(c.RangeLo) {
		return "—"
	}
	if !c.Consistent {
		return "none"
	}
	lo, hi := "[", "]"
	if c.LoOpen {
		lo = "("
	}
	if c.HiOpen {
		hi = ")"
	}
	return fmt.Sprintf("%s%s, %s%s", lo, num(c.RangeLo), num(c.RangeHi), hi)
}

func extreme(v float64, run string, n int) string {
	if n == 0 {
		return "— (none)"
	}
	return fmt.Sprintf("%s (%s; %d runs)", num(v), run, n)
}

func gap(c Calibration) string {
	if math.IsNaN(c.Gap) {
		return "—"
	}
	if c.GapUnit == "×" {
		return num(c.Gap) + "×"
	}
	return strings.TrimSpace(num(c.Gap) + " " + c.GapUnit)
}

// CalibrationTable is the calibration margins (paper §5.11).
func (r *Report) CalibrationTable() Table {
	t := Table{ID: "calibration", Title: "Calibration margins",
		Caption: "Across every audited run: the healthy side's extreme (the passing run closest to failing), the failing side's extreme " +
			"(the failing run closest to passing), their gap, and the range of thresholds t that gives every run the verdict it has. " +
			"A wide range means the verdicts do not hinge on the exact threshold.",
		Header: []string{"check", "quantity", "passes when", "threshold used", "healthy extreme", "failing extreme", "gap", "thresholds with identical verdicts", "note"}}
	for _, c := range r.Calibration {
		t.Rows = append(t.Rows, []string{c.Check, c.Quantity, c.PassWhen, num(c.Threshold), extreme(c.HealthyExtreme, c.HealthyRun, c.Healthy),
			extreme(c.FailingExtreme, c.FailingRun, c.Failing), gap(c), interval(c), c.Note})
	}
	return t
}

// DecisionTable is the standard pair beside the protocol, per group.
func (r *Report) DecisionTable() Table {
	t := Table{ID: "decisions", Title: "Decision table: the standard pair vs the protocol",
		Caption: "Rule: " + StandardPairRule + ". The protocol's verdict and the checks that fired (seeds failing / seeds checked).",
		Header:  []string{"group", "accuracy", "Γ mean_all", "chance", "standard pair", "runs it accepts", "protocol verdict", "checks fired", "reading"}}
	for _, d := range r.Decisions {
		t.Rows = append(t.Rows, []string{d.Group, acc(d.Accuracy), protocol.FormatSigned(d.Gamma), acc(d.Chance), d.Pair,
			fmt.Sprintf("%d/%d", d.PairAccepts, d.Audited), d.Verdict, d.Fired, d.Reading})
	}
	return t
}

func rankCell(m RankMetric, i int) string {
	v := m.Values[i]
	if math.IsNaN(v) {
		return "—"
	}
	var s string
	switch m.Name {
	case "deep Γ":
		s = protocol.FormatSigned(v)
	case "accuracy":
		s = acc(v)
	case "D3 lead":
		s = pp(v) + " pp"
	default:
		s = num(v)
	}
	return fmt.Sprintf("%s (#%s)", s, num(m.Ranks[i]))
}

// RankingTables are the cosine-vs-function ranks and their agreement.
func (r *Report) RankingTables() []Table {
	rk := r.Ranking
	t := Table{ID: "ranking", Title: "Cosine vs function: rankings",
		Caption: "Audited rule groups ranked (#1 = best) by deep Γ (mean over positions ≥ 1) and by what the credit does: accuracy, " +
			"nudge Δloss (a step of 0.01‖h‖ against the credit, mean over positions ≥ 1; more negative = better), training-loss decrease " +
			"(first epoch − last) and D3 lead over the frozen baseline.",
		Header: []string{"group"}}
	for _, m := range rk.Metrics {
		t.Header = append(t.Header, m.Name)
	}
	for i, g := range rk.Groups {
		row := []string{g}
		for _, m := range rk.Metrics {
			row = append(row, rankCell(m, i))
		}
		t.Rows = append(t.Rows, row)
	}
	a := Table{ID: "agreement", Title: "Does the cosine ranking agree with the functional ones?",
		Caption: "Kendall's τ_b between the deep-Γ ranks and each functional ranking (1 = same order, −1 = reversed); discordant pairs are groups the two order oppositely.",
		Header:  []string{"functional metric", "Kendall τ_b", "discordant pairs", "reading"}}
	for _, ag := range rk.Agreements {
		a.Rows = append(a.Rows, []string{ag.Metric, protocol.FormatSigned(ag.Tau), fmt.Sprintf("%d of %d", ag.Discordant, ag.Pairs), ag.Reading})
	}
	return []Table{t, a}
}

// PenaltyTables show each penalty family against λ.
func (r *Report) PenaltyTables() []Table {
	var out []Table
	for _, f := range penaltyFamilies(r.Groups) {
		t := Table{ID: "penalty-" + slug(f.label), Title: "Penalty sweep — " + f.label,
			Caption: "Per λ: accuracy (mean ± std), the deepest position's norms (geometric means), D1 and the verdict.",
			Header:  []string{"λ", "n", "accuracy", "‖h_L‖", "‖g_L‖ paper", "D1 growth", "Γ mean_deep", "verdict"}}
		for _, g := range f.groups {
			t.Rows = append(t.Rows, []string{formatLambda(g.Config.Penalty), g.seedsCell(), pm(g.Accuracy, acc), num(lastStat(g.HNorm).Mean),
				num(lastStat(g.GNormPaper).Mean), times(g.D1.Mean), pm(g.GammaDeep, protocol.FormatSigned), g.Verdict})
		}
		out = append(out, t)
	}
	return out
}

// LadderTables show each depth ladder against k.
func (r *Report) LadderTables() []Table {
	var out []Table
	for _, f := range ladderFamilies(r.Groups) {
		t := Table{ID: "ladder-" + slug(f.label), Title: "Depth ladder — " + f.label,
			Caption: "Accuracy when only the last k blocks learn (k = 0: the frozen-blocks baseline).",
			Header:  []string{"k", "group", "n", "accuracy"}}
		for _, g := range f.groups {
			t.Rows = append(t.Rows, []string{fmt.Sprint(trainedBlocks(g.Config)), g.Label, g.seedsCell(), pm(g.Accuracy, acc)})
		}
		out = append(out, t)
	}
	return out
}

// RunsTable is one row per run.
func (r *Report) RunsTable() Table {
	t := Table{ID: "runs", Title: "Runs", Caption: "Every run found, relative to " + r.Dir + ".",
		Header: []string{"run", "group", "seed", "accuracy", "Γ mean_all", "Γ mean_deep", "D1 growth", "D2 ‖g_L‖ paper", "D2 κ", "D3 lead (pp)", "M2", "verdict", "standard pair", "note"}}
	for _, row := range r.Runs {
		t.Rows = append(t.Rows, []string{row.Dir, row.Group, fmt.Sprint(row.Seed), acc(row.Accuracy), protocol.FormatSigned(row.GammaAll), protocol.FormatSigned(row.GammaDeep),
			times(row.D1), num(row.D2Paper), num(row.D2RelErr), pp(row.D3Lead), num(row.M2), row.Verdict, row.StandardPair, row.AuditNote})
	}
	return t
}
