package chart

import (
	"bytes"
	"fmt"

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
func (f Figure) SVG() ([]byte, error) { return renderSVG(f.draw) }

// PNG renders the figure as a PNG image.
func (f Figure) PNG() ([]byte, error) { return renderPNG(f.draw) }

// SVG renders the slope chart as a standalone SVG document.
func (s Slope) SVG() ([]byte, error) { return renderSVG(s.draw) }

// PNG renders the slope chart as a PNG image.
func (s Slope) PNG() ([]byte, error) { return renderPNG(s.draw) }

// renderSVG draws onto a Width×Height SVG canvas and returns the document.
func renderSVG(drawFn func(draw.Canvas)) (b []byte, err error) {
	defer recoverTo(&err)
	c := vgsvg.New(Width, Height)
	drawFn(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart: writing SVG: %w", err)
	}
	// vgsvg names the font family it measured the text with. Browsers
	// without Liberation Sans would otherwise fall back to a serif font;
	// Arial and Helvetica have the same metrics.
	return bytes.ReplaceAll(buf.Bytes(),
		[]byte("font-family:"+sansFamily+";"),
		[]byte("font-family:"+sansFamily+",Arial,Helvetica,sans-serif;")), nil
}

// renderPNG draws onto a Width×Height image at DPI and returns it as PNG.
func renderPNG(drawFn func(draw.Canvas)) (b []byte, err error) {
	defer recoverTo(&err)
	c := vgimg.NewWith(vgimg.UseWH(Width, Height), vgimg.UseDPI(DPI))
	drawFn(draw.New(c))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart: writing PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// recoverTo turns a panic inside gonum/plot into an error, so that odd
// data never takes the caller down.
func recoverTo(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("chart: rendering failed: %v", r)
	}
}
