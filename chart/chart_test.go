package chart

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

var nan = math.NaN()

// svgText parses an SVG document, checks that it is a sized <svg> root,
// and returns the text it draws.
func svgText(t *testing.T, b []byte) string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var text strings.Builder
	root := true
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if !root {
				continue
			}
			root = false
			if tok.Name.Local != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg" {
				t.Fatalf("root element is %v, want svg", tok.Name)
			}
			attrs := map[string]string{}
			for _, a := range tok.Attr {
				attrs[a.Name.Local] = a.Value
			}
			for _, name := range []string{"width", "height", "viewBox"} {
				if attrs[name] == "" {
					t.Errorf("svg element has no %s attribute", name)
				}
			}
		case xml.CharData:
			text.Write(tok)
			text.WriteByte('\n')
		}
	}
	if root {
		t.Fatal("SVG has no root element")
	}
	return text.String()
}

// checkPNG decodes b and checks its size.
func checkPNG(t *testing.T, b []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	w := int(Width / vg.Inch * DPI)
	h := int(Height / vg.Inch * DPI)
	if got := img.Bounds().Size(); got.X != w || got.Y != h {
		t.Errorf("PNG size = %v, want %dx%d", got, w, h)
	}
}

var figureTests = []struct {
	name        string
	fig         Figure
	wantDropped int
}{
	{
		name: "lines with error bars and references",
		fig: Figure{
			Title: "Test accuracy", XLabel: "epoch", YLabel: "accuracy",
			Series: []Series{
				{Label: "backprop", X: []float64{1, 2, 3, 4}, Y: []float64{0.5, 0.7, 0.8, 0.85}, YErr: []float64{0.05, 0.03, 0.02, 0.01}},
				{Label: "FA & friends <1>", X: []float64{1, 2, 3, 4}, Y: []float64{0.4, 0.55, 0.6, 0.7}},
				{Label: "DFA", X: []float64{1, 2, 3, 4}, Y: []float64{0.3, 0.5, 0.6, 0.65}, Points: true},
			},
			HLines: []HLine{{Label: "chance", Y: 0.1}, {Label: "threshold", Y: 0.8}},
		},
	},
	{
		name: "log y with zero, negative and NaN",
		fig: Figure{
			Title: "Loss", XLabel: "step", YLabel: "loss", LogY: true,
			Series: []Series{
				{Label: "train", X: []float64{1, 2, 3, 4, 5}, Y: []float64{1, 0.1, 0, -1, nan}, YErr: []float64{2, 0.05, 0, 0, 0}},
				{Label: "test", X: []float64{1, 2, 3, 4}, Y: []float64{0.5, 0.05, math.Inf(1), 0.003}},
			},
			HLines: []HLine{{Label: "target", Y: 0.01}, {Label: "zero", Y: 0}},
		},
		wantDropped: 5, // 0, -1, NaN, +Inf and the HLine at 0
	},
	{
		name: "log x and log y",
		fig: Figure{
			Title: "Scaling", XLabel: "width", YLabel: "error", LogX: true, LogY: true,
			Series: []Series{
				{Label: "FA", X: []float64{0, 16, 64, 256, 1024}, Y: []float64{1, 0.5, 0.2, 0.1, 0.05}},
			},
		},
		wantDropped: 1, // x = 0
	},
	{
		name: "categorical x",
		fig: Figure{
			Title: "Alignment per layer", YLabel: "angle (deg)",
			XTicks: []string{"h0", "h1", "h2", "h3"},
			Series: []Series{
				{Label: "FA", X: []float64{0, 1, 2, 3}, Y: []float64{40, 50, 60, 70}, YErr: []float64{3, 3, 3, 3}},
				{Label: "DFA", X: []float64{0, 1, 2, 3}, Y: []float64{45, 55, 65, 75}, Points: true},
			},
		},
	},
	{
		name: "mismatched lengths",
		fig: Figure{
			Title:  "Ragged",
			Series: []Series{{Label: "r", X: []float64{1, 2, 3}, Y: []float64{1, 2}, YErr: []float64{0.1}}},
		},
		wantDropped: 1,
	},
}

