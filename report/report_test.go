package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/faudit/faudit/chart"
	"github.com/faudit/faudit/internal/nanjson"
	"github.com/faudit/faudit/protocol"
	"github.com/faudit/faudit/train"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

func build(t *testing.T, fs []fixture) (*Report, string) {
	t.Helper()
	root := writeAll(t, fs)
	c, err := Load(root, "")
	if err != nil {
		t.Fatal(err)
	}
	return Build(c, root), root
}

// named is the item of items called name (by nameOf), failing the test
// with every name there is when none is.
func named[T any](t *testing.T, items []T, nameOf func(T) string, name, what string) T {
	t.Helper()
	var names []string
	for _, it := range items {
		if nameOf(it) == name {
			return it
		}
		names = append(names, nameOf(it))
	}
	t.Fatalf("no %s %q; %ss: %q", what, name, what, names)
	var zero T
	return zero
}

func groupByLabel(t *testing.T, r *Report, label string) *Group {
	t.Helper()
	return named(t, r.Groups, func(g *Group) string { return g.Label }, label, "group")
}

func TestGroupingAndMeanStd(t *testing.T) {
	r, _ := build(t, sweepFixtures())
	if r.NRuns != 13 || r.NAudited != 9 || r.NBaselines != 3 {
		t.Errorf("runs %d, audited %d, baselines %d; want 13, 9, 3", r.NRuns, r.NAudited, r.NBaselines)
	}
	bp := groupByLabel(t, r, "bp · resmlp d32 L2")
	if len(bp.Seeds) != 3 || bp.Audited != 3 {
		t.Fatalf("bp group: seeds %v, audited %d; want the 3 seeds despite different backends", bp.Seeds, bp.Audited)
	}
	// 0.90, 0.92, 0.94: mean 0.92, sample std 0.02
	if !near(bp.Accuracy.Mean, 0.92, 1e-12) || !near(bp.Accuracy.Std, 0.02, 1e-12) {
		t.Errorf("bp accuracy %v ± %v; want 0.92 ± 0.02 (ddof=1)", bp.Accuracy.Mean, bp.Accuracy.Std)
	}
	if got := pm(bp.Accuracy, acc); got != "0.9200 ± 0.0200" {
		t.Errorf("formatted %q", got)
	}
	dfa := groupByLabel(t, r, "dfa rms · resmlp d32 L2")
	// 0.3, 0.5: mean 0.4, std √0.02
	if !near(dfa.Accuracy.Mean, 0.4, 1e-12) || !near(dfa.Accuracy.Std, math.Sqrt(0.02), 1e-12) {
		t.Errorf("dfa accuracy %v ± %v; want 0.4 ± %v", dfa.Accuracy.Mean, dfa.Accuracy.Std, math.Sqrt(0.02))
	}
	if len(dfa.Gamma) != 3 || !near(dfa.Gamma[0].Mean, 0.42, 1e-12) || dfa.Gamma[0].Std != 0 {
		t.Errorf("dfa per-position Γ %+v", dfa.Gamma)
	}
	if !near(dfa.GammaDeep.Mean, (0.006-0.015)/2, 1e-12) {
		t.Errorf("dfa deep Γ %v", dfa.GammaDeep.Mean)
	}
	// D1 = 1000 for both seeds: the geometric mean is 1000
	if !near(dfa.D1.Mean, 1000, 1e-9) || !dfa.D1.Geometric {
		t.Errorf("dfa D1 %+v", dfa.D1)
	}
	k1 := groupByLabel(t, r, "bp k=1 · resmlp d32 L2")
	if !math.IsNaN(k1.Accuracy.Std) || pm(k1.Accuracy, acc) != "0.8000 ± —" || k1.Verdict != "not audited" {
		t.Errorf("one-seed group: %+v, %q, verdict %q", k1.Accuracy, pm(k1.Accuracy, acc), k1.Verdict)
	}
	groupByLabel(t, r, "dfa rms λ=1e-2 · resmlp d32 L2")
	frozen := groupByLabel(t, r, "frozen k=0 · resmlp d32 L2")
	if !frozen.Baseline || r.Groups[len(r.Groups)-1] != frozen {
		t.Errorf("the baseline group should come last and be marked a baseline")
	}
	if r.Groups[0] != bp {
		t.Errorf("first group %q; want bp", r.Groups[0].Label)
	}
}

