package report

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/protocol"
	"github.com/faudit/faudit/train"
)

// Group is the runs that share every setting but the seed (see the package
// doc for what is left out of the key).
type Group struct {
	Label      string         `json:"label"`
	RuleLabel  string         `json:"rule_label"`
	ArchLabel  string         `json:"arch_label"`
	Config     train.Config   `json:"config"` // the shared settings; seed fields cleared
	Baseline   bool           `json:"baseline"`
	Seeds      []uint64       `json:"seeds"`
	Runs       []string       `json:"runs"`
	Audited    int            `json:"n_audited"`
	Positions  int            `json:"positions"` // positions h0 … h_{P−1} measured (0 if none audited)
	Accuracy   Stat           `json:"accuracy"`
	GammaAll   Stat           `json:"gamma_mean_all"`
	GammaDeep  Stat           `json:"gamma_mean_deep"`
	Gamma      []Stat         `json:"gamma"`        // Γ_p per position
	HNorm      []Stat         `json:"h_norm"`       // median ‖h_p‖, geometric mean over seeds
	GNormPaper []Stat         `json:"g_norm_paper"` // median ‖g_p‖ in the paper's convention, geometric mean
	D1         Stat           `json:"d1_growth"`
	D2Paper    Stat           `json:"d2_g_norm_paper"`
	D2RelErr   Stat           `json:"d2_rel_err"`
	D3Lead     Stat           `json:"d3_lead_pp"`
	M2         Stat           `json:"m2_ratio"`
	NudgeDeep  Stat           `json:"nudge_deep"`
	LossDrop   Stat           `json:"train_loss_decrease"`
	FrozenAcc  Stat           `json:"frozen_acc"`
	Ran        map[string]int `json:"checks_ran"`   // check → audited seeds it ran on
	Fired      map[string]int `json:"checks_fired"` // check → audited seeds it failed
	Verdict    string         `json:"verdict"`
	Verdicts   []string       `json:"verdicts"` // per run, in Runs order

	rows []*RunRow
	key  string
}

// groupKey is the recipe without what varies between seeds of one setting.
func groupKey(cfg train.Config) string {
	b, _ := json.Marshal(sharedConfig(cfg))
	return string(b)
}

// sharedConfig clears the fields a group's runs may differ in.
func sharedConfig(cfg train.Config) train.Config {
	cfg.Seed, cfg.FeedbackSeed = 0, 0
	cfg.Version, cfg.Backend, cfg.GoMaxProcs = "", "", 0
	cfg.AuditEvery, cfg.AuditN = 0, 0
	return cfg
}

// frozenKey identifies a run's frozen-blocks baseline recipe (seed
// included): a baseline run and every run it serves share it.
func frozenKey(cfg train.Config) string {
	f := protocol.FrozenRecipe(cfg)
	f.Version, f.Backend, f.GoMaxProcs = "", "", 0
	b, _ := json.Marshal(f)
	return string(b)
}

// formatLambda writes a penalty compactly: 0, 1e-4, 0.5, 2.5e-3.
func formatLambda(v float64) string {
	if v == 0 || (math.Abs(v) >= 0.1 && math.Abs(v) < 1000) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	s := strconv.FormatFloat(v, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	sign := exp[:1]
	exp = strings.TrimLeft(exp[1:], "0")
	if sign == "+" {
		sign = ""
	}
	return mant + "e" + sign + exp
}

// ruleLabel names the rule and the settings that shape its credit.
func ruleLabel(cfg train.Config) string {
	if cfg.TrainBlocks == 0 {
		return "frozen k=0"
	}
	parts := []string{cfg.Rule}
	if cfg.LocalNorm != "" {
		parts = append(parts, cfg.LocalNorm)
	}
	if cfg.Penalty != 0 {
		parts = append(parts, "λ="+formatLambda(cfg.Penalty))
	}
	if cfg.TrainBlocks > 0 {
		parts = append(parts, fmt.Sprintf("k=%d", cfg.TrainBlocks))
	}
	if cfg.FeedbackScale != 1 && cfg.FeedbackScale != 0 {
		parts = append(parts, "B×"+strconv.FormatFloat(cfg.FeedbackScale, 'g', -1, 64))
	}
	return strings.Join(parts, " ")
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// archLabel names the architecture and its shape.
func archLabel(m model.Config) string {
	var parts []string
	switch m.Arch {
	case "resmlp", "vit":
		parts = []string{m.Arch, fmt.Sprintf("d%d", m.D), fmt.Sprintf("L%d", m.Blocks)}
		if m.Arch == "resmlp" && m.Hidden != 0 && m.Hidden != m.D {
			parts = append(parts, fmt.Sprintf("h%d", m.Hidden))
		}
		if !m.TerminalLN {
			parts = append(parts, "no-LN")
		}
	case "mlp":
		parts = []string{"mlp", joinInts(m.HiddenLayers)}
	case "cnn":
		parts = []string{"cnn", joinInts(m.Channels)}
	default:
		parts = []string{m.Arch}
	}
	if !m.Residual && m.Arch != "mlp" {
		parts = append(parts, "no-skip")
	}
	return strings.Join(parts, " ")
}

// flatConfig is cfg's shared settings as "path=value" leaves ("model."
// dropped from the paths).
func flatConfig(cfg train.Config) map[string]string {
	b, _ := json.Marshal(sharedConfig(cfg))
	var tree any
	json.Unmarshal(b, &tree)
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, sub := range t {
				walk(prefix+k+".", sub)
			}
		default:
			j, _ := json.Marshal(t)
			out[strings.TrimSuffix(strings.TrimPrefix(prefix, "model."), ".")] = strings.Trim(string(j), `"`)
		}
	}
	walk("", tree)
	return out
}

