package protocol

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/faudit/faudit/rule"
)

var checkTitles = map[string]string{
	"D1": "scale stability",
	"D2": "reference validity",
	"D3": "depth utility",
	"M2": "aggregation collapse",
}

// FormatNum formats a number compactly: four significant digits for
// ordinary magnitudes, an exponent below 1e-3 and from 1e4 on; "—" for NaN,
// "+Inf" and "-Inf" for infinities.
func FormatNum(x float64) string {
	switch {
	case math.IsNaN(x):
		return "—"
	case math.IsInf(x, 0):
		return fmt.Sprint(x)
	case x == 0:
		return "0"
	case math.Abs(x) >= 1e4 || math.Abs(x) < 1e-3:
		return fmt.Sprintf("%.2e", x)
	}
	return fmt.Sprintf("%.4g", x)
}

// FormatSigned is a cosine-like value with its sign and three decimals,
// "—" for NaN.
func FormatSigned(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return fmt.Sprintf("%+.3f", x)
}

func (r *Report) archLabel() string {
	ln := "no terminal LN"
	if r.TerminalLN {
		ln = "terminal LN"
	}
	if r.Arch == "mlp" || r.Arch == "cnn" {
		return r.Arch
	}
	return fmt.Sprintf("%s, %s", r.Arch, ln)
}

// ruleLabel is the rule with the settings that change what it trains:
// "dfa (rms, λ=0.01)", "bp (last 2 blocks)".
func (r *Report) ruleLabel() string {
	var extra []string
	if r.LocalNorm != "" {
		extra = append(extra, r.LocalNorm)
	}
	if r.Penalty != 0 {
		extra = append(extra, fmt.Sprintf("λ=%g", r.Penalty))
	}
	if r.TrainBlocks >= 0 {
		extra = append(extra, fmt.Sprintf("last %d blocks trained", r.TrainBlocks))
	}
	if len(extra) == 0 {
		return r.Rule
	}
	return r.Rule + " (" + strings.Join(extra, ", ") + ")"
}

func (r *Report) valueText(name string, c Check) (value, threshold, margin string) {
	if !c.Ran {
		return "not run", "", ""
	}
	switch name {
	case "D1":
		return FormatNum(c.Value) + "×", "≤ " + FormatNum(c.Threshold), fmt.Sprintf("%+.1f orders", c.Margin)
	case "D2":
		return "‖g_L‖ " + FormatNum(c.Value), "≥ " + FormatNum(c.Threshold), fmt.Sprintf("%+.1f orders", c.Margin)
	case "D3":
		return fmt.Sprintf("%+.2f pp", c.Value), fmt.Sprintf("≥ %+.1f pp", c.Threshold), fmt.Sprintf("%+.2f pp", c.Margin)
	}
	if math.IsNaN(c.Value) {
		return "—", fmt.Sprintf("> %.2f", c.Threshold), "—"
	}
	return fmt.Sprintf("ratio %s", FormatNum(c.Value)), fmt.Sprintf("> %.2f", c.Threshold), fmt.Sprintf("%+.2f", c.Margin)
}

// status is PASS, or notRun / fail.
func status(c Check, notRun, fail string) string {
	switch {
	case !c.Ran:
		return notRun
	case !c.Pass:
		return fail
	}
	return "PASS"
}

// Text writes the one-screen summary.
func (r *Report) Text(w io.Writer) {
	fmt.Fprintf(w, "audit of %s — %s, rule %s, %s, seed %d, %s, %d epochs\n", r.Dir, r.archLabel(), r.ruleLabel(), r.Data, r.Seed, r.Precision, r.Epochs)
	fmt.Fprintf(w, "standard pair (what papers report): accuracy %.4f, Γ %+.3f (mean over positions)\n",
		r.StandardPair.Accuracy, r.StandardPair.Gamma)
	fmt.Fprintf(w, "protocol (%d test samples, float64 reference):\n", r.EvalN)
	for _, k := range CheckNames {
		c := r.Checks[k]
		st := status(c, "—", "FAIL")
		v, t, m := r.valueText(k, c)
		fired := ""
		if c.FirstFired != nil {
			fired = fmt.Sprintf(" (first fired at epoch %d)", *c.FirstFired)
		}
		fmt.Fprintf(w, "  %s %-22s %-4s  %-16s %-12s %-14s %s%s\n", k, checkTitles[k], st, v, t, m, c.Detail, fired)
	}
	fmt.Fprintf(w, "verdict: %s\n", r.Verdict)
	r.LayerTable(w)
}