func TestLabelsDisambiguateByTheDifferingSetting(t *testing.T) {
	a, b := baseConfig("bp", 1), baseConfig("bp", 1)
	b.LR = 3e-3
	r, _ := build(t, []fixture{{dir: "a", cfg: a, acc: 0.9}, {dir: "b", cfg: b, acc: 0.9}})
	groupByLabel(t, r, "bp · resmlp d32 L2 (lr=0.001)")
	groupByLabel(t, r, "bp · resmlp d32 L2 (lr=0.003)")
}

func TestFormatLambda(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1e-4: "1e-4", 0.01: "1e-2", 0.5: "0.5", 2.5e-3: "2.5e-3", 1e5: "1e5"} {
		if got := formatLambda(v); got != want {
			t.Errorf("formatLambda(%v) = %q; want %q", v, got, want)
		}
	}
}

func TestVerdictAggregation(t *testing.T) {
	all := []bool{true, true, true}
	for _, tc := range []struct {
		verdicts []string
		audited  []bool
		want     string
	}{
		{[]string{"PASS", "PASS", "PASS"}, all, "PASS"},
		{[]string{"FAIL(D1+D2)", "FAIL(D1+D2)", "FAIL(D1+D2)"}, all, "FAIL(D1+D2)"},
		{[]string{"PASS", "FAIL(D1)", "FAIL(D1+D2)"}, all, "FAIL 2/3"},
		{[]string{"FAIL(D1)", "FAIL(D1+D2)", "FAIL(D1)"}, all, "FAIL 3/3"},
		{[]string{"PASS", "not audited", "FAIL(D3)"}, []bool{true, false, true}, "FAIL 1/2"},
		{[]string{"PASS", "not audited"}, []bool{true, false}, "PASS"},
		{[]string{"not audited"}, []bool{false}, "not audited"},
	} {
		if got := aggregateVerdict(tc.verdicts, tc.audited); got != tc.want {
			t.Errorf("%v: %q; want %q", tc.verdicts, got, tc.want)
		}
	}
	// Through the fixtures: one dfa seed passes D3 (0.6 vs 0.5 + 2 pp), the other does not.
	r, _ := build(t, sweepFixtures())
	g := groupByLabel(t, r, "dfa rms λ=1e-2 · resmlp d32 L2")
	if g.Verdict != "FAIL 1/2" || g.FiredSummary() != "D3 1/2" {
		t.Errorf("λ=1e-2 group: verdict %q, fired %q; want FAIL 1/2 with D3 1/2 (verdicts %v)", g.Verdict, g.FiredSummary(), g.Verdicts)
	}
	d := groupByLabel(t, r, "dfa rms · resmlp d32 L2")
	if d.Verdict != "FAIL(D1+D2+D3+M2)" || d.FiredSummary() != "D1 2/2, D2 2/2, D3 2/2, M2 2/2" {
		t.Errorf("dfa: verdict %q, fired %q", d.Verdict, d.FiredSummary())
	}
}

// audited builds a Run whose audit has the given check values and passes.
func auditedRun(dir string, checks map[string]protocol.Check) *Run {
	return &Run{Dir: dir, Audit: &protocol.Report{Checks: checks, Verdict: "x", Thresholds: protocol.DefaultThresholds()}}
}

func d1d2(d1 float64, d1pass bool, g float64, gfired bool) map[string]protocol.Check {
	return map[string]protocol.Check{
		"D1": {Value: d1, Pass: d1pass, Ran: true},
		"D2": {Ran: true, Criteria: map[string]protocol.Criterion{"paper": {Value: g, Fired: gfired}, "precision": {Value: math.NaN()}}},
	}
}

