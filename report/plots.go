package report

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"

	"github.com/faudit/faudit/chart"
	"github.com/faudit/faudit/protocol"
	"github.com/faudit/faudit/train"
)

// Plot is one figure of the report, written as Name.svg and Name.png.
type Plot struct {
	Name    string `json:"name"`
	Section string `json:"section"`
	Title   string `json:"title"`
	Caption string `json:"caption"` // how to read it

	fig renderer
}

// renderer is a chart.Figure or a chart.Slope.
type renderer interface {
	Render() (svg, png []byte, err error)
}

// Sections of the report, in order.
const (
	SectionGamma    = "Per-position Γ"
	SectionNorms    = "Norms against depth"
	SectionEpochs   = "Checks during training"
	SectionPenalty  = "Penalty sweep"
	SectionLadder   = "Depth ladder"
	SectionFunction = "Cosine vs function"
)

// plots builds every figure the runs support, with notes for those skipped.
func (r *Report) plots() []*Plot {
	var out []*Plot
	out = append(out, r.gammaPlots()...)
	out = append(out, r.freshBPlots()...)
	out = append(out, r.normPlots()...)
	out = append(out, r.epochPlots()...)
	out = append(out, r.penaltyPlots()...)
	out = append(out, r.ladderPlots()...)
	out = append(out, r.slopePlot()...)
	seen := map[string]int{}
	for _, p := range out { // distinct file names
		if seen[p.Name]++; seen[p.Name] > 1 {
			p.Name = fmt.Sprintf("%s-%d", p.Name, seen[p.Name])
		}
	}
	return out
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	return strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

func positionTicks(p int) []string {
	t := make([]string, p)
	for i := range t {
		t[i] = fmt.Sprintf("h%d", i)
	}
	return t
}

func indices(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i)
	}
	return x
}

// means and stds of a per-position statistic; stds is nil when any is
// undefined (one seed).
func means(s []Stat) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = v.Mean
	}
	return out
}

func stds(s []Stat) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		if math.IsNaN(v.Std) {
			return nil
		}
		out[i] = v.Std
	}
	return out
}

// archFamily is the audited groups of one architecture (same positions).
type archFamily struct {
	label  string
	groups []*Group
}

// archFamilies splits the audited groups by architecture, in group order.
func archFamilies(groups []*Group, withBaselines bool) []archFamily {
	var out []archFamily
	at := map[string]int{}
	for _, g := range groups {
		if g.Audited == 0 || g.Positions == 0 || (g.Baseline && !withBaselines) {
			continue
		}
		key := fmt.Sprintf("%s/%d", g.ArchLabel, g.Positions)
		i, ok := at[key]
		if !ok {
			i = len(out)
			at[key] = i
			out = append(out, archFamily{label: g.ArchLabel})
		}
		out[i].groups = append(out[i].groups, g)
	}
	labels := map[string]int{}
	for _, f := range out {
		labels[f.label]++
	}
	for i := range out { // same label, different depth: say so
		if labels[out[i].label] > 1 {
			out[i].label += fmt.Sprintf(" (%d positions)", out[i].groups[0].Positions)
		}
	}
	return out
}

func (r *Report) gammaPlots() []*Plot {
	var out []*Plot
	for _, f := range archFamilies(r.Groups, false) {
		P := f.groups[0].Positions
		fig := chart.Figure{Title: "Per-position Γ — " + f.label, XLabel: "position", YLabel: "Γ_p (mean cosine of credit and BP gradient)",
			XTicks: positionTicks(P), HLines: []chart.HLine{{Label: "Γ = 0", Y: 0}}}
		for _, g := range f.groups {
			fig.Series = append(fig.Series, chart.Series{Label: g.Label, X: indices(P), Y: means(g.Gamma), YErr: stds(g.Gamma)})
		}
		out = append(out, &Plot{Name: "gamma-" + slug(f.label), Section: SectionGamma, Title: fig.Title, fig: fig,
			Caption: "Γ_p at every position h0 (input end) … hL (output end), mean over seeds with ± std bars. BP sits near 1 everywhere. " +
				"Credit concentrated at one end (DFA: h0; FA: the output end) is aggregation collapse (M2): the aggregate Γ then describes one end, not the network."})
	}
	return out
}

