package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/faudit/faudit/chart"
	"github.com/faudit/faudit/protocol"
)

// SectionFreshB is the section of the fresh-B null.
const SectionFreshB = "Fresh-B null"

// The reading's bands, in units of σ (the pooled std of Γ_p over fresh
// draws): the fresh mean is "near zero" below freshNullBand·σ, and Γ_train
// (or its distance from the fresh mean) is "well away" above
// freshSignalBand·σ.
const (
	freshNullBand   = 2
	freshSignalBand = 3
)

// Readings of one position's fresh-B null (see freshReading).
const (
	FreshSpecific     = "alignment specific to the trained B"
	FreshNone         = "no alignment with either B"
	FreshPartly       = "partly specific: a fresh B aligns too, the trained B more"
	FreshAny          = "not specific: a fresh B aligns as well"
	FreshUndetermined = "undetermined: no spread over fresh draws (one draw per run; rerun with --fresh-b 20)"
)

// FreshBCriterion states how freshReading decides.
var FreshBCriterion = fmt.Sprintf("with σ the pooled std of Γ_p over fresh draws: %q when |Γ_fresh| < %d·σ and |Γ_train| > %d·σ; "+
	"%q when |Γ_fresh| < %d·σ and |Γ_train| ≤ %d·σ; when |Γ_fresh| ≥ %d·σ, %q if |Γ_train − Γ_fresh| > %d·σ, else %q; "+
	"%q when σ is undefined (every run has a single draw)",
	FreshSpecific, freshNullBand, freshSignalBand, FreshNone, freshNullBand, freshSignalBand, freshNullBand, FreshPartly, freshSignalBand, FreshAny,
	"undetermined")

// FreshBHowTo says how to get the null.
const FreshBHowTo = "faudit audit DIR --fresh-b 20"

// FreshBGroup is one group's fresh-B null (paper §5.11, §9.5): Γ_p with
// the training feedback beside Γ_p with feedback drawn afresh, over the
// group's runs whose audit.json carries fresh_b.
type FreshBGroup struct {
	Group     string           `json:"group"`
	GroupRuns int              `json:"n_group_runs"` // the group's runs, with the null or not
	Runs      []FreshBRun      `json:"runs"`
	Positions []FreshBPosition `json:"positions"`
	// Mean over positions p ≥ 1 of Train.Mean and Fresh.Mean (the paper's
	// "deep" numbers; no σ: the draws' spread of a mean over positions is
	// not recorded).
	TrainDeep float64 `json:"train_mean_deep"`
	FreshDeep float64 `json:"fresh_mean_deep"`
	Summary   string  `json:"summary"` // the one-line reading
}

// FreshBRun is one run's null as audit.json has it.
type FreshBRun struct {
	Dir          string    `json:"dir"`
	Seed         uint64    `json:"seed"`
	FeedbackSeed uint64    `json:"feedback_seed"`
	N            int       `json:"n"` // fresh draws
	Train        []float64 `json:"train"`
	FreshMean    []float64 `json:"fresh_mean"`
	FreshStd     []float64 `json:"fresh_std"`
}

// FreshBPosition summarises one position over the group's runs.
type FreshBPosition struct {
	Position int `json:"position"`
	// Train: Γ_p with the training feedback, mean ± std over runs.
	Train Stat `json:"train"`
	// Fresh: each run's mean over its draws, then mean ± std over runs.
	Fresh Stat `json:"fresh_mean"`
	// FreshStd is σ, the pooled within-run std of Γ_p over single fresh
	// draws: √(Σ (n_i − 1) s_i² / Σ (n_i − 1)) over the runs with n_i ≥ 2
	// draws (one run: its own std, ddof = 1); NaN when no run has two.
	FreshStd float64 `json:"fresh_std_pooled"`
	Draws    int     `json:"n_draws"`     // draws over all runs at this position
	Diff     float64 `json:"diff"`        // Train.Mean − Fresh.Mean
	DiffStd  float64 `json:"diff_in_std"` // Diff / FreshStd
	Reading  string  `json:"reading"`
}

// freshReading reads one position (FreshBCriterion).
func freshReading(train, fresh, sigma float64) string {
	switch {
	case math.IsNaN(train) || math.IsNaN(fresh) || !(sigma > 0) || math.IsInf(sigma, 0):
		return FreshUndetermined
	case math.Abs(fresh) < freshNullBand*sigma && math.Abs(train) > freshSignalBand*sigma:
		return FreshSpecific
	case math.Abs(fresh) < freshNullBand*sigma:
		return FreshNone
	case math.Abs(train-fresh) > freshSignalBand*sigma:
		return FreshPartly
	}
	return FreshAny
}