func TestCalibrationMargins(t *testing.T) {
	// The paper's §5.11 numbers: healthy max ρ 11.0, failing min 694; healthy min ‖g_L‖ 1.02e-4, failing max 4.18e-9.
	runs := []*Run{
		auditedRun("bp1", d1d2(11.0, true, 1.02e-4, false)),
		auditedRun("bp2", d1d2(4.0, true, 3e-4, false)),
		auditedRun("dfa1", d1d2(694, false, 4.18e-9, true)),
		auditedRun("dfa2", d1d2(4000, false, 1e-10, true)),
		{Dir: "unaudited"},
	}
	cs := calibrations(runs, protocol.DefaultThresholds())
	d1, d2 := cs[0], cs[1]
	if d1.HealthyExtreme != 11 || d1.HealthyRun != "bp1" || d1.FailingExtreme != 694 || d1.FailingRun != "dfa1" || d1.Healthy != 2 || d1.Failing != 2 {
		t.Errorf("D1 extremes: %+v", d1)
	}
	if !near(d1.Gap, 694/11.0, 1e-12) || interval(d1) != "[11, 694)" || !d1.Consistent {
		t.Errorf("D1 gap %v, range %s", d1.Gap, interval(d1))
	}
	if d2.HealthyExtreme != 1.02e-4 || d2.FailingExtreme != 4.18e-9 || !near(d2.Gap, 1.02e-4/4.18e-9, 1e-12) {
		t.Errorf("D2 extremes: %+v", d2)
	}
	if got := interval(d2); got != "(4.18e-09, 1.02e-04]" {
		t.Errorf("D2 range %s", got)
	}
	if cs[2].Note == "" || cs[2].Healthy+cs[2].Failing != 0 {
		t.Errorf("D2 precision with only NaN values should be empty with a note: %+v", cs[2])
	}
	// Overlapping sides (e.g. audits with different thresholds): no single threshold.
	runs = append(runs, auditedRun("odd", d1d2(5, false, 1e-3, false)))
	c := calibrations(runs, protocol.DefaultThresholds())[0]
	if c.Consistent || interval(c) != "none" || !(c.Gap < 1) {
		t.Errorf("overlap: consistent %v, range %s, gap %v", c.Consistent, interval(c), c.Gap)
	}
	// One side only: the range is unbounded on the other.
	c = calibrations(runs[:2], protocol.DefaultThresholds())[0]
	if interval(c) != "[11, ∞)" || !math.IsNaN(c.Gap) {
		t.Errorf("no failing run: range %s, gap %v", interval(c), c.Gap)
	}
}

func TestRanksAndKendallTau(t *testing.T) {
	eq := func(a, b []float64) bool {
		for i := range a {
			if !(a[i] == b[i] || math.IsNaN(a[i]) && math.IsNaN(b[i])) {
				return false
			}
		}
		return len(a) == len(b)
	}
	if got := ranks([]float64{3, 1, 2}, true); !eq(got, []float64{1, 3, 2}) {
		t.Errorf("ranks higher-better %v", got)
	}
	if got := ranks([]float64{-1e-3, -1e-5, math.NaN(), -1e-4}, false); !eq(got, []float64{1, 3, math.NaN(), 2}) {
		t.Errorf("ranks lower-better %v", got)
	}
	if got := ranks([]float64{1, 1, 2}, true); !eq(got, []float64{2.5, 2.5, 1}) {
		t.Errorf("ties %v", got)
	}
	for _, tc := range []struct {
		x, y       []float64
		tau        float64
		discordant int
	}{
		{[]float64{1, 2, 3}, []float64{1, 2, 3}, 1, 0},
		{[]float64{1, 2, 3}, []float64{3, 2, 1}, -1, 3},
		{[]float64{1, 2, 3}, []float64{1, 3, 2}, 1.0 / 3, 1},
		{[]float64{1, 1, 2}, []float64{1, 2, 3}, 2 / math.Sqrt(6), 0}, // τ_b with a tie
		{[]float64{1, 2, math.NaN(), 3}, []float64{1, 2, 9, 3}, 1, 0},
	} {
		tau, disc, _ := kendallTau(tc.x, tc.y)
		if !near(tau, tc.tau, 1e-12) || disc != tc.discordant {
			t.Errorf("τ(%v, %v) = %v with %d discordant; want %v, %d", tc.x, tc.y, tau, disc, tc.tau, tc.discordant)
		}
	}
	if tau, _, _ := kendallTau([]float64{1}, []float64{2}); !math.IsNaN(tau) {
		t.Errorf("one pair: τ %v; want NaN", tau)
	}
}