func (r *Report) normPlots() []*Plot {
	var out []*Plot
	for _, f := range archFamilies(r.Groups, true) {
		P := f.groups[0].Positions
		h := chart.Figure{Title: "‖h_p‖ against depth — " + f.label, XLabel: "position", YLabel: "median ‖h_p‖ (per sample)", LogY: true, XTicks: positionTicks(P)}
		g := chart.Figure{Title: "‖g_p‖ against depth — " + f.label, XLabel: "position", YLabel: "median ‖g_p‖, paper convention", LogY: true, XTicks: positionTicks(P),
			HLines: []chart.HLine{{Label: fmt.Sprintf("D2 floor %.0e", r.Thresholds.D2PaperFloor), Y: r.Thresholds.D2PaperFloor}}}
		for _, grp := range f.groups {
			h.Series = append(h.Series, chart.Series{Label: grp.Label, X: indices(P), Y: means(grp.HNorm)})
			g.Series = append(g.Series, chart.Series{Label: grp.Label, X: indices(P), Y: means(grp.GNormPaper)})
		}
		out = append(out,
			&Plot{Name: "norms-h-" + slug(f.label), Section: SectionNorms, Title: h.Title, fig: h,
				Caption: "Median per-sample ‖h_p‖ of the residual stream (geometric mean over seeds), log scale. A steep climb is Mode 1's growth; D1 fails when one block multiplies it by more than the threshold."},
			&Plot{Name: "norms-g-" + slug(f.label), Section: SectionNorms, Title: g.Title, fig: g,
				Caption: "Median per-sample ‖g_p‖ of the float64 BP reference in the paper's convention (summed-loss norm / 128), log scale. Below the D2 floor the reference is at the numerical floor and a cosine against it measures noise."})
	}
	return out
}

// epochRecords is one group's in-training audit records by epoch.
type epochRecords struct {
	label  string
	epochs []int // sorted
	audits map[int][]*protocol.EpochAudit
}

// epochAudits decodes, once, the in-training audit records of every group
// that has any.
func (r *Report) epochAudits() []epochRecords {
	var out []epochRecords
	for _, g := range r.Groups {
		byEpoch := map[int][]*protocol.EpochAudit{}
		for _, row := range g.rows {
			for _, m := range row.run.Metrics {
				if a := epochAudit(m); a != nil {
					byEpoch[m.Epoch] = append(byEpoch[m.Epoch], a)
				}
			}
		}
		if len(byEpoch) == 0 {
			continue
		}
		rec := epochRecords{label: g.Label, audits: byEpoch}
		for e := range byEpoch {
			rec.epochs = append(rec.epochs, e)
		}
		sort.Ints(rec.epochs)
		out = append(out, rec)
	}
	return out
}

// epochSeries is, per group, an in-training audit quantity against epoch
// (geometric mean over the seeds that recorded the epoch).
func epochSeries(records []epochRecords, value func(*protocol.EpochAudit) float64) []chart.Series {
	out := make([]chart.Series, len(records))
	for i, rec := range records {
		s := chart.Series{Label: rec.label}
		for _, e := range rec.epochs {
			vals := make([]float64, len(rec.audits[e]))
			for j, a := range rec.audits[e] {
				vals[j] = value(a)
			}
			s.X, s.Y = append(s.X, float64(e)), append(s.Y, geoMean(vals).Mean)
		}
		out[i] = s
	}
	return out
}

