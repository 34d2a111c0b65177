package chart

import (
	"bytes"
	"fmt"
	"image"
	"image/color"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Series is one line (or set of points) on a Figure.
type Series struct {
	Label string
	X, Y  []float64
	// YErr, if not nil, is a ± error bar per point (e.g. std over seeds).
	YErr []float64
	// Points draws markers only, without the connecting line.
	Points bool
}

// HLine is a horizontal reference line, e.g. a protocol threshold.
type HLine struct {
	Label string
	Y     float64
}

// Figure is a line chart. Points that cannot be drawn (NaN, ±Inf, or ≤ 0
// on a log axis) are left out and counted in the caption.
//
// A line is broken where points were left out rather than joined across
// the gap. On a log Y axis, error bars that would reach zero or below are
// cut short just below the lowest drawn value. XTicks takes precedence
// over LogX.
type Figure struct {
	Title, XLabel, YLabel string
	LogX, LogY            bool
	Series                []Series
	HLines                []HLine
	// XTicks, if not nil, labels x = 0, 1, … (categorical axes such as
	// positions h0…hL or rule names).
	XTicks []string
	// IntegerX puts ticks on whole numbers only (epochs, counts) on a linear
	// x axis.
	IntegerX bool
}

// Slope is a slope chart: one column per metric, one line per subject
// (e.g. rule), each value placed by its rank or normalised score.
type Slope struct {
	Title   string
	Columns []string
	Lines   []SlopeLine
}

// SlopeLine is one subject of a Slope chart: Values[i] belongs to
// Columns[i], already normalised to [0, 1] (1 = best).
type SlopeLine struct {
	Label  string
	Values []float64
}

// Size and resolution of the rendered images.
const (
	// Width and Height are the size of every chart.
	Width  = 6 * vg.Inch
	Height = 4 * vg.Inch
	// DPI is the resolution of PNG output; a chart is 600×400 pixels.
	DPI = 100
)

// SVG renders the figure as a standalone SVG document.
func (f Figure) SVG() ([]byte, error) { svg, _, err := render(f.draw, true, false); return svg, err }

// PNG renders the figure as a PNG image.
func (f Figure) PNG() ([]byte, error) { _, png, err := render(f.draw, false, true); return png, err }

// Render renders the figure as SVG and PNG from a single drawing; the
// bytes are those SVG and PNG return.
func (f Figure) Render() (svg, png []byte, err error) { return render(f.draw, true, true) }

// SVG renders the slope chart as a standalone SVG document.
func (s Slope) SVG() ([]byte, error) { svg, _, err := render(s.draw, true, false); return svg, err }

// PNG renders the slope chart as a PNG image.
func (s Slope) PNG() ([]byte, error) { _, png, err := render(s.draw, false, true); return png, err }

// Render renders the slope chart as SVG and PNG from a single drawing.
func (s Slope) Render() (svg, png []byte, err error) { return render(s.draw, true, true) }

// render draws once onto a Width×Height SVG canvas, a Width×Height image
// at DPI, or both, and returns the SVG document and the PNG image asked for.
func render(drawFn func(draw.Canvas), wantSVG, wantPNG bool) (svg, png []byte, err error) {
	defer recoverTo(&err)
	var sc *vgsvg.Canvas
	var ic *vgimg.Canvas
	var tee teeCanvas
	if wantSVG {
		sc = vgsvg.New(Width, Height)
		tee = append(tee, sc)
	}
	if wantPNG {
		ic = vgimg.NewWith(vgimg.UseWH(Width, Height), vgimg.UseDPI(DPI))
		tee = append(tee, ic)
	}
	drawFn(draw.New(tee))
	if sc != nil {
		var buf bytes.Buffer
		if _, err := sc.WriteTo(&buf); err != nil {
			return nil, nil, fmt.Errorf("chart: writing SVG: %w", err)
		}
		// vgsvg names the font family it measured the text with. Browsers
		// without Liberation Sans would otherwise fall back to a serif font;
		// Arial and Helvetica have the same metrics.
		svg = bytes.ReplaceAll(buf.Bytes(),
			[]byte("font-family:"+sansFamily+";"),
			[]byte("font-family:"+sansFamily+",Arial,Helvetica,sans-serif;"))
	}
	if ic != nil {
		var buf bytes.Buffer
		if _, err := (vgimg.PngCanvas{Canvas: ic}).WriteTo(&buf); err != nil {
			return nil, nil, fmt.Errorf("chart: writing PNG: %w", err)
		}
		png = buf.Bytes()
	}
	return svg, png, nil
}

// teeCanvas passes every drawing call on to each of its canvases, all of
// size Width×Height, so that one drawing makes both the SVG and the PNG.
type teeCanvas []vg.CanvasSizer

func (t teeCanvas) Size() (x, y vg.Length) { return Width, Height }

func (t teeCanvas) SetLineWidth(w vg.Length) {
	for _, c := range t {
		c.SetLineWidth(w)
	}
}

func (t teeCanvas) SetLineDash(pattern []vg.Length, offset vg.Length) {
	for _, c := range t {
		c.SetLineDash(pattern, offset)
	}
}

func (t teeCanvas) SetColor(col color.Color) {
	for _, c := range t {
		c.SetColor(col)
	}
}

func (t teeCanvas) Rotate(rad float64) {
	for _, c := range t {
		c.Rotate(rad)
	}
}

func (t teeCanvas) Translate(pt vg.Point) {
	for _, c := range t {
		c.Translate(pt)
	}
}

func (t teeCanvas) Scale(x, y float64) {
	for _, c := range t {
		c.Scale(x, y)
	}
}

func (t teeCanvas) Push() {
	for _, c := range t {
		c.Push()
	}
}

func (t teeCanvas) Pop() {
	for _, c := range t {
		c.Pop()
	}
}

func (t teeCanvas) Stroke(p vg.Path) {
	for _, c := range t {
		c.Stroke(p)
	}
}

func (t teeCanvas) Fill(p vg.Path) {
	for _, c := range t {
		c.Fill(p)
	}
}

func (t teeCanvas) FillString(f font.Face, pt vg.Point, text string) {
	for _, c := range t {
		c.FillString(f, pt, text)
	}
}

func (t teeCanvas) DrawImage(rect vg.Rectangle, img image.Image) {
	for _, c := range t {
		c.DrawImage(rect, img)
	}
}

// recoverTo turns a panic inside gonum/plot into an error, so that odd
// data never takes the caller down.
func recoverTo(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("chart: rendering failed: %v", r)
	}
}