// The paper's §8.5 reversal: CB has the highest deep cosine, SB the best
// accuracy, nudge and loss decrease.
func TestCosineVsFunctionRanking(t *testing.T) {
	mk := func(label string, cos, acc, nudge, drop float64) *Group {
		return &Group{Label: label, Audited: 3, GammaDeep: Stat{Mean: cos}, Accuracy: Stat{Mean: acc}, NudgeDeep: Stat{Mean: nudge},
			LossDrop: Stat{Mean: drop}, D3Lead: Stat{Mean: (acc - 0.349) * 100}}
	}
	groups := []*Group{mk("SB", 0.322, 0.453, -1.93e-3, 0.458), mk("CB", 0.679, 0.360, -4.26e-4, 0.122), mk("DFA", 0.151, 0.359, -4.98e-5, 0.095),
		{Label: "frozen", Baseline: true, Audited: 1, GammaDeep: Stat{Mean: 1}}}
	rk := rank(groups)
	if len(rk.Groups) != 3 {
		t.Fatalf("ranked %v; the baseline must be left out", rk.Groups)
	}
	if got := rk.Metrics[0].Ranks; got[0] != 2 || got[1] != 1 || got[2] != 3 {
		t.Errorf("cosine ranks %v; want SB 2, CB 1, DFA 3", got)
	}
	byMetric := map[string]RankAgreement{}
	for _, a := range rk.Agreements {
		byMetric[a.Metric] = a
	}
	// accuracy SB 1, CB 2, DFA 3 vs cosine SB 2, CB 1, DFA 3: one discordant pair of three.
	if a := byMetric["accuracy"]; !near(a.Tau, 1.0/3, 1e-12) || a.Discordant != 1 || a.Reading != "weak agreement" {
		t.Errorf("accuracy agreement %+v", a)
	}
	if a := byMetric["nudge Δloss"]; !near(a.Tau, 1.0/3, 1e-12) || a.Discordant != 1 {
		t.Errorf("nudge agreement %+v", a)
	}
	if !strings.Contains(rk.Summary, "with 0 of the 4 functional rankings") {
		t.Errorf("summary %q", rk.Summary)
	}
	norm := rk.Metrics[2].Normalised // nudge: most negative (SB) = 1, least (DFA) = 0
	if norm[0] != 1 || norm[2] != 0 || !(norm[1] > 0 && norm[1] < 1) {
		t.Errorf("normalised nudge %v", norm)
	}
}

func TestStandardPairRule(t *testing.T) {
	for _, tc := range []struct {
		acc, gamma float64
		classes    int
		want       string
	}{
		{0.306, 0.100, 10, "accept"}, // the paper's DFA: the pair accepts it
		{0.2, 0.5, 10, "accept"},     // chance + 10 pp exactly
		{0.19, 0.5, 10, "reject (accuracy)"},
		{0.9, -0.01, 10, "reject (Γ ≤ 0)"},
		{0.9, math.NaN(), 10, "—"},
		{0.12, 0.2, 100, "accept"},
	} {
		if got := standardPair(tc.acc, tc.gamma, tc.classes); got != tc.want {
			t.Errorf("standardPair(%v, %v, %d) = %q; want %q", tc.acc, tc.gamma, tc.classes, got, tc.want)
		}
	}
	r, _ := build(t, sweepFixtures())
	for _, d := range r.Decisions {
		if d.Group == "dfa rms · resmlp d32 L2" && (d.Pair != "accept" || d.Reading != "the protocol flags what the standard pair accepts" || d.PairAccepts != 2) {
			t.Errorf("dfa decision %+v", d)
		}
		if d.Group == "bp · resmlp d32 L2" && (d.Pair != "accept" || d.Reading != "both trust it") {
			t.Errorf("bp decision %+v", d)
		}
	}
}