func TestFigureSVG(t *testing.T) {
	for _, test := range figureTests {
		t.Run(test.name, func(t *testing.T) {
			if got := test.fig.Dropped(); got != test.wantDropped {
				t.Errorf("Dropped() = %d, want %d", got, test.wantDropped)
			}
			b, err := test.fig.SVG()
			if err != nil {
				t.Fatalf("SVG: %v", err)
			}
			text := svgText(t, b)
			want := []string{test.fig.Title, test.fig.XLabel, test.fig.YLabel}
			for _, s := range test.fig.Series {
				want = append(want, s.Label)
			}
			for _, h := range test.fig.HLines {
				if drawable(h.Y, test.fig.LogY) {
					want = append(want, h.Label)
				}
			}
			want = append(want, test.fig.XTicks...)
			if test.wantDropped > 0 {
				want = append(want, droppedNote(test.wantDropped))
			}
			for _, s := range want {
				if !strings.Contains(text, s) {
					t.Errorf("SVG text does not contain %q", s)
				}
			}
			if test.wantDropped == 0 && strings.Contains(text, "not drawable") {
				t.Errorf("SVG has a note on dropped points, but none were dropped")
			}
		})
	}
}

func TestFigurePNG(t *testing.T) {
	for _, test := range figureTests {
		t.Run(test.name, func(t *testing.T) {
			b, err := test.fig.PNG()
			if err != nil {
				t.Fatalf("PNG: %v", err)
			}
			checkPNG(t, b)
		})
	}
}

var slopeTest = Slope{
	Title:   "Rules compared",
	Columns: []string{"accuracy", "alignment", "robustness", "speed of convergence"},
	Lines: []SlopeLine{
		{Label: "backprop", Values: []float64{1, 1, 0.2, 1}},
		{Label: "FA", Values: []float64{0.6, 0.3, 0.8, 0.5}},
		{Label: "DFA", Values: []float64{0.5, 0.4, 1, 0.49}},
		{Label: "sign-symmetry", Values: []float64{0.8, nan, 0.5, 0}},
	},
}

func TestSlope(t *testing.T) {
	b, err := slopeTest.SVG()
	if err != nil {
		t.Fatalf("SVG: %v", err)
	}
	text := svgText(t, b)
	want := []string{slopeTest.Title, slopeYLabel, droppedNote(1)}
	want = append(want, slopeTest.Columns...)
	for _, l := range slopeTest.Lines {
		want = append(want, l.Label)
	}
	for _, s := range want {
		if !strings.Contains(text, s) {
			t.Errorf("SVG text does not contain %q", s)
		}
	}

	b, err = slopeTest.PNG()
	if err != nil {
		t.Fatalf("PNG: %v", err)
	}
	checkPNG(t, b)
}

func TestDeterministic(t *testing.T) {
	renders := []struct {
		name   string
		render func() ([]byte, error)
	}{
		{"figure SVG", figureTests[0].fig.SVG},
		{"figure PNG", figureTests[0].fig.PNG},
		{"log figure SVG", figureTests[1].fig.SVG},
		{"slope SVG", slopeTest.SVG},
		{"slope PNG", slopeTest.PNG},
	}
	for _, r := range renders {
		a, err := r.render()
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		b, err := r.render()
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two renders differ", r.name)
		}
	}
}