// LayerTable writes the per-position table, always shown (Mode 2 hides in
// aggregates).
func (r *Report) LayerTable(w io.Writer) {
	fmt.Fprintf(w, "  %-4s %10s %10s %10s %17s %8s %10s %10s %9s\n", "pos", "‖h‖ med", "‖g‖ med", "‖g‖ paper", "Γ mean ± std", "ρ", "nudge", "nudge BP", "g32 err")
	for _, l := range r.Layers {
		fmt.Fprintf(w, "  h%-3d %10s %10s %10s %8s ± %6.3f %8s %10s %10s %9s\n", l.Position, FormatNum(l.HNorm.Median), FormatNum(l.GNorm.Median),
			FormatNum(l.GNormPaper), FormatSigned(l.CosMean), l.CosStd, FormatSigned(l.Rho), FormatNum(l.Nudge), FormatNum(l.NudgeBP), FormatNum(l.G32RelErr))
	}
	a := r.Aggregate
	fmt.Fprintf(w, "  aggregate Γ: mean %s · deep (p ≥ 1) %s · median %s · flattened %s", FormatSigned(a.MeanAll), FormatSigned(a.MeanDeep), FormatSigned(a.Median), FormatSigned(a.Flattened))
	if !math.IsNaN(r.Stability) {
		fmt.Fprintf(w, " · stability at h%d %.3f", r.StabilityPosition, r.Stability)
	}
	fmt.Fprintln(w)
	if f := r.FreshB; f != nil {
		fmt.Fprintf(w, "  fresh-B null (%d draws): Γ train → fresh", f.N)
		for _, l := range f.Layers {
			fmt.Fprintf(w, " · h%d %+.3f → %+.3f ± %.3f", l.Position, l.Train, l.FreshMean, l.FreshStd)
		}
		fmt.Fprintln(w)
	}
	if len(r.WBAngles) > 0 {
		var parts []string
		for _, a := range r.WBAngles {
			parts = append(parts, fmt.Sprintf("%s %.1f°", strings.TrimSuffix(a.Name, ".weight"), a.Degrees))
		}
		fmt.Fprintf(w, "  W–B angles: %s\n", strings.Join(parts, ", "))
	}
}

