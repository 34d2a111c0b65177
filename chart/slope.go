package chart

import (
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// slopeYLabel is the Y axis label of every slope chart.
const slopeYLabel = "normalised score (1 = best)"

// preparedLine holds the drawable values of one SlopeLine.
type preparedLine struct {
	points plotter.XYs   // all drawable values, x = column index
	runs   []plotter.XYs // maximal runs of consecutive drawable values
}

// prepare filters out the values of l that cannot be drawn: NaN, ±Inf,
// values outside [0, 1] and values without a column.
func (l SlopeLine) prepare(columns int) (pl preparedLine, dropped int) {
	const eps = 1e-9 // rounding slack at the ends of [0, 1]
	var run plotter.XYs
	for i, v := range l.Values {
		if i >= columns || math.IsNaN(v) || v < -eps || v > 1+eps {
			dropped++
			if len(run) > 0 {
				pl.runs = append(pl.runs, run)
				run = nil
			}
			continue
		}
		pt := plotter.XY{X: float64(i), Y: min(max(v, 0), 1)}
		pl.points = append(pl.points, pt)
		run = append(run, pt)
	}
	if len(run) > 0 {
		pl.runs = append(pl.runs, run)
	}
	return pl, dropped
}

// draw renders s onto c: the plot on the left, and the line labels in a
// column on the right, each placed as close as possible to the height
// at which its line ends.
func (s Slope) draw(c draw.Canvas) {
	fillBackground(c)
	n := len(s.Columns)
	p := newPlot(s.Title)
	p.Y.Label.Text = slopeYLabel
	p.Y.Min, p.Y.Max = 0, 1
	p.X.Tick.Marker = categoryTicks(s.Columns)
	p.X.Min, p.X.Max = -0.15, float64(n-1)+0.15
	rotateCategories(&p.X, s.Columns, 0.6*Width)
	p.Add(&plotter.Grid{
		Vertical:   draw.LineStyle{Color: color.Gray{Y: 0x99}, Width: vg.Points(0.75)},
		Horizontal: gridStyle,
	})

	type label struct {
		text    string
		line    *plotter.Line
		scatter *plotter.Scatter
		end     plotter.XY // last drawn value
		ended   bool       // whether the line has any drawn value
	}
	var labels []label
	drawn, dropped := 0, 0
	for i, l := range s.Lines {
		pl, d := l.prepare(n)
		drawn += len(pl.points)
		dropped += d
		line := &plotter.Line{LineStyle: seriesLine(i)}
		for _, run := range pl.runs {
			if len(run) > 1 {
				p.Add(&plotter.Line{XYs: run, LineStyle: line.LineStyle})
			}
		}
		scatter := &plotter.Scatter{XYs: pl.points, GlyphStyle: seriesGlyph(i)}
		p.Add(scatter)
		if l.Label == "" {
			continue
		}
		lb := label{text: shorten(l.Label), line: line, scatter: scatter}
		if k := len(pl.points); k > 0 {
			lb.end, lb.ended = pl.points[k-1], true
		}
		labels = append(labels, lb)
	}
	drawCaption(&c, caption(drawn, dropped))
	c = drawTitle(c, p)

	if len(labels) == 0 {
		p.Draw(c)
		return
	}

	sty := textStyle(9)
	sty.YAlign = draw.YCenter
	thumbW, space, gap := vg.Points(16), vg.Points(4), vg.Points(8)
	var textW vg.Length
	for _, lb := range labels {
		textW = max(textW, sty.Width(lb.text))
	}
	w := min(thumbW+space+textW, 0.4*c.Size().X)
	pc := draw.Crop(c, 0, -(w + 2*gap), 0, 0)
	p.Draw(pc)

	dc := p.DataCanvas(pc)
	trX, trY := p.Transforms(&dc)
	want := make([]vg.Length, len(labels))
	for i, lb := range labels {
		want[i] = dc.Min.Y
		if lb.ended {
			want[i] = trY(lb.end.Y)
		}
	}
	// Place labels top to bottom; ties keep the order of s.Lines.
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return want[order[a]] > want[order[b]] })
	ys := make([]vg.Length, len(order))
	for k, i := range order {
		ys[k] = want[i]
	}
	ys = spread(ys, dc.Min.Y, dc.Max.Y, sty.Height("Mg")+vg.Points(2))

	x0 := c.Max.X - w - gap
	leader := draw.LineStyle{Color: color.Gray{Y: 0xa0}, Width: vg.Points(0.5)}
	for k, i := range order {
		lb, y := labels[i], ys[k]
		if lb.ended && int(lb.end.X) == n-1 {
			c.StrokeLine2(leader, trX(lb.end.X)+vg.Points(5), trY(lb.end.Y), x0-vg.Points(2), y)
		}
		thumb := &draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: x0, Y: y - vg.Points(4)},
			Max: vg.Point{X: x0 + thumbW, Y: y + vg.Points(4)},
		}}
		lb.line.Thumbnail(thumb)
		lb.scatter.Thumbnail(thumb)
		c.FillText(sty, vg.Point{X: x0 + thumbW + space, Y: y}, lb.text)
	}
}

// spread moves the label heights ys, sorted from top to bottom, the least
// needed to keep them at least h apart and within [bottom, top]. If they
// do not fit, they are squeezed closer together.
func spread(ys []vg.Length, bottom, top, h vg.Length) []vg.Length {
	n := len(ys)
	if n == 0 {
		return ys
	}
	if n > 1 && vg.Length(n-1)*h > top-bottom {
		h = (top - bottom) / vg.Length(n-1)
	}
	pos := make([]vg.Length, n)
	pos[0] = min(ys[0], top)
	for i := 1; i < n; i++ {
		pos[i] = min(ys[i], pos[i-1]-h)
	}
	if pos[n-1] < bottom {
		pos[n-1] = bottom
		for i := n - 2; i >= 0; i-- {
			pos[i] = max(pos[i], pos[i+1]+h)
		}
	}
	return pos
}
