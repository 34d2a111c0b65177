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

	"github.com/faudit/faudit/internal/nanjson"
	"github.com/faudit/faudit/protocol"
)

// freshNull is audit.json's fresh_b for n draws from feedback seeds
// seed+1 … seed+n.
func freshNull(seed uint64, n int, train, mean, std []float64) *protocol.FreshB {
	f := &protocol.FreshB{N: n}
	for k := 1; k <= n; k++ {
		f.Seeds = append(f.Seeds, seed+uint64(k))
	}
	for p := range train {
		f.Layers = append(f.Layers, protocol.FreshLayer{Position: p, Train: train[p], FreshMean: mean[p], FreshStd: std[p]})
	}
	return f
}

// freshStudy is a dfa group of three seeds, two of them with the null (10
// and 20 draws), and a bp group without it.
//
//	position            h0            h1            h2
//	seed 1 train      0.40          0.20          0.01
//	seed 1 fresh  +0.01 ± 0.02  −0.01 ± 0.02   0.00 ± 0.02   (n = 10)
//	seed 2 train      0.60          0.20          0.03
//	seed 2 fresh  −0.01 ± 0.04  +0.01 ± 0.01  +0.02 ± 0.02   (n = 20)
func freshStudy() []fixture {
	var fs []fixture
	for i, seed := range []uint64{1, 2, 3} {
		f := fixture{dir: "dfa-s" + strconv.Itoa(int(seed)), cfg: baseConfig("dfa", seed), acc: 0.4, gamma: dfaGamma, hNorm: dfaH, gPaper: dfaG}
		switch i {
		case 0:
			f.gamma = []float64{0.40, 0.20, 0.01}
			f.freshB = freshNull(seed, 10, f.gamma, []float64{0.01, -0.01, 0}, []float64{0.02, 0.02, 0.02})
		case 1:
			f.gamma = []float64{0.60, 0.20, 0.03}
			f.freshB = freshNull(seed, 20, f.gamma, []float64{-0.01, 0.01, 0.02}, []float64{0.04, 0.01, 0.02})
		}
		fs = append(fs, f)
	}
	return append(fs, fixture{dir: "bp-s1", cfg: baseConfig("bp", 1), acc: 0.9, gamma: bpGamma, hNorm: bpH, gPaper: bpG})
}

