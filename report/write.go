package report

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/faudit/faudit/internal/atomicfile"
	"github.com/faudit/faudit/internal/nanjson"
	"github.com/faudit/faudit/train"
)

// Files Write produces besides the plots (NAME.svg and NAME.png per plot).
const (
	HTMLFile     = "report.html"
	MarkdownFile = "report.md"
	GroupsCSV    = "report.csv"
	RunsCSV      = "runs.csv"
	JSONFile     = "report.json"
)

// Write renders the plots and writes every file of the report into out,
// each atomically. It returns the path of report.html.
func Write(r *Report, out string) (string, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("--out %s: %v", out, err)
	}
	svgs := map[string][]byte{}
	for _, p := range r.Plots {
		svg, png, err := p.fig.Render()
		if err != nil {
			return "", fmt.Errorf("plot %s: %w", p.Name, err)
		}
		if err := write(out, p.Name+".svg", svg); err != nil {
			return "", err
		}
		if err := write(out, p.Name+".png", png); err != nil {
			return "", err
		}
		svgs[p.Name] = svg
	}
	js, err := nanjson.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	js = append(js, '\n')
	files := []struct {
		name string
		data []byte
	}{
		{MarkdownFile, []byte(r.Markdown())},
		{GroupsCSV, r.GroupsCSV()},
		{RunsCSV, r.RunsCSV()},
		{JSONFile, js},
		{HTMLFile, []byte(r.HTML(svgs))},
	}
	for _, f := range files {
		if err := write(out, f.name, f.data); err != nil {
			return "", err
		}
	}
	return filepath.Join(out, HTMLFile), nil
}

func write(dir, name string, data []byte) error {
	return atomicfile.WriteFile(filepath.Join(dir, name), data)
}

// mdCell escapes what would break a Markdown table cell.
func mdCell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

func (t Table) markdown(b *strings.Builder, section string) {
	if t.Title != section {
		fmt.Fprintf(b, "### %s\n\n", t.Title)
	}
	if t.Caption != "" {
		fmt.Fprintf(b, "%s\n\n", t.Caption)
	}
	if len(t.Rows) == 0 {
		b.WriteString("(no rows)\n\n")
		return
	}
	cells := make([]string, len(t.Header))
	for i, h := range t.Header {
		cells[i] = mdCell(h)
	}
	fmt.Fprintf(b, "| %s |\n|%s\n", strings.Join(cells, " | "), strings.Repeat("---|", len(t.Header)))
	for _, row := range t.Rows {
		cells = cells[:0]
		for _, c := range row {
			cells = append(cells, mdCell(c))
		}
		fmt.Fprintf(b, "| %s |\n", strings.Join(cells, " | "))
	}
	b.WriteString("\n")
}