// pooledStd is √(Σ (n_i − 1) s_i² / Σ (n_i − 1)) over the pairs with n_i
// ≥ 2 and a finite s_i; NaN when there are none.
func pooledStd(n []int, s []float64) float64 {
	num, den := 0.0, 0
	for i := range n {
		if n[i] < 2 || math.IsNaN(s[i]) || math.IsInf(s[i], 0) {
			continue
		}
		num += float64(n[i]-1) * s[i] * s[i]
		den += n[i] - 1
	}
	if den == 0 {
		return math.NaN()
	}
	return math.Sqrt(num / float64(den))
}

// freshBGroups collects the fresh-B null of every group whose runs carry
// one, in group order.
func freshBGroups(groups []*Group) []FreshBGroup {
	var out []FreshBGroup
	for _, g := range groups {
		fg := FreshBGroup{Group: g.Label, GroupRuns: len(g.rows), TrainDeep: nan, FreshDeep: nan}
		P := 0
		for _, row := range g.rows {
			a := row.run.Audit
			if a == nil || a.FreshB == nil || len(a.FreshB.Layers) == 0 {
				continue
			}
			f := a.FreshB
			fr := FreshBRun{Dir: row.Dir, Seed: row.Seed, FeedbackSeed: row.FeedbackSeed, N: f.N}
			for _, l := range f.Layers {
				P = max(P, l.Position+1)
			}
			fr.Train, fr.FreshMean, fr.FreshStd = nans(P), nans(P), nans(P)
			for _, l := range f.Layers {
				if l.Position < 0 {
					continue
				}
				fr.Train[l.Position], fr.FreshMean[l.Position], fr.FreshStd[l.Position] = l.Train, l.FreshMean, l.FreshStd
			}
			fg.Runs = append(fg.Runs, fr)
		}
		if len(fg.Runs) == 0 {
			continue
		}
		var readings []string
		for p := 0; p < P; p++ {
			var train, fresh, stds []float64
			var ns []int
			draws := 0
			for _, fr := range fg.Runs {
				if p >= len(fr.Train) || math.IsNaN(fr.FreshMean[p]) {
					continue
				}
				train, fresh = append(train, fr.Train[p]), append(fresh, fr.FreshMean[p])
				ns, stds = append(ns, fr.N), append(stds, fr.FreshStd[p])
				draws += fr.N
			}
			pos := FreshBPosition{Position: p, Train: meanStd(train), Fresh: meanStd(fresh), FreshStd: pooledStd(ns, stds), Draws: draws}
			pos.Diff = pos.Train.Mean - pos.Fresh.Mean
			pos.DiffStd = pos.Diff / pos.FreshStd
			if !(pos.FreshStd > 0) {
				pos.DiffStd = nan
			}
			pos.Reading = freshReading(pos.Train.Mean, pos.Fresh.Mean, pos.FreshStd)
			fg.Positions = append(fg.Positions, pos)
			readings = append(readings, pos.Reading)
		}
		var trainDeep, freshDeep []float64
		for _, pos := range fg.Positions[min(1, len(fg.Positions)):] {
			trainDeep, freshDeep = append(trainDeep, pos.Train.Mean), append(freshDeep, pos.Fresh.Mean)
		}
		fg.TrainDeep, fg.FreshDeep = meanStd(trainDeep).Mean, meanStd(freshDeep).Mean
		fg.Summary = readingSummary(readings)
		out = append(out, fg)
	}
	return out
}

func nans(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = nan
	}
	return out
}

// readingSummary is the one-line reading of a group: the readings with
// the positions that have them, in order of first appearance.
func readingSummary(readings []string) string {
	if len(readings) == 0 {
		return "—"
	}
	var order []string
	at := map[string][]string{}
	for p, r := range readings {
		if _, ok := at[r]; !ok {
			order = append(order, r)
		}
		at[r] = append(at[r], fmt.Sprintf("h%d", p))
	}
	if len(order) == 1 {
		return fmt.Sprintf("%s at every position (%s)", order[0], positionRange(at[order[0]], len(readings)))
	}
	parts := make([]string, len(order))
	for i, r := range order {
		parts[i] = fmt.Sprintf("%s at %s", r, strings.Join(at[r], ", "))
	}
	return strings.Join(parts, "; ")
}

func positionRange(ps []string, n int) string {
	if n == 1 {
		return ps[0]
	}
	return ps[0] + "–" + ps[len(ps)-1]
}

// signed4 is a cosine with its sign and four decimals (the paper's §9.5
// precision: fresh means sit near zero), "—" for NaN.
func signed4(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return fmt.Sprintf("%+.4f", x)
}