func TestFreshBNullPerPosition(t *testing.T) {
	r, _ := build(t, freshStudy())
	if len(r.FreshB) != 1 {
		t.Fatalf("%d groups with the null; want the dfa group only (bp has none)", len(r.FreshB))
	}
	f := r.FreshB[0]
	if f.Group != "dfa · resmlp d32 L2" || len(f.Runs) != 2 || f.GroupRuns != 3 || len(f.Positions) != 3 {
		t.Fatalf("group %q: %d runs of %d, %d positions", f.Group, len(f.Runs), f.GroupRuns, len(f.Positions))
	}
	if got := f.drawsCell(); got != "2 of 3 runs (seeds 1, 2) × 10–20 draws" {
		t.Errorf("null from %q", got)
	}
	// σ² = (9·s1² + 19·s2²) / 28.
	sigma0 := math.Sqrt((9*0.02*0.02 + 19*0.04*0.04) / 28)
	sigma1 := math.Sqrt((9*0.02*0.02 + 19*0.01*0.01) / 28)
	for _, tc := range []struct {
		p                                       int
		train, trainStd, fresh, freshStd, sigma float64
		reading                                 string
	}{
		{0, 0.5, math.Sqrt(0.02), 0, math.Sqrt(0.0002), sigma0, FreshSpecific},
		{1, 0.2, 0, 0, math.Sqrt(0.0002), sigma1, FreshSpecific},
		{2, 0.02, math.Sqrt(0.0002), 0.01, math.Sqrt(0.0002), 0.02, FreshNone}, // |Γ_train| 0.02 ≤ 3σ = 0.06
	} {
		p := f.Positions[tc.p]
		if p.Position != tc.p || !near(p.Train.Mean, tc.train, 1e-12) || !near(p.Train.Std, tc.trainStd, 1e-12) || p.Train.N != 2 ||
			!near(p.Fresh.Mean, tc.fresh, 1e-12) || !near(p.Fresh.Std, tc.freshStd, 1e-12) || !near(p.FreshStd, tc.sigma, 1e-12) || p.Draws != 30 {
			t.Errorf("h%d: %+v; want Γ_train %v ± %v, Γ_fresh %v (± %v over runs), σ %v, 30 draws", tc.p, p, tc.train, tc.trainStd, tc.fresh, tc.freshStd, tc.sigma)
		}
		if !near(p.Diff, tc.train-tc.fresh, 1e-12) || !near(p.DiffStd, (tc.train-tc.fresh)/tc.sigma, 1e-9) || p.Reading != tc.reading {
			t.Errorf("h%d: Δ %v, Δ/σ %v, reading %q; want %v, %v, %q", tc.p, p.Diff, p.DiffStd, p.Reading, tc.train-tc.fresh, (tc.train-tc.fresh)/tc.sigma, tc.reading)
		}
	}
	if !near(f.TrainDeep, 0.11, 1e-12) || !near(f.FreshDeep, 0.005, 1e-12) {
		t.Errorf("deep: Γ_train %v, Γ_fresh %v; want 0.11 and 0.005", f.TrainDeep, f.FreshDeep)
	}
	if want := FreshSpecific + " at h0, h1; " + FreshNone + " at h2"; f.Summary != want {
		t.Errorf("summary %q; want %q", f.Summary, want)
	}

	md := r.Markdown()
	for _, want := range []string{
		"## Fresh-B null",
		"| dfa · resmlp d32 L2 | 2 of 3 runs (seeds 1, 2) × 10–20 draws | +0.1100 | +0.0050 | " + f.Summary + " |",
		"### Fresh-B null — dfa · resmlp d32 L2",
		"| h0 | +0.5000 ± 0.1414 | +0.0000 ± 0.0348 | +0.5000 | +14.3 | alignment specific to the trained B |",
		"| h2 | +0.0200 ± 0.0141 | +0.0100 ± 0.0200 | +0.0100 | +0.5 | no alignment with either B |",
		"|Γ_fresh| < 2·σ and |Γ_train| > 3·σ",
		"![Fresh-B null — resmlp d32 L2](fresh-b-resmlp-d32-l2.svg)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if strings.Contains(md, "Fresh-B null — bp") || strings.Contains(md, "--fresh-b 20`") {
		t.Error("groups without the null must be absent, and the how-to only shown when no run has one")
	}

	fig := figure(t, r, "fresh-b-resmlp-d32-l2")
	if len(fig.Series) != 2 || strings.Join(fig.XTicks, ",") != "h0,h1,h2" {
		t.Fatalf("fresh-B plot: %d series, ticks %v", len(fig.Series), fig.XTicks)
	}
	tr, fr := fig.Series[0], fig.Series[1]
	if !strings.HasPrefix(tr.Label, "training B") || tr.YErr != nil || fmtFloats(tr.Y) != fmtFloats([]float64{0.5, 0.2, f.Positions[2].Train.Mean}) {
		t.Errorf("training series %+v", tr)
	}
	if !strings.HasPrefix(fr.Label, "fresh B") || len(fr.YErr) != 3 || !near(fr.YErr[0], sigma0, 1e-12) || !near(fr.YErr[2], 0.02, 1e-12) || !near(fr.Y[2], 0.01, 1e-12) {
		t.Errorf("fresh series %+v", fr)
	}
	if p := plotNamed(t, r, "fresh-b-resmlp-d32-l2"); p.Section != SectionFreshB {
		t.Errorf("plot section %q", p.Section)
	}

	// report.csv: the group's columns; runs.csv: each run's own.
	rows, err := csv.NewReader(bytes.NewReader(r.GroupsCSV())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	byGroup := map[string][]string{}
	for _, row := range rows[1:] {
		byGroup[row[col["group"]]] = row
	}
	dfa, bp := byGroup["dfa · resmlp d32 L2"], byGroup["bp · resmlp d32 L2"]
	if dfa[col["fresh_b_runs"]] != "2" || dfa[col["fresh_b_draws"]] != "30" || dfa[col["fresh_b_reading_h2"]] != FreshNone {
		t.Errorf("report.csv fresh-B counts/reading: %q, %q, %q", dfa[col["fresh_b_runs"]], dfa[col["fresh_b_draws"]], dfa[col["fresh_b_reading_h2"]])
	}
	for name, want := range map[string]float64{"fresh_b_train_h0": 0.5, "fresh_b_mean_h2": 0.01, "fresh_b_std_h0": sigma0, "fresh_b_diff_in_std_h0": 0.5 / sigma0} {
		if v, err := strconv.ParseFloat(dfa[col[name]], 64); err != nil || !near(v, want, 1e-12) {
			t.Errorf("report.csv %s = %q; want %v", name, dfa[col[name]], want)
		}
	}
	if bp[col["fresh_b_runs"]] != "" || bp[col["fresh_b_mean_h0"]] != "" {
		t.Errorf("bp has no null: its fresh-B cells must be empty, got %q, %q", bp[col["fresh_b_runs"]], bp[col["fresh_b_mean_h0"]])
	}
	rows, _ = csv.NewReader(bytes.NewReader(r.RunsCSV())).ReadAll()
	col = map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, row := range rows[1:] {
		want := map[string][2]string{"dfa-s1": {"10", "0.02"}, "dfa-s2": {"20", "0.04"}}[row[col["run"]]]
		if row[col["fresh_b_n"]] != want[0] || row[col["fresh_b_std_h0"]] != want[1] {
			t.Errorf("runs.csv %s: fresh_b_n %q, fresh_b_std_h0 %q; want %q", row[col["run"]], row[col["fresh_b_n"]], row[col["fresh_b_std_h0"]], want)
		}
	}

	// report.json carries the null, per group and per run.
	js, err := nanjson.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		FreshB []struct {
			Group     string `json:"group"`
			Runs      []struct{ Dir string }
			Positions []struct {
				FreshStd float64 `json:"fresh_std_pooled"`
				Draws    int     `json:"n_draws"`
				Reading  string  `json:"reading"`
			} `json:"positions"`
		} `json:"fresh_b"`
	}
	if err := json.Unmarshal(js, &back); err != nil || len(back.FreshB) != 1 || len(back.FreshB[0].Runs) != 2 ||
		!near(back.FreshB[0].Positions[0].FreshStd, sigma0, 1e-12) || back.FreshB[0].Positions[1].Reading != FreshSpecific {
		t.Errorf("report.json fresh_b: %v, %+v", err, back.FreshB)
	}
}

func TestFreshBReadingCriterion(t *testing.T) {
	for _, tc := range []struct {
		train, fresh, sigma float64
		want                string
	}{
		{0.1627, 0.0022, 0.0220, FreshSpecific}, // the paper's §9.5 numbers (deep Γ, 20 draws)
		{-0.2, 0.01, 0.02, FreshSpecific},       // anti-aligned with its own B, still specific
		{0.2, 0.19, 0.02, FreshAny},             // fresh ≈ train: any B gives it
		{0.3, 0.1, 0.02, FreshPartly},           // fresh aligns too, the trained B by 10σ more
		{0.05, 0.01, 0.02, FreshNone},           // |Γ_train| 2.5σ: within the null
		{0.061, 0.039, 0.02, FreshSpecific},     // just inside both bands
		{0.061, 0.04, 0.02, FreshAny},           // |Γ_fresh| = 2σ: no longer near zero
		{0.5, 0.01, math.NaN(), FreshUndetermined},
		{0.5, 0.01, 0, FreshUndetermined},
		{math.NaN(), 0.01, 0.02, FreshUndetermined},
	} {
		if got := freshReading(tc.train, tc.fresh, tc.sigma); got != tc.want {
			t.Errorf("freshReading(%v, %v, %v) = %q; want %q", tc.train, tc.fresh, tc.sigma, got, tc.want)
		}
	}
	// Through the fixtures: the same trained network, but a fresh B that
	// aligns as well as its own: the reading flips at every position.
	fs := freshStudy()
	for i := range fs {
		if fs[i].freshB != nil {
			for j, l := range fs[i].freshB.Layers {
				fs[i].freshB.Layers[j].FreshMean = l.Train - 0.001
			}
		}
	}
	r, _ := build(t, fs)
	f := r.FreshB[0]
	for _, p := range f.Positions[:2] {
		if p.Reading != FreshAny {
			t.Errorf("h%d with Γ_fresh ≈ Γ_train: reading %q; want %q", p.Position, p.Reading, FreshAny)
		}
	}
	if !strings.Contains(r.Markdown(), "| h0 | +0.5000 ± 0.1414 | +0.4990 ± 0.0348 | +0.0010 | +0.0 | "+FreshAny+" |") {
		t.Errorf("report.md does not show the flipped reading:\n%s", mdSection(r.Markdown(), "## Fresh-B null"))
	}
}

// mdSection is the Markdown from the heading to the next "## ".
func mdSection(md, heading string) string {
	i := strings.Index(md, heading)
	if i < 0 {
		return ""
	}
	rest := md[i+len(heading):]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	return heading + rest
}

// With one draw, audit.json's cos_fresh_std is null: σ is undefined and
// every output says so instead of showing 0.
func TestFreshBOneDrawHasNoSpread(t *testing.T) {
	cfg := baseConfig("dfa", 5)
	fs := []fixture{{dir: "one", cfg: cfg, acc: 0.4, gamma: []float64{0.4, 0.2, 0.1}, hNorm: dfaH, gPaper: dfaG,
		freshB: freshNull(5, 1, []float64{0.4, 0.2, 0.1}, []float64{0.01, -0.02, 0.03}, []float64{math.NaN(), math.NaN(), math.NaN()})}}
	root := writeAll(t, fs)
	raw, _ := os.ReadFile(filepath.Join(root, "one", protocol.AuditJSON))
	if !bytes.Contains(raw, []byte(`"cos_fresh_std": null`)) {
		t.Fatalf("the fixture should hold a null std: %s", raw)
	}
	c, err := Load(root, "")
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Runs[0].Audit.FreshB.Layers[0].FreshStd; !math.IsNaN(s) {
		t.Fatalf("null cos_fresh_std read back as %v; want NaN", s)
	}
	r := Build(c, root)
	f := r.FreshB[0]
	p := f.Positions[0]
	if !math.IsNaN(p.FreshStd) || !math.IsNaN(p.DiffStd) || p.Reading != FreshUndetermined || !near(p.Fresh.Mean, 0.01, 1e-12) || p.Draws != 1 {
		t.Errorf("one draw: %+v", p)
	}
	if f.drawsCell() != "1 run (seed 5) × 1 draw" || !strings.HasPrefix(f.Summary, FreshUndetermined+" at every position (h0–h2)") {
		t.Errorf("null from %q, summary %q", f.drawsCell(), f.Summary)
	}
	md := r.Markdown()
	if !strings.Contains(md, "| h1 | +0.2000 ± — | -0.0200 ± — | +0.2200 | — | "+FreshUndetermined+" |") {
		t.Errorf("report.md:\n%s", mdSection(md, "## Fresh-B null"))
	}
	if fig := figure(t, r, "fresh-b-resmlp-d32-l2"); fig.Series[1].YErr != nil {
		t.Errorf("no σ: the fresh series must have no error bars, got %v", fig.Series[1].YErr)
	}
	js, _ := nanjson.MarshalIndent(r, "", "  ")
	if !json.Valid(js) || regexp.MustCompile(`[:\[,]\s*[-+]?(NaN|Inf)`).Match(js) || !bytes.Contains(js, []byte(`"fresh_std_pooled": null`)) {
		t.Errorf("report.json must write the undefined σ as null")
	}
	rows, _ := csv.NewReader(bytes.NewReader(r.GroupsCSV())).ReadAll()
	for i, h := range rows[0] {
		if h == "fresh_b_std_h0" && rows[1][i] != "" {
			t.Errorf("report.csv fresh_b_std_h0 %q; want empty", rows[1][i])
		}
	}
	if _, err := Write(r, filepath.Join(root, "report")); err != nil {
		t.Errorf("writing a report with a σ-less null: %v", err)
	}
}

func TestFreshBAbsentSaysHowToGetIt(t *testing.T) {
	r, _ := build(t, sweepFixtures())
	if len(r.FreshB) != 0 {
		t.Fatalf("fresh-B groups without any null: %+v", r.FreshB)
	}
	for _, p := range r.Plots {
		if p.Section == SectionFreshB {
			t.Errorf("plot %s without any null", p.Name)
		}
	}
	sec := mdSection(r.Markdown(), "## Fresh-B null")
	if !strings.Contains(sec, "`faudit audit DIR --fresh-b 20`") || strings.Contains(sec, "|") {
		t.Errorf("the section should say how to get the null and hold no table:\n%s", sec)
	}
	if !strings.Contains(r.HTML(nil), `<section id="fresh-b"><h2>Fresh-B null</h2>`) {
		t.Error("report.html lacks the fresh-B section")
	}
}
