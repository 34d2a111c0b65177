package chart

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// sans is the font of all chart text; sansFamily is its SVG family name.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

const sansFamily = "Liberation Sans"

// palette holds the series colours (Tableau 10 without its grey, which
// is kept for reference lines).
var palette = []color.Color{
	rgb(0x1f, 0x77, 0xb4),
	rgb(0xff, 0x7f, 0x0e),
	rgb(0x2c, 0xa0, 0x2c),
	rgb(0xd6, 0x27, 0x28),
	rgb(0x94, 0x67, 0xbd),
	rgb(0x8c, 0x56, 0x4b),
	rgb(0xe3, 0x77, 0xc2),
	rgb(0xbc, 0xbd, 0x22),
	rgb(0x17, 0xbe, 0xcf),
}

func rgb(r, g, b uint8) color.Color { return color.RGBA{R: r, G: g, B: b, A: 0xff} }

// Styles of the i-th series: colours cycle first, then dash patterns;
// the marker shape changes with every series.
func seriesColor(i int) color.Color { return palette[i%len(palette)] }

func seriesLine(i int) draw.LineStyle {
	return draw.LineStyle{
		Color:  seriesColor(i),
		Width:  vg.Points(1.5),
		Dashes: plotutil.Dashes(i / len(palette)),
	}
}

func seriesGlyph(i int) draw.GlyphStyle {
	return draw.GlyphStyle{
		Color:  seriesColor(i),
		Radius: vg.Points(2.5),
		Shape:  plotutil.Shape(i),
	}
}

// referenceLine is the style of the i-th HLine: dark greys, dashed.
func referenceLine(i int) draw.LineStyle {
	greys := []uint8{0x20, 0x70, 0xa0}
	dashes := [][]vg.Length{
		{vg.Points(6), vg.Points(3)},
		{vg.Points(2), vg.Points(2)},
		{vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)},
	}
	return draw.LineStyle{
		Color:  color.Gray{Y: greys[i%len(greys)]},
		Width:  vg.Points(1),
		Dashes: dashes[(i/len(greys))%len(dashes)],
	}
}

// gridStyle is the style of the light background grid.
var gridStyle = draw.LineStyle{Color: color.Gray{Y: 0xe0}, Width: vg.Points(0.5)}

// newPlot returns a plot with the package's fonts set.
func newPlot(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sans, 12)
	p.Title.Padding = vg.Points(6)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 10)
		a.Tick.Label.Font = font.From(sans, 9)
	}
	return p
}

// textStyle returns a plain text style in the package font.
func textStyle(size vg.Length) text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    font.From(sans, size),
		Handler: plot.DefaultTextHandler,
	}
}

// maxLabel is the longest label, in runes, shown in a legend.
const maxLabel = 40

// shorten cuts s to at most maxLabel runes.
func shorten(s string) string {
	r := []rune(s)
	if len(r) <= maxLabel {
		return s
	}
	return string(r[:maxLabel-1]) + "…"
}

// droppedNote describes n left-out points.
func droppedNote(n int) string {
	if n == 1 {
		return "1 point not drawable on this axis was left out"
	}
	return fmt.Sprintf("%d points not drawable on this axis were left out", n)
}

// caption returns the note shown under a chart with drawn points drawn
// and dropped points left out, or "" if there is nothing to note.
func caption(drawn, dropped int) string {
	switch {
	case drawn == 0 && dropped > 0:
		return "no drawable points: " + droppedNote(dropped)
	case drawn == 0:
		return "no data points"
	case dropped > 0:
		return droppedNote(dropped)
	}
	return ""
}

// drawCaption writes text centred along the bottom of c and removes the
// space it takes from c. It does nothing if text is empty.
func drawCaption(c *draw.Canvas, text string) {
	if text == "" {
		return
	}
	sty := textStyle(9)
	sty.Color = color.Gray{Y: 0x40}
	sty.XAlign = draw.XCenter
	pad := vg.Points(3)
	c.FillText(sty, vg.Point{X: c.Center().X, Y: c.Min.Y + pad + sty.FontExtents().Descent}, text)
	c.Min.Y += sty.Height(text) + 2*pad
}

// categoryTicks labels x = 0, 1, … with its names.
type categoryTicks []string

// Ticks implements plot.Ticker.
func (t categoryTicks) Ticks(min, max float64) []plot.Tick {
	ticks := make([]plot.Tick, len(t))
	for i, name := range t {
		ticks[i] = plot.Tick{Value: float64(i), Label: name}
	}
	return ticks
}

// rotateCategories tilts the tick labels of a categorical axis when they
// would not fit side by side in the given width.
func rotateCategories(a *plot.Axis, names []string, width vg.Length) {
	if len(names) == 0 {
		return
	}
	var widest vg.Length
	for _, s := range names {
		widest = max(widest, a.Tick.Label.Width(s))
	}
	if widest < 0.9*width/vg.Length(len(names)) {
		return
	}
	a.Tick.Label.Rotation = math.Pi / 6
	a.Tick.Label.XAlign = draw.XRight
	a.Tick.Label.YAlign = draw.YCenter
}