// disambiguate appends, to labels shared by configs that differ, the
// settings they differ in ("(data=…, epochs=…)").
func disambiguate(labels []string, cfgs []train.Config) []string {
	out := append([]string(nil), labels...)
	byLabel := map[string][]int{}
	for i, l := range labels {
		byLabel[l] = append(byLabel[l], i)
	}
	for _, idx := range byLabel {
		if len(idx) < 2 {
			continue
		}
		flats := make([]map[string]string, len(idx))
		keys := map[string]bool{}
		for j, i := range idx {
			flats[j] = flatConfig(cfgs[i])
			for k := range flats[j] {
				keys[k] = true
			}
		}
		var differ []string
		for k := range keys {
			for _, f := range flats[1:] {
				if f[k] != flats[0][k] {
					differ = append(differ, k)
					break
				}
			}
		}
		sort.Strings(differ)
		if len(differ) == 0 {
			continue
		}
		for j, i := range idx {
			var kv []string
			for _, k := range differ {
				v, ok := flats[j][k]
				if !ok {
					v = "—"
				}
				kv = append(kv, k+"="+v)
			}
			out[i] = labels[i] + " (" + strings.Join(kv, ", ") + ")"
		}
	}
	return out
}

// ruleOrder puts the reference first, then the FA family.
var ruleOrder = map[string]int{"bp": 0, "fa": 1, "fa-block": 2, "dfa": 3, "kp": 4, "usf": 5, "frsf": 6, "brsf": 7}

func ruleRank(r string) int {
	if n, ok := ruleOrder[r]; ok {
		return n
	}
	return len(ruleOrder)
}

// lessGroup orders groups: rules before baselines; then data, architecture,
// rule, local norm, penalty, trained blocks, label.
func lessGroup(a, b *Group) bool {
	ca, cb := a.Config, b.Config
	switch {
	case a.Baseline != b.Baseline:
		return !a.Baseline
	case ca.Data != cb.Data:
		return ca.Data < cb.Data
	case a.ArchLabel != b.ArchLabel:
		return a.ArchLabel < b.ArchLabel
	case ruleRank(ca.Rule) != ruleRank(cb.Rule):
		return ruleRank(ca.Rule) < ruleRank(cb.Rule)
	case ca.Rule != cb.Rule:
		return ca.Rule < cb.Rule
	case ca.LocalNorm != cb.LocalNorm:
		return ca.LocalNorm < cb.LocalNorm
	case ca.Penalty != cb.Penalty:
		return ca.Penalty < cb.Penalty
	case ca.TrainBlocks != cb.TrainBlocks: // all blocks (−1) first, then k ascending
		return ca.TrainBlocks < cb.TrainBlocks
	}
	return a.Label < b.Label
}

// trainedBlocks is k, with −1 (all) read as L.
func trainedBlocks(cfg train.Config) int {
	if cfg.TrainBlocks < 0 {
		return cfg.Model.NumBlocks()
	}
	return cfg.TrainBlocks
}

