package chart

import (
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Dropped returns the number of points (and reference lines) of f that
// cannot be drawn on its axes and are left out when rendering.
func (f Figure) Dropped() int { return f.prepare().dropped }

// preparedFigure is a Figure reduced to what can be drawn.
type preparedFigure struct {
	series  []preparedSeries
	hlines  []int // indices of the drawable HLines
	dropped int   // points and HLines left out
	drawn   int   // points drawn
}

// preparedSeries holds the drawable points of one Series.
type preparedSeries struct {
	points plotter.XYs   // all drawable points
	runs   []plotter.XYs // maximal runs of consecutive drawable points
	errs   []errorPoint  // drawable points with an error bar
}

type errorPoint struct {
	plotter.XY
	err float64
}

// logX reports whether the X axis is logarithmic.
func (f Figure) logX() bool { return f.LogX && f.XTicks == nil }

// maxAbs bounds the values that can be drawn: beyond it, the span of an
// axis could overflow to +Inf, which gonum/plot cannot handle. On a log
// axis, values below 1/maxAbs are not drawn either, so that halving or
// rounding never takes them to zero.
const maxAbs = 1e300

// drawable reports whether v can be placed on a linear or log axis.
func drawable(v float64, log bool) bool {
	if log {
		return 1/maxAbs <= v && v <= maxAbs // false for NaN and ±Inf
	}
	return math.Abs(v) <= maxAbs
}

// prepare filters out the points that cannot be drawn.
func (f Figure) prepare() preparedFigure {
	var pf preparedFigure
	logX := f.logX()
	for _, s := range f.Series {
		var ps preparedSeries
		n := min(len(s.X), len(s.Y))
		pf.dropped += max(len(s.X), len(s.Y)) - n // points without a partner
		var run plotter.XYs
		for i := range n {
			x, y := s.X[i], s.Y[i]
			if !drawable(x, logX) || !drawable(y, f.LogY) {
				pf.dropped++
				if len(run) > 0 {
					ps.runs = append(ps.runs, run)
					run = nil
				}
				continue
			}
			pt := plotter.XY{X: x, Y: y}
			ps.points = append(ps.points, pt)
			run = append(run, pt)
			if i < len(s.YErr) {
				if e := math.Abs(s.YErr[i]); e > 0 && drawable(y-e, false) && drawable(y+e, false) {
					ps.errs = append(ps.errs, errorPoint{XY: pt, err: e})
				}
			}
		}
		if len(run) > 0 {
			ps.runs = append(ps.runs, run)
		}
		pf.drawn += len(ps.points)
		pf.series = append(pf.series, ps)
	}
	for i, h := range f.HLines {
		if drawable(h.Y, f.LogY) {
			pf.hlines = append(pf.hlines, i)
		} else {
			pf.dropped++
		}
	}
	return pf
}

// errorBars builds the error bars of ps. On a log axis, bars reaching
// zero or below end at floor instead.
func errorBars(ps preparedSeries, log bool, floor float64, style draw.LineStyle) *plotter.YErrorBars {
	eb := &plotter.YErrorBars{
		XYs:       make(plotter.XYs, len(ps.errs)),
		YErrors:   make(plotter.YErrors, len(ps.errs)),
		LineStyle: style,
		CapWidth:  vg.Points(4),
	}
	for i, e := range ps.errs {
		low := e.err
		if log && !(e.Y-low > 0) {
			low = e.Y - floor
		}
		if log && !(e.Y-low > 0) { // floor too close to e.Y to tell apart
			low = 0
		}
		eb.XYs[i] = e.XY
		eb.YErrors[i].Low, eb.YErrors[i].High = low, e.err
	}
	return eb
}

// logFloor returns where error bars that reach zero or below end on a
// log Y axis: half the lowest positive value drawn (point or bar end).
func (pf preparedFigure) logFloor(f Figure) float64 {
	lowest := math.Inf(1)
	for _, ps := range pf.series {
		for _, pt := range ps.points {
			lowest = min(lowest, pt.Y)
		}
		for _, e := range ps.errs {
			if e.Y-e.err > 0 {
				lowest = min(lowest, e.Y-e.err)
			}
		}
	}
	for _, i := range pf.hlines {
		lowest = min(lowest, f.HLines[i].Y)
	}
	return lowest / 2
}

// plot builds the gonum plot of f, its legend and its caption.
func (f Figure) plot() (p *plot.Plot, entries []legendEntry, note string) {
	pf := f.prepare()
	p = newPlot(f.Title)
	p.X.Label.Text = f.XLabel
	p.Y.Label.Text = f.YLabel
	p.Add(&plotter.Grid{Vertical: gridStyle, Horizontal: gridStyle})

	for _, i := range pf.hlines {
		h := hline{y: f.HLines[i].Y, style: referenceLine(i)}
		p.Add(h)
		if l := f.HLines[i].Label; l != "" {
			entries = append(entries, legendEntry{label: shorten(l), thumbs: []plot.Thumbnailer{h}})
		}
	}
	floor := pf.logFloor(f)
	var seriesEntries []legendEntry
	for i, ps := range pf.series {
		s := f.Series[i]
		line := &plotter.Line{LineStyle: seriesLine(i)}
		scatter := &plotter.Scatter{XYs: ps.points, GlyphStyle: seriesGlyph(i)}
		if len(ps.errs) > 0 {
			style := seriesLine(i)
			style.Width = vg.Points(1)
			style.Dashes = nil
			p.Add(errorBars(ps, f.LogY, floor, style))
		}
		if !s.Points {
			for _, run := range ps.runs {
				if len(run) > 1 {
					p.Add(&plotter.Line{XYs: run, LineStyle: line.LineStyle})
				}
			}
		}
		p.Add(scatter)
		if s.Label == "" {
			continue
		}
		thumbs := []plot.Thumbnailer{scatter}
		if !s.Points {
			thumbs = []plot.Thumbnailer{line, scatter}
		}
		seriesEntries = append(seriesEntries, legendEntry{label: shorten(s.Label), thumbs: thumbs})
	}
	entries = append(seriesEntries, entries...) // series first, then references

	switch {
	case f.XTicks != nil:
		p.X.Tick.Marker = categoryTicks(f.XTicks)
		p.X.Min = min(p.X.Min, 0) - 0.3
		p.X.Max = max(p.X.Max, float64(len(f.XTicks)-1)) + 0.3
		rotateCategories(&p.X, f.XTicks, 0.7*Width)
	case f.logX():
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
		fixLogRange(&p.X)
	default:
		fixLinearRange(&p.X)
		if f.IntegerX {
			p.X.Tick.Marker = integerTicks{}
		}
	}
	if f.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
		fixLogRange(&p.Y)
	} else {
		fixLinearRange(&p.Y)
	}

	return p, entries, caption(pf.drawn, pf.dropped)
}

// draw renders f onto c.
func (f Figure) draw(c draw.Canvas) {
	p, entries, note := f.plot()
	fillBackground(c)
	drawCaption(&c, note)
	drawWithLegend(c, p, entries)
}