// TestDegenerate checks that charts without drawable data render, with a
// note, rather than panic or fail.
func TestDegenerate(t *testing.T) {
	inf := math.Inf(1)
	figures := []struct {
		name     string
		fig      Figure
		wantNote string
	}{
		{"zero figure", Figure{}, "no data points"},
		{"series without points", Figure{Title: "t", Series: []Series{{Label: "empty"}}}, "no data points"},
		{"all NaN", Figure{Series: []Series{{Label: "n", X: []float64{1, 2}, Y: []float64{nan, nan}}}}, "no drawable points: 2 points"},
		{"log y all non-positive", Figure{LogY: true, Series: []Series{{Label: "z", X: []float64{1, 2, 3}, Y: []float64{0, -1, -inf}, YErr: []float64{1, 1, 1}}}}, "no drawable points: 3 points"},
		{"log x all non-positive", Figure{LogX: true, Series: []Series{{Label: "z", X: []float64{0, -1}, Y: []float64{1, 2}}}}, "no drawable points: 2 points"},
		{"log y single point", Figure{LogY: true, LogX: true, Series: []Series{{Label: "one", X: []float64{1}, Y: []float64{1}}}}, ""},
		{"log y single point below one", Figure{LogY: true, Series: []Series{{Label: "one", X: []float64{1}, Y: []float64{0.001}}}}, ""},
		{"references only", Figure{LogY: true, HLines: []HLine{{Label: "a", Y: 1}, {Label: "b", Y: -1}}}, "no drawable points: 1 point"},
		{"empty categories", Figure{XTicks: []string{}, Series: []Series{{Label: "s", X: []float64{0}, Y: []float64{1}}}}, ""},
		{"huge values", Figure{Series: []Series{{Label: "h", X: []float64{-1e308, 1e308, 1e300}, Y: []float64{-1e308, 1e308, -1e300}}}}, "2 points not drawable"},
		{"tiny log range", Figure{LogY: true, Series: []Series{{Label: "t", X: []float64{1, 2}, Y: []float64{1e-300, 1e300}}}}, ""},
	}
	for _, test := range figures {
		t.Run(test.name, func(t *testing.T) { checkDegenerate(t, test.fig, test.wantNote) })
	}

	slopes := []struct {
		name     string
		slope    Slope
		wantNote string
	}{
		{"zero slope", Slope{}, "no data points"},
		{"no lines", Slope{Columns: []string{"a", "b"}}, "no data points"},
		{"one column", Slope{Columns: []string{"a"}, Lines: []SlopeLine{{Label: "x", Values: []float64{0.5}}}}, ""},
		{"unusable values", Slope{Columns: []string{"a", "b"}, Lines: []SlopeLine{{Label: "x", Values: []float64{nan, 2, 0.5}}}}, "no drawable points: 3 points"},
		{"unlabelled lines", Slope{Columns: []string{"a", "b"}, Lines: []SlopeLine{{Values: []float64{0, 1}}}}, ""},
	}
	for _, test := range slopes {
		t.Run(test.name, func(t *testing.T) { checkDegenerate(t, test.slope, test.wantNote) })
	}
}

// checkDegenerate renders c as SVG, which must contain wantNote, and as a
// PNG of the right size.
func checkDegenerate(t *testing.T, c interface {
	SVG() ([]byte, error)
	PNG() ([]byte, error)
}, wantNote string) {
	t.Helper()
	b, err := c.SVG()
	if err != nil {
		t.Fatalf("SVG: %v", err)
	}
	if text := svgText(t, b); !strings.Contains(text, wantNote) {
		t.Errorf("SVG text does not contain %q:\n%s", wantNote, text)
	}
	b, err = c.PNG()
	if err != nil {
		t.Fatalf("PNG: %v", err)
	}
	checkPNG(t, b)
}

func TestLogTicks(t *testing.T) {
	ranges := [][2]float64{
		{1, 10}, {0.003, 2}, {0.3, 0.7}, {1, 3}, {1e-300, 1e300}, {5, 5}, {0, 1}, {-1, 1},
	}
	for _, r := range ranges {
		for _, tk := range (logTicks{}).Ticks(r[0], r[1]) {
			if !(tk.Value > 0) {
				t.Errorf("Ticks(%g, %g) has tick at %g, want > 0", r[0], r[1], tk.Value)
			}
		}
	}
	labelled := 0
	for _, tk := range (logTicks{}).Ticks(0.003, 2) {
		if tk.Label != "" && tk.Value >= 0.003 && tk.Value <= 2 {
			labelled++
		}
	}
	if labelled != 3 { // 0.01, 0.1, 1
		t.Errorf("Ticks(0.003, 2) labels %d ticks in range, want 3", labelled)
	}
}