func TestD3FromAFoundBaseline(t *testing.T) {
	cfg := baseConfig("fa", 7)
	fs := []fixture{
		{dir: "fa", cfg: cfg, acc: 0.60, gamma: bpGamma, hNorm: bpH, gPaper: bpG}, // audited without a baseline
		{dir: "baselines/frozen-x", cfg: protocol.FrozenRecipe(cfg), acc: 0.55},
	}
	r, _ := build(t, fs)
	var row *RunRow
	for _, x := range r.Runs {
		if x.Dir == "fa" {
			row = x
		}
	}
	if !near(row.D3Lead, 5, 1e-9) || row.D3Source != "baseline found by the report" || row.FrozenAcc != 0.55 {
		t.Errorf("D3 lead %v from %q (frozen %v); want +5 pp from the found baseline", row.D3Lead, row.D3Source, row.FrozenAcc)
	}
	if row.Verdict != "PASS" {
		t.Errorf("the audit's verdict must stay as audited: %q", row.Verdict)
	}
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	root := t.TempDir()
	if _, err := Load(filepath.Join(root, "missing"), ""); err == nil || !strings.Contains(err.Error(), "missing: no such directory") {
		t.Errorf("missing dir: %v", err)
	}
	if _, err := Load(root, ""); err == nil || !strings.Contains(err.Error(), "no runs found") {
		t.Errorf("empty dir: %v", err)
	}
	bad := filepath.Join(root, "bad")
	fixture{dir: "bad", cfg: baseConfig("bp", 1), acc: 0.9}.write(t, root)
	os.WriteFile(filepath.Join(bad, train.ConfigFile), []byte("{not json"), 0o644)
	_, err := Load(root, "")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(bad, train.ConfigFile)+": corrupt JSON") || strings.Contains(err.Error(), "\n") {
		t.Errorf("corrupt config: %v", err)
	}
	writeJSON(t, filepath.Join(bad, train.ConfigFile), baseConfig("bp", 1))
	os.WriteFile(filepath.Join(bad, train.MetricsFile), []byte("{\"epoch\":1}\n{oops\n"), 0o644)
	if _, err := Load(root, ""); err == nil || !strings.Contains(err.Error(), train.MetricsFile+":2: corrupt line") {
		t.Errorf("corrupt metrics: %v", err)
	}
}

func TestCorruptAuditIsNotAudited(t *testing.T) {
	fs := []fixture{
		{dir: "ok", cfg: baseConfig("bp", 1), acc: 0.9, gamma: bpGamma, hNorm: bpH, gPaper: bpG},
		{dir: "torn", cfg: baseConfig("bp", 2), acc: 0.9, auditJSON: `{"verdict": "PA`},
		{dir: "unfinished", cfg: baseConfig("bp", 3), acc: 0.9},
	}
	root := writeAll(t, fs)
	os.Remove(filepath.Join(root, "unfinished", train.ResultFile))
	c, err := Load(root, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Runs) != 2 || c.Runs[1].Dir != "torn" || c.Runs[1].Audit != nil || !strings.Contains(c.Runs[1].AuditNote, "corrupt audit.json") {
		t.Fatalf("runs %d; torn: %+v", len(c.Runs), c.Runs[len(c.Runs)-1])
	}
	notes := strings.Join(c.Notes, "\n")
	if !strings.Contains(notes, "torn: not audited") || !strings.Contains(notes, "unfinished: skipped") {
		t.Errorf("notes: %s", notes)
	}
	g := Build(c, root).Groups[0]
	if g.Verdict != "PASS" || g.Audited != 1 || g.seedsCell() != "2 (1 audited)" {
		t.Errorf("group: verdict %q, audited %d, n %q", g.Verdict, g.Audited, g.seedsCell())
	}
}

func TestNullsReadBackAsNaN(t *testing.T) {
	fs := []fixture{{dir: "a", cfg: baseConfig("dfa", 1), acc: 0.3, gamma: []float64{0.01, 0.01, 0.01}, hNorm: bpH, gPaper: bpG}}
	root := writeAll(t, fs)
	raw, _ := os.ReadFile(filepath.Join(root, "a", protocol.AuditJSON))
	if !bytes.Contains(raw, []byte(`"rho": null`)) {
		t.Fatalf("the fixture should hold nulls: %.300s", raw)
	}
	c, err := Load(root, "")
	if err != nil {
		t.Fatal(err)
	}
	a := c.Runs[0].Audit
	m2, d3 := a.Checks["M2"], a.Checks["D3"]
	if !math.IsNaN(a.Layers[0].Rho) || !math.IsNaN(a.Stability) || !math.IsNaN(m2.Value) || !math.IsNaN(d3.Value) || !math.IsNaN(a.Aggregate.Median) {
		t.Errorf("null floats must read back as NaN: ρ %v, stability %v, M2 %v, D3 %v, median %v", a.Layers[0].Rho, a.Stability, m2.Value, d3.Value, a.Aggregate.Median)
	}
	if a.Layers[1].CosMean != 0.01 || a.Checks["D1"].Value != 1.2 {
		t.Errorf("real values must survive: %v, %v", a.Layers[1].CosMean, a.Checks["D1"].Value)
	}
	r := Build(c, root)
	if row := r.Runs[0]; !math.IsNaN(row.M2) || num(row.M2) != "—" {
		t.Errorf("M2 with no qualifying end must show as —, not 0: %v", row.M2)
	}
}