func freshCell(p FreshBPosition) string {
	if math.IsNaN(p.Fresh.Mean) {
		return "—"
	}
	s := "—"
	if !math.IsNaN(p.FreshStd) {
		s = fmt.Sprintf("%.4f", p.FreshStd)
	}
	return signed4(p.Fresh.Mean) + " ± " + s
}

func inStd(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return fmt.Sprintf("%+.1f", x)
}

// drawsCell says which runs carry the null and with how many draws: "1
// run (seed 42) × 20 draws", "2 of 3 runs (seeds 1, 2) × 10–20 draws".
func (f FreshBGroup) drawsCell() string {
	lo, hi := f.Runs[0].N, f.Runs[0].N
	seeds := make([]string, len(f.Runs))
	for i, r := range f.Runs {
		lo, hi = min(lo, r.N), max(hi, r.N)
		seeds[i] = fmt.Sprint(r.Seed)
	}
	count := fmt.Sprintf("%d runs", len(f.Runs))
	switch {
	case f.GroupRuns > len(f.Runs):
		count = fmt.Sprintf("%d of %d runs", len(f.Runs), f.GroupRuns)
	case len(f.Runs) == 1:
		count = "1 run"
	}
	label := "seeds"
	if len(seeds) == 1 {
		label = "seed"
	}
	runs := fmt.Sprintf("%s (%s %s)", count, label, strings.Join(seeds, ", "))
	draws := fmt.Sprintf("%d draws", lo)
	switch {
	case lo != hi:
		draws = fmt.Sprintf("%d–%d draws", lo, hi)
	case lo == 1:
		draws = "1 draw"
	}
	return runs + " × " + draws
}

// freshBIntro is the section's opening: what the null is, what the tables
// summarise and how they are read; or, without any null, how to get one.
func (r *Report) freshBIntro() []string {
	if len(r.FreshB) == 0 {
		return []string{"No audited run carries the fresh-B null (fresh_b in audit.json), so there is nothing to show. Get it with `" + FreshBHowTo +
			"` (or a sweep run with --fresh-b 20): Γ_p recomputed on the trained network with 20 freshly drawn feedback sets beside the training ones. " +
			"It tells alignment the network acquired with its own B from alignment any B would give. Rules without random feedback (bp, usf) and frozen-blocks baselines have no null."}
	}
	return []string{
		"Γ_p recomputed on the trained network with feedback matrices drawn afresh (feedback seeds s+1 … s+n of the run's seed s), beside Γ_p with the training matrices (paper §5.11, §9.5). " +
			"Alignment the network acquired with its own B shows as Γ_train well outside the fresh draws' spread around zero; alignment that any B would give shows as Γ_fresh ≈ Γ_train. " +
			"Only groups whose audits carry the null (faudit audit --fresh-b N) are shown. The paper: penalised DFA, seed 42, deep Γ +0.1627 with the training B vs +0.0022 ± 0.0220 over 20 fresh draws.",
		"What is summarised, per position over the group's runs that carry the null: Γ_train is the mean ± std (ddof = 1) over those runs of Γ_p with the run's training feedback. " +
			"Γ_fresh is the mean over those runs of each run's mean over its n draws, ± σ, the pooled within-run std of Γ_p over single fresh draws, σ² = Σ (n_i − 1) s_i² / Σ (n_i − 1) " +
			"(one run: its own std over draws, ddof = 1). Δ = Γ_train − Γ_fresh, and Δ/σ is Δ in units of σ; no ratio Γ_train/Γ_fresh is given, since Γ_fresh sits near zero and the ratio would be noise.",
		"Reading: " + FreshBCriterion + ".",
	}
}

// FreshBTables are the summary (one row per group with the null) and one
// per-position table per group.
func (r *Report) FreshBTables() []Table {
	if len(r.FreshB) == 0 {
		return nil
	}
	sum := Table{ID: "fresh-b", Title: "Fresh-B null — summary",
		Caption: "One row per group whose audits carry the null. Deep: mean over positions p ≥ 1 of the per-position means below (the paper's headline; no σ, as the draws' spread of a mean over positions is not recorded).",
		Header:  []string{"group", "null from", "deep Γ_train", "deep Γ_fresh", "reading"}}
	out := []Table{sum}
	for _, f := range r.FreshB {
		out[0].Rows = append(out[0].Rows, []string{f.Group, f.drawsCell(), signed4(f.TrainDeep), signed4(f.FreshDeep), f.Summary})
		t := Table{ID: "fresh-b-" + slug(f.Group), Title: "Fresh-B null — " + f.Group,
			Caption: fmt.Sprintf("%s. Γ_train: mean ± std over runs; Γ_fresh: mean of the runs' means over draws ± σ (pooled std over draws).", f.drawsCell()),
			Header:  []string{"position", "Γ_train", "Γ_fresh ± σ", "Δ = Γ_train − Γ_fresh", "Δ/σ", "reading"}}
		for _, p := range f.Positions {
			t.Rows = append(t.Rows, []string{fmt.Sprintf("h%d", p.Position), pm(p.Train, signed4), freshCell(p), signed4(p.Diff), inStd(p.DiffStd), p.Reading})
		}
		out = append(out, t)
	}
	return out
}