func TestSpread(t *testing.T) {
	tests := []struct {
		ys, want []vg.Length
	}{
		{ys: []vg.Length{90, 50, 10}, want: []vg.Length{90, 50, 10}},
		{ys: []vg.Length{50, 50, 50}, want: []vg.Length{50, 40, 30}},
		{ys: []vg.Length{5, 0, 0}, want: []vg.Length{20, 10, 0}},
		{ys: []vg.Length{120, 100}, want: []vg.Length{100, 90}},
		{ys: make([]vg.Length, 21), want: nil}, // squeezed; checked below
	}
	for _, test := range tests {
		got := spread(test.ys, 0, 100, 10)
		if test.want != nil {
			for i := range got {
				if math.Abs(float64(got[i]-test.want[i])) > 1e-9 {
					t.Errorf("spread(%v) = %v, want %v", test.ys, got, test.want)
					break
				}
			}
			continue
		}
		for i := range got {
			if got[i] < 0 || got[i] > 100 || (i > 0 && got[i] > got[i-1]) {
				t.Errorf("spread of %d labels = %v, want descending within [0, 100]", len(got), got)
				break
			}
		}
	}
}

// TestRender checks that one drawing for both formats gives the bytes
// SVG and PNG give on their own.
func TestRender(t *testing.T) {
	type renderable interface {
		SVG() ([]byte, error)
		PNG() ([]byte, error)
		Render() (svg, png []byte, err error)
	}
	charts := map[string]renderable{"figure": figureTests[0].fig, "log figure": figureTests[1].fig, "slope": slopeTest}
	for name, c := range charts {
		svg, png, err := c.Render()
		if err != nil {
			t.Fatalf("%s: Render: %v", name, err)
		}
		wantSVG, err := c.SVG()
		if err != nil {
			t.Fatalf("%s: SVG: %v", name, err)
		}
		wantPNG, err := c.PNG()
		if err != nil {
			t.Fatalf("%s: PNG: %v", name, err)
		}
		if !bytes.Equal(svg, wantSVG) {
			t.Errorf("%s: Render's SVG differs from SVG()", name)
		}
		if !bytes.Equal(png, wantPNG) {
			t.Errorf("%s: Render's PNG differs from PNG()", name)
		}
	}
}

func BenchmarkFigureSVG(b *testing.B) {
	for b.Loop() {
		if _, err := figureTests[0].fig.SVG(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFigurePNG(b *testing.B) {
	for b.Loop() {
		if _, err := figureTests[0].fig.PNG(); err != nil {
			b.Fatal(err)
		}
	}
}

// A long title is centred on the whole canvas, not on the plot area the
// legend column narrows, so it is never cut at the left edge.
func TestLongTitleIsCentredOnTheCanvas(t *testing.T) {
	title := "Depth ladder: accuracy against the number of trained blocks"
	f := Figure{Title: title, Series: []Series{{Label: "dfa rms · resmlp d256 L4", X: []float64{0, 1}, Y: []float64{1, 2}}}}
	b, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<text x="([0-9.-]+)"[^>]*>` + regexp.QuoteMeta(title) + `</text>`).FindSubmatch(b)
	if m == nil {
		t.Fatal("title text not found in the SVG")
	}
	x, _ := strconv.ParseFloat(string(m[1]), 64)
	w := float64(newPlot(title).Title.TextStyle.Width(title)) // points; the SVG's units
	canvas := float64(Width.Points())
	if x < 0 || math.Abs(x+w/2-canvas/2) > 1 {
		t.Errorf("title starts at x = %.1f and is %.1f wide; want it inside the %.0f-point canvas and centred on it", x, w, canvas)
	}
}

// IntegerX keeps whole-number axes (epochs) free of ticks like 1.5.
func TestIntegerXTicksOnlyWholeNumbers(t *testing.T) {
	for _, integer := range []bool{false, true} {
		f := Figure{IntegerX: integer, Series: []Series{{Label: "run", X: []float64{1, 2}, Y: []float64{3, 4}}}}
		b, err := f.SVG()
		if err != nil {
			t.Fatal(err)
		}
		half := bytes.Contains(b, []byte(">1.5</text>"))
		whole := bytes.Contains(b, []byte(">1</text>")) && bytes.Contains(b, []byte(">2</text>"))
		if integer && (half || !whole) {
			t.Errorf("IntegerX: tick 1.5 present %v, ticks 1 and 2 present %v; want only whole numbers", half, whole)
		}
		if !integer && !half {
			t.Error("default ticks on [1, 2] have no 1.5: the check above proves nothing")
		}
	}
}