func TestJSONHasNoNaNAndCSVParsesBack(t *testing.T) {
	r, _ := build(t, sweepFixtures())
	js, err := nanjson.MarshalIndent(r, "", "  ")
	if err != nil || !json.Valid(js) || regexp.MustCompile(`[:\[,]\s*[-+]?(NaN|Inf)`).Match(js) {
		t.Fatalf("report.json: err %v, valid %v", err, json.Valid(js))
	}
	var back struct {
		Groups []struct {
			Label    string `json:"label"`
			Accuracy struct {
				Mean, Std *float64
			} `json:"accuracy"`
		} `json:"groups"`
		Runs []map[string]any `json:"runs"`
	}
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	for _, g := range back.Groups {
		if g.Label == "bp k=1 · resmlp d32 L2" && (g.Accuracy.Std != nil || g.Accuracy.Mean == nil || *g.Accuracy.Mean != 0.8) {
			t.Errorf("one-seed group in JSON: %+v (std must be null)", g.Accuracy)
		}
	}
	if len(back.Runs) != r.NRuns {
		t.Errorf("JSON runs %d; want %d", len(back.Runs), r.NRuns)
	}
	for name, data := range map[string][]byte{GroupsCSV: r.GroupsCSV(), RunsCSV: r.RunsCSV()} {
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := len(r.Groups) + 1
		if name == RunsCSV {
			want = r.NRuns + 1
		}
		if len(rows) != want {
			t.Errorf("%s: %d rows; want %d", name, len(rows), want)
		}
		col := map[string]int{}
		for i, h := range rows[0] {
			col[h] = i
		}
		if name == GroupsCSV {
			if rows[1][col["group"]] != "bp · resmlp d32 L2" {
				t.Errorf("%s first group %q", name, rows[1][col["group"]])
			}
			if v, err := strconv.ParseFloat(rows[1][col["acc_std"]], 64); err != nil || !near(v, 0.02, 1e-12) {
				t.Errorf("%s acc_std %q", name, rows[1][col["acc_std"]])
			}
			if g, err := strconv.ParseFloat(rows[1][col["gamma_h2"]], 64); err != nil || !near(g, 0.97, 1e-12) {
				t.Errorf("%s gamma_h2 %q", name, rows[1][col["gamma_h2"]])
			}
		}
	}
}

func plotNamed(t *testing.T, r *Report, name string) *Plot {
	t.Helper()
	return named(t, r.Plots, func(p *Plot) string { return p.Name }, name, "plot")
}

func figure(t *testing.T, r *Report, name string) chart.Figure {
	t.Helper()
	return plotNamed(t, r, name).fig.(chart.Figure)
}