// conventionKeys in a stable order.
func (r *Report) conventionKeys() []string {
	keys := make([]string, 0, len(r.Conventions))
	for k := range r.Conventions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Markdown is report.md: every table, with the plots linked.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# faudit report: %s\n\n%s\n\n", r.Dir, r.header())
	b.WriteString("## The checks\n\n")
	for _, c := range checkExplanations(r.Thresholds) {
		fmt.Fprintf(&b, "- **%s**: %s\n", c[0], c[1])
	}
	b.WriteString("\n")
	for _, s := range r.sections() {
		fmt.Fprintf(&b, "## %s\n\n", s.Title)
		for _, p := range s.Intro {
			fmt.Fprintf(&b, "%s\n\n", p)
		}
		for _, t := range s.Tables {
			t.markdown(&b, s.Title)
		}
		for _, p := range s.Plots {
			fmt.Fprintf(&b, "![%s](%s.svg)\n\n%s\n\n", p.Title, p.Name, p.Caption)
		}
	}
	b.WriteString("## Conventions\n\n")
	for _, k := range r.conventionKeys() {
		fmt.Fprintf(&b, "- %s: %s\n", k, r.Conventions[k])
	}
	b.WriteString("\n")
	if len(r.Notes) > 0 {
		b.WriteString("## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

// csvNum writes a number in full precision, "" for NaN and ±Inf as "+Inf"
// and "-Inf".
func csvNum(x float64) string {
	if math.IsNaN(x) {
		return ""
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

func csvBytes(rows [][]string) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.WriteAll(rows) // a bytes.Buffer does not fail
	return buf.Bytes()
}

func positionHeader(prefix string, P int) []string {
	out := make([]string, P)
	for p := range out {
		out[p] = fmt.Sprintf("%s_h%d", prefix, p)
	}
	return out
}

func positionValues(v []float64, P int) []string {
	out := make([]string, P)
	for p := range out {
		if p < len(v) {
			out[p] = csvNum(v[p])
		}
	}
	return out
}

func (r *Report) maxPositions() int {
	P := 0
	for _, g := range r.Groups {
		P = max(P, g.Positions)
	}
	return P
}

// GroupsCSV is report.csv: one row per group.
func (r *Report) GroupsCSV() []byte {
	P := r.maxPositions()
	header := []string{"group", "rule", "arch", "data", "epochs", "precision", "local_norm", "penalty", "train_blocks", "baseline",
		"n", "n_audited", "seeds", "acc_mean", "acc_std", "gamma_mean_all", "gamma_mean_all_std", "gamma_mean_deep", "gamma_mean_deep_std",
		"d1_growth", "h_norm_L", "d2_g_norm_paper", "d2_rel_err", "d3_lead_pp", "d3_lead_pp_std", "m2_ratio", "nudge_deep",
		"train_loss_decrease", "frozen_acc", "verdict", "checks_fired"}
	header = append(append(append(header, positionHeader("gamma", P)...), positionHeader("gamma_std", P)...), freshBHeader(P)...)
	fresh := map[string]*FreshBGroup{}
	for i := range r.FreshB {
		fresh[r.FreshB[i].Group] = &r.FreshB[i]
	}
	rows := [][]string{header}
	for _, g := range r.Groups {
		c := g.Config
		seeds := make([]string, len(g.Seeds))
		for i, s := range g.Seeds {
			seeds[i] = fmt.Sprint(s)
		}
		row := []string{g.Label, c.Rule, g.ArchLabel, c.Data, fmt.Sprint(c.Epochs), c.Precision, c.LocalNorm, csvNum(c.Penalty),
			fmt.Sprint(c.TrainBlocks), fmt.Sprint(g.Baseline), fmt.Sprint(len(g.rows)), fmt.Sprint(g.Audited), strings.Join(seeds, " "),
			csvNum(g.Accuracy.Mean), csvNum(g.Accuracy.Std), csvNum(g.GammaAll.Mean), csvNum(g.GammaAll.Std), csvNum(g.GammaDeep.Mean),
			csvNum(g.GammaDeep.Std), csvNum(g.D1.Mean), csvNum(lastStat(g.HNorm).Mean), csvNum(g.D2Paper.Mean), csvNum(g.D2RelErr.Mean),
			csvNum(g.D3Lead.Mean), csvNum(g.D3Lead.Std), csvNum(g.M2.Mean), csvNum(g.NudgeDeep.Mean), csvNum(g.LossDrop.Mean),
			csvNum(g.FrozenAcc.Mean), g.Verdict, g.FiredSummary()}
		row = append(append(append(row, positionValues(means(g.Gamma), P)...), positionValues(statStds(g.Gamma), P)...), freshBValues(fresh[g.Label], P)...)
		rows = append(rows, row)
	}
	return csvBytes(rows)
}

func statStds(s []Stat) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = v.Std
	}
	return out
}

// RunsCSV is runs.csv: one row per run.
func (r *Report) RunsCSV() []byte {
	P := r.maxPositions()
	header := []string{"run", "group", "seed", "feedback_seed", "baseline", "epochs", "accuracy", "test_loss", "train_loss",
		"train_loss_decrease", "audited", "verdict", "gamma_mean_all", "gamma_mean_deep", "d1_growth", "d2_g_norm_paper", "d2_rel_err",
		"d2_fired", "d3_lead_pp", "d3_source", "frozen_acc", "m2_ratio", "nudge_deep", "checks_fired", "standard_pair", "audit_note"}
	header = append(append(append(append(header, positionHeader("gamma", P)...), positionHeader("h_norm", P)...), positionHeader("g_norm_paper", P)...), freshBRunHeader(P)...)
	rows := [][]string{header}
	for _, x := range r.Runs {
		row := []string{x.Dir, x.Group, fmt.Sprint(x.Seed), fmt.Sprint(x.FeedbackSeed), fmt.Sprint(x.Baseline), fmt.Sprint(x.Epochs),
			csvNum(x.Accuracy), csvNum(x.TestLoss), csvNum(x.TrainLoss), csvNum(x.LossDrop), fmt.Sprint(x.Audited), x.Verdict,
			csvNum(x.GammaAll), csvNum(x.GammaDeep), csvNum(x.D1), csvNum(x.D2Paper), csvNum(x.D2RelErr), strings.Join(x.D2Fired, " "),
			csvNum(x.D3Lead), x.D3Source, csvNum(x.FrozenAcc), csvNum(x.M2), csvNum(x.NudgeDeep), strings.Join(x.Fired, " "),
			x.StandardPair, x.AuditNote}
		row = append(append(append(append(row, positionValues(x.Gamma, P)...), positionValues(x.HNorm, P)...), positionValues(x.GNormPaper, P)...), freshBRunValues(x.run.Audit, P)...)
		rows = append(rows, row)
	}
	return csvBytes(rows)
}

const css = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.85em;display:block;overflow-x:auto}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}th{background:#f3f3f3}
tr:nth-child(even) td{background:#fafafa}
figure{margin:1em 0 2em}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption,.caption{font-size:.88em;color:#555}nav ul{columns:2}code{background:#f3f3f3;padding:0 .2em}`

func (t Table) html(b *strings.Builder, section string) {
	if t.Title != section {
		fmt.Fprintf(b, "<h3 id=\"t-%s\">%s</h3>\n", html.EscapeString(t.ID), html.EscapeString(t.Title))
	}
	if t.Caption != "" {
		fmt.Fprintf(b, "<p class=\"caption\">%s</p>\n", html.EscapeString(t.Caption))
	}
	if len(t.Rows) == 0 {
		b.WriteString("<p>(no rows)</p>\n")
		return
	}
	b.WriteString("<table><thead><tr>")
	for _, h := range t.Header {
		fmt.Fprintf(b, "<th>%s</th>", html.EscapeString(h))
	}
	b.WriteString("</tr></thead><tbody>\n")
	for _, row := range t.Rows {
		b.WriteString("<tr>")
		for _, c := range row {
			fmt.Fprintf(b, "<td>%s</td>", html.EscapeString(c))
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody></table>\n")
}

// HTML is report.html: self-contained, every plot inline as an SVG data
// URI (svgs by plot name), no scripts, no external resources.
func (r *Report) HTML(svgs map[string][]byte) string {
	var b strings.Builder
	esc := html.EscapeString
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"faudit-plots\" content=\"%d\">\n", len(r.Plots))
	fmt.Fprintf(&b, "<title>faudit report: %s</title>\n<style>%s</style></head><body>\n", esc(r.Dir), css)
	fmt.Fprintf(&b, "<h1>faudit report: %s</h1>\n<p>%s</p>\n", esc(r.Dir), esc(r.header()))
	sections := r.sections()
	b.WriteString("<section id=\"checks\"><h2>The checks</h2>\n<dl>\n")
	for _, c := range checkExplanations(r.Thresholds) {
		fmt.Fprintf(&b, "<dt><b>%s</b></dt><dd>%s</dd>\n", esc(c[0]), esc(c[1]))
	}
	b.WriteString("</dl></section>\n<nav><ul>\n")
	for _, s := range sections {
		fmt.Fprintf(&b, "<li><a href=\"#%s\">%s</a></li>\n", s.ID, esc(s.Title))
	}
	b.WriteString("<li><a href=\"#conventions\">Conventions</a></li>\n</ul></nav>\n")
	for _, s := range sections {
		fmt.Fprintf(&b, "<section id=\"%s\"><h2>%s</h2>\n", s.ID, esc(s.Title))
		for _, p := range s.Intro {
			fmt.Fprintf(&b, "<p>%s</p>\n", esc(p))
		}
		for _, t := range s.Tables {
			t.html(&b, s.Title)
		}
		for _, p := range s.Plots {
			fmt.Fprintf(&b, "<figure id=\"p-%s\"><img class=\"plot\" data-plot=\"%s\" alt=\"%s\" src=\"data:image/svg+xml;base64,%s\">\n<figcaption><b>%s.</b> %s</figcaption></figure>\n",
				esc(p.Name), esc(p.Name), esc(p.Title), base64.StdEncoding.EncodeToString(svgs[p.Name]), esc(p.Title), esc(p.Caption))
		}
		b.WriteString("</section>\n")
	}
	b.WriteString("<section id=\"conventions\"><h2>Conventions</h2>\n<ul>\n")
	for _, k := range r.conventionKeys() {
		fmt.Fprintf(&b, "<li><code>%s</code>: %s</li>\n", esc(k), esc(r.Conventions[k]))
	}
	b.WriteString("</ul></section>\n")
	if len(r.Notes) > 0 {
		b.WriteString("<section id=\"notes\"><h2>Notes</h2>\n<ul>\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "<li>%s</li>\n", esc(n))
		}
		b.WriteString("</ul></section>\n")
	}
	b.WriteString("</body></html>\n")
	return b.String()
}

// Generate is Load, Build and Write in one call (for faudit demo): the
// report of every run under dir, written into out (dir/report when ""). A
// problem with the runs is marked as bad input (errors.Is(err,
// train.ErrBadInput)).
func Generate(dir, out string) (*Report, string, error) {
	if out == "" {
		out = filepath.Join(dir, "report")
	}
	c, err := Load(dir, out)
	if err != nil {
		return nil, "", train.BadInput(err)
	}
	r := Build(c, dir)
	path, err := Write(r, out)
	return r, path, err
}