func (r *Report) epochPlots() []*Plot {
	th := protocol.DefaultThresholds() // what faudit train --audit-every checks against
	specs := []struct {
		name, title, ylabel, caption string
		value                        func(*protocol.EpochAudit) float64
		line                         chart.HLine
	}{
		{"d1-epochs", "D1: max per-block growth against epoch", "max_p ‖h_{p+1}‖/‖h_p‖",
			"The largest growth of the median ‖h‖ across one block at each in-training audit; D1 fails above the line.",
			func(a *protocol.EpochAudit) float64 { return a.D1 }, chart.HLine{Label: fmt.Sprintf("D1 threshold %g", th.D1Growth), Y: th.D1Growth}},
		{"d2-paper-epochs", "D2: ‖g_L‖ (paper convention) against epoch", "median ‖g_L‖ / 128",
			"The BP reference at the deepest position at each in-training audit; the paper's D2 criterion fails below the line.",
			func(a *protocol.EpochAudit) float64 { return a.D2 }, chart.HLine{Label: fmt.Sprintf("D2 floor %.0e", th.D2PaperFloor), Y: th.D2PaperFloor}},
		{"d2-precision-epochs", "D2: relative error of g_L in the training precision against epoch", "κ (relative error of g_L)",
			"How many digits the reference has left in the training precision; D2's precision criterion fails above the line.",
			func(a *protocol.EpochAudit) float64 { return a.D2RelErr }, chart.HLine{Label: fmt.Sprintf("D2 max rel. error %g", th.D2MaxRelErr), Y: th.D2MaxRelErr}},
	}
	records := r.epochAudits()
	if len(records) == 0 {
		r.Notes = append(r.Notes, "no run has in-training audit records in metrics.jsonl (train with --audit-every N): the D1/D2-against-epoch plots are skipped")
		return nil
	}
	var out []*Plot
	for _, s := range specs {
		fig := chart.Figure{Title: s.title, XLabel: "epoch", YLabel: s.ylabel, LogY: true, IntegerX: true, Series: epochSeries(records, s.value), HLines: []chart.HLine{s.line}}
		out = append(out, &Plot{Name: s.name, Section: SectionEpochs, Title: s.title, Caption: s.caption + " Geometric mean over the seeds that recorded the epoch.", fig: fig})
	}
	return out
}

// family is groups that differ in one setting only.
type family struct {
	label  string
	groups []*Group
}

// families groups the non-baseline groups by key, keeping those whose
// members take at least two values of the varied setting.
func families(groups []*Group, key func(train.Config) train.Config, value func(train.Config) float64, include func(*Group) bool) []family {
	var out []family
	var cfgs []train.Config
	at := map[string]int{}
	for _, g := range groups {
		if !include(g) {
			continue
		}
		base := key(g.Config)
		k := groupKey(base)
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, family{label: ruleLabel(base) + " · " + archLabel(base.Model)})
			cfgs = append(cfgs, base)
		}
		out[i].groups = append(out[i].groups, g)
	}
	labels := make([]string, len(out))
	for i := range out {
		labels[i] = out[i].label
	}
	labels = disambiguate(labels, cfgs)
	var kept []family
	for i, f := range out {
		distinct := map[float64]bool{}
		for _, g := range f.groups {
			distinct[value(g.Config)] = true
		}
		if len(distinct) >= 2 {
			f.label = labels[i]
			kept = append(kept, f)
		}
	}
	return kept
}

func lambdaTicks(fams []family) ([]string, map[float64]int) {
	set := map[float64]bool{}
	for _, f := range fams {
		for _, g := range f.groups {
			set[g.Config.Penalty] = true
		}
	}
	var ls []float64
	for l := range set {
		ls = append(ls, l)
	}
	sort.Float64s(ls)
	ticks, at := make([]string, len(ls)), map[float64]int{}
	for i, l := range ls {
		ticks[i], at[l] = formatLambda(l), i
	}
	return ticks, at
}

func lastStat(s []Stat) Stat {
	if len(s) == 0 {
		return Stat{Mean: nan, Std: nan}
	}
	return s[len(s)-1]
}