// groupRows puts rows with the same key into labelled, ordered groups.
func groupRows(rows []*RunRow) []*Group {
	byKey := map[string]*Group{}
	var groups []*Group
	for _, r := range rows {
		k := groupKey(r.run.Config)
		g, ok := byKey[k]
		if !ok {
			cfg := sharedConfig(r.run.Config)
			g = &Group{key: k, Config: cfg, RuleLabel: ruleLabel(cfg), ArchLabel: archLabel(cfg.Model)}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.rows = append(g.rows, r)
		g.Baseline = g.Baseline || r.Baseline
	}
	labels := make([]string, len(groups))
	cfgs := make([]train.Config, len(groups))
	for i, g := range groups {
		labels[i], cfgs[i] = g.RuleLabel+" · "+g.ArchLabel, g.Config
	}
	for i, l := range disambiguate(labels, cfgs) {
		groups[i].Label = l
	}
	sort.SliceStable(groups, func(i, j int) bool { return lessGroup(groups[i], groups[j]) })
	for _, g := range groups {
		g.aggregate()
	}
	return groups
}

// column collects one per-run value over the group's rows.
func (g *Group) column(f func(*RunRow) float64) []float64 {
	out := make([]float64, len(g.rows))
	for i, r := range g.rows {
		out[i] = f(r)
	}
	return out
}

// positionColumn collects position p of a per-position series over the
// group's audited rows.
func (g *Group) positionColumn(p int, f func(*RunRow) []float64) []float64 {
	var out []float64
	for _, r := range g.rows {
		if v := f(r); p < len(v) {
			out = append(out, v[p])
		}
	}
	return out
}

// aggregate fills the group's statistics from its rows.
func (g *Group) aggregate() {
	sort.SliceStable(g.rows, func(i, j int) bool {
		a, b := g.rows[i], g.rows[j]
		if a.Seed != b.Seed {
			return a.Seed < b.Seed
		}
		return a.Dir < b.Dir
	})
	g.Ran, g.Fired = map[string]int{}, map[string]int{}
	for _, r := range g.rows {
		r.Group = g.Label
		g.Seeds = append(g.Seeds, r.Seed)
		g.Runs = append(g.Runs, r.Dir)
		g.Verdicts = append(g.Verdicts, r.Verdict)
		if r.Audited {
			g.Audited++
			g.Positions = max(g.Positions, len(r.Gamma))
			for _, k := range r.Ran {
				g.Ran[k]++
			}
			for _, k := range r.Fired {
				g.Fired[k]++
			}
		}
	}
	g.Accuracy = meanStd(g.column(func(r *RunRow) float64 { return r.Accuracy }))
	g.GammaAll = meanStd(g.column(func(r *RunRow) float64 { return r.GammaAll }))
	g.GammaDeep = meanStd(g.column(func(r *RunRow) float64 { return r.GammaDeep }))
	g.D1 = geoMean(g.column(func(r *RunRow) float64 { return r.D1 }))
	g.D2Paper = geoMean(g.column(func(r *RunRow) float64 { return r.D2Paper }))
	g.D2RelErr = geoMean(g.column(func(r *RunRow) float64 { return r.D2RelErr }))
	g.D3Lead = meanStd(g.column(func(r *RunRow) float64 { return r.D3Lead }))
	g.M2 = meanStd(g.column(func(r *RunRow) float64 { return r.M2 }))
	g.NudgeDeep = meanStd(g.column(func(r *RunRow) float64 { return r.NudgeDeep }))
	g.LossDrop = meanStd(g.column(func(r *RunRow) float64 { return r.LossDrop }))
	g.FrozenAcc = meanStd(g.column(func(r *RunRow) float64 { return r.FrozenAcc }))
	g.Gamma, g.HNorm, g.GNormPaper = make([]Stat, g.Positions), make([]Stat, g.Positions), make([]Stat, g.Positions)
	for p := 0; p < g.Positions; p++ {
		g.Gamma[p] = meanStd(g.positionColumn(p, func(r *RunRow) []float64 { return r.Gamma }))
		g.HNorm[p] = geoMean(g.positionColumn(p, func(r *RunRow) []float64 { return r.HNorm }))
		g.GNormPaper[p] = geoMean(g.positionColumn(p, func(r *RunRow) []float64 { return r.GNormPaper }))
	}
	g.Verdict = aggregateVerdict(g.Verdicts, g.rowsAudited())
}

func (g *Group) rowsAudited() []bool {
	out := make([]bool, len(g.rows))
	for i, r := range g.rows {
		out[i] = r.Audited
	}
	return out
}

// aggregateVerdict is the common verdict of the audited runs, or "FAIL k/n"
// when they disagree (k failing of n audited), or "not audited".
func aggregateVerdict(verdicts []string, audited []bool) string {
	var vs []string
	for i, v := range verdicts {
		if audited[i] {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return "not audited"
	}
	failing := 0
	same := true
	for _, v := range vs {
		if v != "PASS" {
			failing++
		}
		same = same && v == vs[0]
	}
	if same {
		return vs[0]
	}
	return fmt.Sprintf("FAIL %d/%d", failing, len(vs))
}

// FiredSummary says how often each check fired among the audited seeds,
// e.g. "D1 3/3, D3 1/3", or "none".
func (g *Group) FiredSummary() string {
	var parts []string
	for _, k := range protocol.CheckNames {
		if n := g.Fired[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d/%d", k, n, g.Ran[k]))
		}
	}
	if len(parts) == 0 {
		if g.Audited == 0 {
			return "—"
		}
		return "none"
	}
	return strings.Join(parts, ", ")
}