// freshBPlots draws, per architecture, Γ_train and Γ_fresh ± σ against
// position for every group with the null.
func (r *Report) freshBPlots() []*Plot {
	byGroup := map[string]FreshBGroup{}
	for _, f := range r.FreshB {
		byGroup[f.Group] = f
	}
	var out []*Plot
	for _, fam := range archFamilies(r.Groups, false) {
		var fs []FreshBGroup
		P := 0
		for _, g := range fam.groups {
			if f, ok := byGroup[g.Label]; ok {
				fs = append(fs, f)
				P = max(P, len(f.Positions))
			}
		}
		if len(fs) == 0 {
			continue
		}
		fig := chart.Figure{Title: "Fresh-B null — " + fam.label, XLabel: "position", YLabel: "Γ_p (mean cosine of credit and BP gradient)",
			XTicks: positionTicks(P), HLines: []chart.HLine{{Label: "Γ = 0", Y: 0}}}
		for _, f := range fs {
			x := indices(len(f.Positions))
			train, fresh, sigma := make([]float64, len(x)), make([]float64, len(x)), make([]float64, len(x))
			for i, p := range f.Positions {
				train[i], fresh[i], sigma[i] = p.Train.Mean, p.Fresh.Mean, p.FreshStd
			}
			s := chart.Series{Label: "fresh B ± σ · " + f.Group, X: x, Y: fresh}
			if len(finite(sigma)) > 0 {
				s.YErr = sigma
			}
			fig.Series = append(fig.Series, chart.Series{Label: "training B · " + f.Group, X: x, Y: train}, s)
		}
		out = append(out, &Plot{Name: "fresh-b-" + slug(fam.label), Section: SectionFreshB, Title: fig.Title, fig: fig,
			Caption: "Γ_p with the training feedback (mean over runs) and with freshly drawn feedback (mean of the runs' means over draws, bars ± σ, the pooled std over draws), " +
				"h0 (input end) … hL (output end). A training line well above a fresh line that hugs zero is alignment specific to the trained B; lines that coincide are alignment any B would give."})
	}
	return out
}

// freshBPositionColumns are report.csv's per-position fresh-B columns, each
// repeated for h0 … h_{P−1} after fresh_b_runs and fresh_b_draws.
var freshBPositionColumns = []string{"fresh_b_train", "fresh_b_train_std", "fresh_b_mean", "fresh_b_std", "fresh_b_diff_in_std", "fresh_b_reading"}

// freshBHeader and freshBValues are report.csv's fresh-B columns for P
// positions.
func freshBHeader(P int) []string {
	h := []string{"fresh_b_runs", "fresh_b_draws"}
	for _, c := range freshBPositionColumns {
		h = append(h, positionHeader(c, P)...)
	}
	return h
}

func freshBValues(f *FreshBGroup, P int) []string {
	out := make([]string, 2+len(freshBPositionColumns)*P)
	if f == nil {
		return out
	}
	draws := 0
	for _, r := range f.Runs {
		draws += r.N
	}
	out[0], out[1] = fmt.Sprint(len(f.Runs)), fmt.Sprint(draws)
	for _, p := range f.Positions {
		if p.Position >= P {
			continue
		}
		for i, v := range []string{csvNum(p.Train.Mean), csvNum(p.Train.Std), csvNum(p.Fresh.Mean), csvNum(p.FreshStd), csvNum(p.DiffStd), p.Reading} {
			out[2+i*P+p.Position] = v
		}
	}
	return out
}

// freshBRunHeader and freshBRunValues are runs.csv's per-run null.
func freshBRunHeader(P int) []string {
	return append(append([]string{"fresh_b_n"}, positionHeader("fresh_b_mean", P)...), positionHeader("fresh_b_std", P)...)
}

func freshBRunValues(a *protocol.Report, P int) []string {
	out := make([]string, 1+2*P)
	if a == nil || a.FreshB == nil {
		return out
	}
	out[0] = fmt.Sprint(a.FreshB.N)
	for _, l := range a.FreshB.Layers {
		if l.Position >= 0 && l.Position < P {
			out[1+l.Position], out[1+P+l.Position] = csvNum(l.FreshMean), csvNum(l.FreshStd)
		}
	}
	return out
}