// penaltyFamilies are the rule groups that differ only in λ, each sorted
// by λ.
func penaltyFamilies(groups []*Group) []family {
	fams := families(groups, func(c train.Config) train.Config { c.Penalty = 0; return c },
		func(c train.Config) float64 { return c.Penalty }, func(g *Group) bool { return !g.Baseline })
	for _, f := range fams {
		sort.SliceStable(f.groups, func(i, j int) bool { return f.groups[i].Config.Penalty < f.groups[j].Config.Penalty })
	}
	return fams
}

func (r *Report) penaltyPlots() []*Plot {
	fams := penaltyFamilies(r.Groups)
	if len(fams) == 0 {
		return nil
	}
	ticks, at := lambdaTicks(fams)
	figs := []struct {
		name, title, ylabel, caption string
		log                          bool
		stat                         func(*Group) Stat
		lines                        []chart.HLine
	}{
		{"penalty-h", "Penalty sweep: ‖h_L‖ against λ", "median ‖h_L‖", "The residual stream at the deepest position (geometric mean over seeds): the penalty λ‖f_l(h_l)‖² should hold it down.",
			true, func(g *Group) Stat { return lastStat(g.HNorm) }, nil},
		{"penalty-g", "Penalty sweep: ‖g_L‖ against λ", "median ‖g_L‖, paper convention", "The BP reference at the deepest position (geometric mean over seeds): above the D2 floor the cosine is measured against a valid reference.",
			true, func(g *Group) Stat { return lastStat(g.GNormPaper) }, []chart.HLine{{Label: fmt.Sprintf("D2 floor %.0e", r.Thresholds.D2PaperFloor), Y: r.Thresholds.D2PaperFloor}}},
		{"penalty-accuracy", "Penalty sweep: accuracy against λ", "test accuracy", "Test accuracy, mean ± std over seeds, with the frozen-blocks baseline where one was found.",
			false, func(g *Group) Stat { return g.Accuracy }, nil},
	}
	var out []*Plot
	for _, f := range figs {
		fig := chart.Figure{Title: f.title, XLabel: "penalty λ (categorical: λ = 0 has no place on a log axis)", YLabel: f.ylabel, LogY: f.log, XTicks: ticks, HLines: f.lines}
		for _, fam := range fams {
			s := chart.Series{Label: fam.label}
			var errs []float64
			for _, g := range fam.groups {
				st := f.stat(g)
				s.X, s.Y = append(s.X, float64(at[g.Config.Penalty])), append(s.Y, st.Mean)
				errs = append(errs, st.Std)
			}
			if !f.log && finiteAll(errs) {
				s.YErr = errs
			}
			fig.Series = append(fig.Series, s)
			if f.name == "penalty-accuracy" {
				fig.HLines = append(fig.HLines, frozenLine(fam)...)
			}
		}
		out = append(out, &Plot{Name: f.name, Section: SectionPenalty, Title: f.title, Caption: f.caption, fig: fig})
	}
	return out
}

func finiteAll(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return len(v) > 0
}

// frozenLine is the family's frozen-blocks baseline accuracy, if its groups
// found one.
func frozenLine(f family) []chart.HLine {
	var accs []float64
	for _, g := range f.groups {
		for _, row := range g.rows {
			accs = append(accs, row.FrozenAcc)
		}
	}
	if s := meanStd(accs); s.N > 0 {
		return []chart.HLine{{Label: "frozen baseline · " + f.label, Y: s.Mean}}
	}
	return nil
}

