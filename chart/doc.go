// Package chart renders the report's figures as SVG and PNG with
// gonum.org/v1/plot.
//
// A Figure is a line chart of one or more Series, with optional error
// bars, dashed horizontal reference lines, log axes and categorical X
// ticks. A Slope is a slope chart comparing subjects across normalised
// metrics. Both render to a standalone SVG document (with width, height
// and viewBox, suitable for inlining in HTML) or to a PNG image, always
// Width×Height in size.
//
// Rendering never panics on awkward data: points that cannot be drawn
// (NaN, ±Inf, or ≤ 0 on a log axis) are left out and counted in a
// caption under the chart, and an empty chart is drawn with a caption
// saying so instead of failing. The output is deterministic: the same
// chart renders to the same bytes.
package chart
