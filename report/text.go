package report

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/faudit/faudit/protocol"
)

// pad left-aligns s in width runes.
func pad(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

// Text writes the compact audit table: one line per group.
func (r *Report) Text(w io.Writer) {
	fmt.Fprintf(w, "%s\n", r.header())
	width := len("group")
	for _, g := range r.Groups {
		width = max(width, utf8.RuneCountInString(g.Label))
	}
	cols := []struct {
		name  string
		width int
	}{{"n", 3}, {"accuracy", 17}, {"Γ all", 7}, {"Γ deep", 7}, {"D1", 9}, {"‖g_L‖ paper", 11}, {"D3 pp", 7}}
	fmt.Fprint(w, pad("group", width))
	for _, c := range cols {
		fmt.Fprint(w, "  ", pad(c.name, c.width))
	}
	fmt.Fprintln(w, "  verdict")
	for _, g := range r.Groups {
		cells := []string{fmt.Sprint(len(g.rows)), pm(g.Accuracy, acc), protocol.FormatSigned(g.GammaAll.Mean), protocol.FormatSigned(g.GammaDeep.Mean),
			times(g.D1.Mean), num(g.D2Paper.Mean), pp(g.D3Lead.Mean)}
		fmt.Fprint(w, pad(g.Label, width))
		for i, c := range cells {
			fmt.Fprint(w, "  ", pad(c, cols[i].width))
		}
		fmt.Fprintf(w, "  %s\n", g.Verdict)
	}
	const shown = 5
	for i, n := range r.Notes {
		if i == shown {
			fmt.Fprintf(w, "note: … and %d more (see report.md)\n", len(r.Notes)-shown)
			break
		}
		fmt.Fprintf(w, "note: %s\n", n)
	}
}