// ladderFamilies are the rule groups that differ only in train_blocks,
// with the k = 0 rung added when one was found, each sorted by k.
func ladderFamilies(groups []*Group) []family {
	fams := families(groups, func(c train.Config) train.Config { c.TrainBlocks = -1; return c },
		func(c train.Config) float64 { return float64(c.TrainBlocks) },
		func(g *Group) bool { return g.Config.TrainBlocks != 0 })
	frozen := map[string]*Group{}
	for _, g := range groups {
		if g.Config.TrainBlocks == 0 {
			frozen[g.key] = g
		}
	}
	for i, f := range fams {
		if g := frozenRung(frozen, f.groups[0].Config); g != nil {
			fams[i].groups = append(f.groups, g)
		}
		rungs := fams[i].groups
		sort.SliceStable(rungs, func(i, j int) bool { return trainedBlocks(rungs[i].Config) < trainedBlocks(rungs[j].Config) })
	}
	return fams
}

func (r *Report) ladderPlots() []*Plot {
	fams := ladderFamilies(r.Groups)
	if len(fams) == 0 {
		return nil
	}
	maxL := 0
	fig := chart.Figure{Title: "Depth ladder: accuracy against the number of trained blocks", XLabel: "trained blocks k (the last k learn; k = 0: frozen baseline)", YLabel: "test accuracy"}
	for _, f := range fams {
		s := chart.Series{Label: f.label}
		var errs []float64
		for _, g := range f.groups {
			k := trainedBlocks(g.Config)
			maxL = max(maxL, k, g.Config.Model.NumBlocks())
			s.X, s.Y = append(s.X, float64(k)), append(s.Y, g.Accuracy.Mean)
			errs = append(errs, g.Accuracy.Std)
		}
		if finiteAll(errs) {
			s.YErr = errs
		}
		fig.Series = append(fig.Series, s)
	}
	fig.XTicks = make([]string, maxL+1)
	for k := range fig.XTicks {
		fig.XTicks[k] = fmt.Sprint(k)
	}
	fig.XTicks[0] = "0 (frozen)"
	return []*Plot{{Name: "ladder", Section: SectionLadder, Title: fig.Title, fig: fig,
		Caption: "Accuracy (mean ± std over seeds) when only the last k blocks learn; k = 0 is the frozen-blocks baseline, k = L trains every block. " +
			"A rule that uses depth climbs with k (BP); one that does not stays flat or falls."}}
}

// frozenRung is the k = 0 rung of cfg's ladder: a group of the same recipe
// with train_blocks 0, else its frozen-blocks baseline.
func frozenRung(frozen map[string]*Group, cfg train.Config) *Group {
	k0 := cfg
	k0.TrainBlocks = 0
	if g, ok := frozen[groupKey(k0)]; ok {
		return g
	}
	return frozen[groupKey(protocol.FrozenRecipe(cfg))]
}

func (r *Report) slopePlot() []*Plot {
	rk := r.Ranking
	if len(rk.Groups) < 2 {
		return nil
	}
	s := chart.Slope{Title: "Cosine vs function: normalised scores (1 = best)"}
	var used []RankMetric
	for _, m := range rk.Metrics {
		switch n := len(finite(m.Normalised)); {
		case n < 2:
			r.Notes = append(r.Notes, fmt.Sprintf("the slope chart leaves out %q: fewer than two groups have a value for it", m.Name))
		case n < len(m.Normalised):
			r.Notes = append(r.Notes, fmt.Sprintf("in the slope chart, %q has no point for the groups without a value for it", m.Name))
			fallthrough
		default:
			used = append(used, m)
		}
	}
	if len(used) < 2 {
		return nil
	}
	for _, m := range used {
		s.Columns = append(s.Columns, m.Name)
	}
	for i, g := range rk.Groups {
		line := chart.SlopeLine{Label: g}
		for _, m := range used {
			line.Values = append(line.Values, m.Normalised[i])
		}
		s.Lines = append(s.Lines, line)
	}
	return []*Plot{{Name: "cosine-vs-function", Section: SectionFunction, Title: s.Title, fig: s,
		Caption: "Each column is one metric, min-max normalised over the groups with 1 = best (nudge: the most negative Δloss). " +
			"Lines that cross between the deep-Γ column and a functional column are groups the cosine ranks differently from what the credit does."}}
}