func TestPenaltySweepAndLadderPlots(t *testing.T) {
	r, _ := build(t, sweepFixtures())
	h := figure(t, r, "penalty-h")
	if strings.Join(h.XTicks, ",") != "0,1e-4,1e-2" || len(h.Series) != 1 || !h.LogY {
		t.Fatalf("penalty-h ticks %v, series %d", h.XTicks, len(h.Series))
	}
	if y := h.Series[0].Y; !(y[0] > y[1] && y[1] > y[2]) || !near(y[0], 4e6, 1e-12) {
		t.Errorf("‖h_L‖ against λ %v: want falling from 4e6", y)
	}
	a := figure(t, r, "penalty-accuracy")
	if len(a.Series[0].YErr) != 3 || len(a.HLines) != 1 || a.HLines[0].Y != 0.5 {
		t.Errorf("penalty accuracy: yerr %v, frozen line %+v", a.Series[0].YErr, a.HLines)
	}
	l := figure(t, r, "ladder")
	if len(l.Series) != 1 {
		t.Fatalf("ladder series %d; want bp only (dfa has no partial rung)", len(l.Series))
	}
	s := l.Series[0]
	if fmtFloats(s.X) != "0 1 2" || s.Y[0] != 0.5 || s.Y[1] != 0.8 || !near(s.Y[2], 0.92, 1e-12) || l.XTicks[0] != "0 (frozen)" {
		t.Errorf("ladder x %v, y %v, ticks %v", s.X, s.Y, l.XTicks)
	}
	g := figure(t, r, "gamma-resmlp-d32-l2")
	if len(g.Series) != 4 || strings.Join(g.XTicks, ",") != "h0,h1,h2" || len(g.Series[0].YErr) != 3 {
		t.Errorf("Γ plot: %d series, ticks %v, yerr %v", len(g.Series), g.XTicks, g.Series[0].YErr)
	}
	figure(t, r, "norms-h-resmlp-d32-l2")
	if p := plotNamed(t, r, "cosine-vs-function"); len(p.fig.(chart.Slope).Lines) != 4 {
		t.Errorf("slope chart: %+v; want the four audited rule groups", p.fig)
	}
	if len(r.PenaltyTables()) != 1 || len(r.LadderTables()) != 1 {
		t.Errorf("penalty tables %d, ladder tables %d", len(r.PenaltyTables()), len(r.LadderTables()))
	}
}

func fmtFloats(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(s, " ")
}

func TestEpochPlotsFromInTrainingAudits(t *testing.T) {
	r, _ := build(t, sweepFixtures())
	for _, p := range r.Plots {
		if p.Section == SectionEpochs {
			t.Errorf("plot %s without in-training records", p.Name)
		}
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "--audit-every") {
		t.Errorf("no note about the missing records: %v", r.Notes)
	}
	r, _ = build(t, studyWithRecords())
	d1 := figure(t, r, "d1-epochs")
	if len(d1.Series) != 1 || fmtFloats(d1.Series[0].X) != "1 2" || !near(d1.Series[0].Y[1], 80, 1e-12) || d1.HLines[0].Y != 50 {
		t.Errorf("D1 against epoch: %+v", d1)
	}
	d2 := figure(t, r, "d2-paper-epochs")
	if !near(d2.Series[0].Y[1], 1e-8, 1e-12) || d2.HLines[0].Y != 1e-7 {
		t.Errorf("D2 against epoch: %+v", d2)
	}
	figure(t, r, "d2-precision-epochs")
}

func TestMarkdownAndText(t *testing.T) {
	r, _ := build(t, sweepFixtures())
	md := r.Markdown()
	for _, want := range []string{"| bp · resmlp d32 L2 | 3 | 0.9200 ± 0.0200 |", "### Calibration margins", "### Decision table",
		"![Penalty sweep: ‖h_L‖ against λ](penalty-h.svg)", "chance + 10 pp", "Kendall", "runs trained by faudit 0.1.0."} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	var b bytes.Buffer
	r.Text(&b)
	if !strings.Contains(b.String(), "dfa rms · resmlp d32 L2") || !strings.Contains(b.String(), "FAIL(D1+D2+D3+M2)") {
		t.Errorf("text:\n%s", b.String())
	}
}

// The same runs give byte-identical tables (no map order, no dates).
func TestReportIsDeterministic(t *testing.T) {
	root := writeAll(t, studyWithRecords())
	var mds, jss []string
	for range 2 {
		c, err := Load(root, "")
		if err != nil {
			t.Fatal(err)
		}
		r := Build(c, "study")
		js, _ := nanjson.MarshalIndent(r, "", "  ")
		mds, jss = append(mds, r.Markdown()+string(r.GroupsCSV())+string(r.RunsCSV())), append(jss, string(js))
	}
	if mds[0] != mds[1] || jss[0] != jss[1] {
		t.Error("two reports of the same runs differ")
	}
	if strings.Contains(mds[0], root) {
		t.Error("the report names the directory as given, not its absolute path")
	}
}