// logTicks marks the decades of a log axis (with minor ticks between).
// Unlike plot.LogTicks it handles ranges below 1 correctly, and it falls
// back to plot.DefaultTicks when fewer than two decades are in range.
// All ticks are positive, as plot.LogScale requires.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0 && max > min) || math.IsInf(max, 0) {
		return nil // not a valid log range; plot never asks for one
	}
	lo := int(math.Floor(math.Log10(min)))
	hi := int(math.Ceil(math.Log10(max)))
	step := 1 + (hi-lo)/10 // label at most about ten decades
	var ticks []plot.Tick
	labelled := 0
	for e := lo; e <= hi; e++ {
		base, _ := strconv.ParseFloat("1e"+strconv.Itoa(e), 64) // exactly rounded, unlike math.Pow10
		if (e-lo)%step == 0 {
			ticks = append(ticks, plot.Tick{Value: base, Label: strconv.FormatFloat(base, 'g', -1, 64)})
			if min <= base && base <= max {
				labelled++
			}
		} else {
			ticks = append(ticks, plot.Tick{Value: base})
		}
		if step == 1 && e < hi {
			for m := 2; m < 10; m++ {
				ticks = append(ticks, plot.Tick{Value: base * float64(m)})
			}
		}
	}
	if labelled >= 2 {
		return ticks
	}
	ticks = ticks[:0]
	for _, t := range (plot.DefaultTicks{}).Ticks(min, max) {
		if t.Value > 0 {
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// fixLogRange makes a log axis range valid: positive, and not a single
// value (which plot would widen by ±1, possibly to ≤ 0).
func fixLogRange(a *plot.Axis) {
	switch {
	case !(a.Min > 0 && a.Max >= a.Min) || math.IsInf(a.Max, 0):
		a.Min, a.Max = 1, 10
	case a.Min == a.Max:
		a.Min, a.Max = a.Min/2, a.Max*2
	}
}

// fixLinearRange gives an axis without data a unit range, and widens
// the range of a single value (plot's ±1 vanishes for large values).
func fixLinearRange(a *plot.Axis) {
	switch {
	case a.Min > a.Max:
		a.Min, a.Max = 0, 1
	case a.Min == a.Max:
		d := max(1, math.Abs(a.Min)/10)
		a.Min, a.Max = a.Min-d, a.Max+d
	}
}

// hline is a plot.Plotter drawing a horizontal line across the data area.
type hline struct {
	y     float64
	style draw.LineStyle
}

// Plot implements plot.Plotter.
func (h hline) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	y := trY(h.y)
	c.StrokeLine2(h.style, c.Min.X, y, c.Max.X, y)
}

// DataRange implements plot.DataRanger; it only widens the Y range.
func (h hline) DataRange() (xmin, xmax, ymin, ymax float64) {
	return math.Inf(1), math.Inf(-1), h.y, h.y
}

// Thumbnail implements plot.Thumbnailer.
func (h hline) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(h.style, c.Min.X, y, c.Max.X, y)
}

// legendEntry is one line of a legend drawn beside the plot.
type legendEntry struct {
	label  string
	thumbs []plot.Thumbnailer
}

// drawWithLegend draws p with its legend entries in a column to the right
// of the plot, top-aligned with the data area.
func drawWithLegend(c draw.Canvas, p *plot.Plot, entries []legendEntry) {
	c = drawTitle(c, p)
	if len(entries) == 0 {
		p.Draw(c)
		return
	}
	leg := plot.NewLegend()
	leg.TextStyle = textStyle(9)
	leg.Top, leg.Left = true, true
	leg.Padding = vg.Points(2)
	for _, e := range entries {
		leg.Add(e.label, e.thumbs...)
	}
	gap := vg.Points(8)
	w := min(leg.Rectangle(c).Size().X, c.Size().X*0.45)
	pc := draw.Crop(c, 0, -(w + 2*gap), 0, 0)
	p.Draw(pc)

	lc := c
	lc.Min.X = c.Max.X - w - gap
	lc.Max.X = c.Max.X - gap
	lc.Max.Y = p.DataCanvas(pc).Max.Y
	leg.Draw(lc)
}

// drawTitle draws p's title centred across the whole canvas (gonum would
// centre it over the plot area alone, which the legend column narrows, and
// clip a long title at the left edge), shrunk to fit the width if need be,
// and returns the canvas below it; p's own title is cleared.
func drawTitle(c draw.Canvas, p *plot.Plot) draw.Canvas {
	title := p.Title.Text
	if title == "" {
		return c
	}
	p.Title.Text = ""
	sty := p.Title.TextStyle
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
	pad := p.Title.Padding
	if avail := c.Size().X - 2*pad; sty.Width(title) > avail {
		sty.Font.Size = sty.Font.Size * avail / sty.Width(title)
	}
	c.FillText(sty, vg.Point{X: c.Center().X, Y: c.Max.Y - pad}, title)
	c.Max.Y -= sty.Height(title) + 2*pad
	return c
}

// fillBackground paints all of c white, so that the legend column is not
// transparent when an SVG is inlined into a coloured page.
func fillBackground(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
}

// integerTicks labels whole numbers only: every one when the range holds at
// most 20, else gonum's default ticks that fall on whole numbers.
type integerTicks struct{}

func (integerTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	if lo, hi := math.Ceil(min), math.Floor(max); hi-lo <= 20 {
		for v := lo; v <= hi; v++ {
			out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
		}
		return out
	}
	for _, t := range (plot.DefaultTicks{}).Ticks(min, max) {
		if t.Value == math.Trunc(t.Value) {
			out = append(out, t)
		}
	}
	return out
}