// Markdown is audit.md: the paper's reporting template (§6.3), filled in.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Audit: %s\n\n", r.Dir)
	fmt.Fprintf(&b, "Verdict: **%s** (faudit %s)\n\n", r.Verdict, r.Version)
	fmt.Fprintf(&b, "| field | value |\n|---|---|\n")
	fmt.Fprintf(&b, "| method | `%s`: %s |\n", r.Rule, rule.Descriptions[r.Rule])
	fmt.Fprintf(&b, "| architecture | %s |\n", r.archLabel())
	fmt.Fprintf(&b, "| terminal LayerNorm | %v |\n", r.TerminalLN)
	fmt.Fprintf(&b, "| data, seed, precision, epochs | %s, %d, %s, %d |\n", r.Data, r.Seed, r.Precision, r.Epochs)
	fmt.Fprintf(&b, "| feedback matrices | drawn from the run's feedback seed, saved in the checkpoint (see config.json) |\n")
	fmt.Fprintf(&b, "| accuracy | %.4f |\n", r.Accuracy)
	fmt.Fprintf(&b, "| headline Γ | %+.3f — mean over positions of the per-sample mean cosine (no clamp) |\n", r.Aggregate.MeanAll)
	fmt.Fprintf(&b, "| other aggregations | deep (p ≥ 1) %s, median %s, flattened %s |\n", FormatSigned(r.Aggregate.MeanDeep), FormatSigned(r.Aggregate.Median), FormatSigned(r.Aggregate.Flattened))
	fmt.Fprintf(&b, "| per-layer Γ table reported | yes (below) |\n")
	fmt.Fprintf(&b, "| (c) direction stability at h%d | %s |\n", r.StabilityPosition, FormatNum(r.Stability))
	if r.FrozenAcc != nil {
		fmt.Fprintf(&b, "| (d) frozen-blocks accuracy | %.4f (%s); rule: accuracy ≥ frozen + %.0f pp |\n", *r.FrozenAcc, r.FrozenDir, r.Thresholds.D3MarginPP)
	} else {
		fmt.Fprintf(&b, "| (d) frozen-blocks accuracy | not measured |\n")
	}
	fmt.Fprintf(&b, "\n## Checks\n\n| check | | value | threshold | margin | detail |\n|---|---|---|---|---|---|\n")
	for _, k := range CheckNames {
		c := r.Checks[k]
		st := status(c, "not run", "**FAIL**")
		v, t, m := r.valueText(k, c)
		fmt.Fprintf(&b, "| %s %s | %s | %s | %s | %s | %s |\n", k, checkTitles[k], st, v, t, m, c.Detail)
	}
	if d2, ok := r.Checks["D2"]; ok {
		fmt.Fprintf(&b, "\nD2 criteria (decision: %s):\n\n", r.Thresholds.D2Criterion)
		for _, k := range []string{"paper", "precision"} {
			cr := d2.Criteria[k]
			fmt.Fprintf(&b, "- %s: %s vs %s — fired: %v (%s)\n", k, FormatNum(cr.Value), FormatNum(cr.Threshold), cr.Fired, cr.Meaning)
		}
	}
	fmt.Fprintf(&b, "\n## Per position\n\n| position | (a) ‖h‖ median | (b) ‖g‖ median (summed loss) | ‖g‖ paper convention | Γ mean ± std | ρ | nudge | nudge (BP) | float32 ref. rel. error |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, l := range r.Layers {
		fmt.Fprintf(&b, "| h%d | %s | %s | %s | %s ± %.3f | %s | %s | %s | %s |\n", l.Position, FormatNum(l.HNorm.Median), FormatNum(l.GNorm.Median),
			FormatNum(l.GNormPaper), FormatSigned(l.CosMean), l.CosStd, FormatSigned(l.Rho), FormatNum(l.Nudge), FormatNum(l.NudgeBP), FormatNum(l.G32RelErr))
	}
	if f := r.FreshB; f != nil {
		fmt.Fprintf(&b, "\nFresh-B null (%d draws, feedback seeds %d…%d):\n\n| position | Γ with the training feedback | Γ with fresh feedback |\n|---|---|---|\n", f.N, f.Seeds[0], f.Seeds[len(f.Seeds)-1])
		for _, l := range f.Layers {
			fmt.Fprintf(&b, "| h%d | %s | %s ± %.3f |\n", l.Position, FormatSigned(l.Train), FormatSigned(l.FreshMean), l.FreshStd)
		}
	}
	if len(r.WBAngles) > 0 {
		fmt.Fprintf(&b, "\nW–B angles: ")
		for i, a := range r.WBAngles {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "`%s` %.1f°", a.Name, a.Degrees)
		}
		b.WriteString("\n")
	}
	b.WriteString("\n## Pitfalls checklist (paper §7.6)\n\n")
	b.WriteString("- [x] norms along the feature axis, per sample, then the median\n")
	b.WriteString("- [x] cosine without a clamp; exact zeros counted, not scored\n")
	b.WriteString("- [x] reference gradient in float64 (float32 recomputation compared)\n")
	b.WriteString("- [x] the training feedback matrices, loaded from the checkpoint\n")
	b.WriteString("- [x] aggregation convention stated, four conventions shown\n")
	b.WriteString("- [x] per-layer breakdown shown\n")
	b.WriteString("\n## Conventions\n\n")
	for _, k := range []string{"precision", "norms", "reference", "cosine", "aggregate", "rho", "nudge", "stability", "wb_angles", "evaluation_set", "loss_reduction"} {
		fmt.Fprintf(&b, "- %s: %s\n", k, r.Conventions[k])
	}
	return b.String()
}
