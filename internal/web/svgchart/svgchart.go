// Package svgchart draws charts as inline SVG on the server: a line chart
// of a series with an optional second, dashed series (the previous
// period), and horizontal bars. The output needs no script and no style
// (the site's CSP allows neither inline): colours and strokes are SVG
// presentation attributes.
//
// Every chart is an image with a name (role="img", <title> and <desc>
// referenced by aria-labelledby) and is meant to sit beside a table of the
// same numbers, which is what screen readers and people without the
// picture read. Every label is escaped.
//
// Sizes: the width follows the page (width="100%", no fixed pixel width);
// the geometry is drawn in percentages, or in a viewBox stretched to the
// plot area with strokes that do not scale, and text is in pixels, so
// labels stay legible on a phone instead of shrinking with the drawing.
package svgchart

import (
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Colours, each with a contrast of at least 4.5:1 against white (WCAG AA
// for text; 3:1 would do for graphics): the site's accent and muted text.
const (
	ColorMain  = "#1d4ed8" // 6.7:1
	ColorPrev  = "#4b5563" // 7.6:1
	colorText  = "#1f2328"
	colorGrid  = "#d5dae1" // gridlines only: decoration, the labels carry the values
	colorTrack = "#eef1f5"
)

const fontSize = "12"

// Series is one line of a Line chart.
type Series struct {
	Name   string
	Values []float64
}

// Line is a line chart: one point per label. Series[0] is drawn solid with
// the area below it filled; a second series is drawn dashed (the previous
// period, aligned day by day).
type Line struct {
	ID     string // prefix of the chart's element ids, unique on the page
	Title  string // the chart's name
	Desc   string // what it shows, in a sentence or two, for screen readers
	Labels []string
	Series []Series
	// Format writes a value on the axis; nil writes whole numbers with
	// thousands separators.
	Format func(float64) string
}

// Line chart geometry, in pixels of the outer drawing.
const (
	lineLegend = 20   // a legend row
	linePlotY  = 24   // top of the plot area below the legend, without its rows
	linePlotH  = 170  // its height
	plotUnits  = 1000 // the plot's viewBox height
)

// SVG draws the chart.
func (c Line) SVG() template.HTML {
	id := cleanID(c.ID)
	format := c.Format
	if format == nil {
		format = func(v float64) string { return Thousands(int64(math.Round(v))) }
	}
	n := len(c.Labels)
	peak := 0.0
	for _, s := range c.Series {
		for _, v := range s.Values {
			peak = max(peak, v)
		}
	}
	top := Nice(peak)
	plotY := linePlotY + lineLegend*max(len(c.Series), 1)
	height := plotY + linePlotH + 26
	var b strings.Builder
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" height="` + itoa(height) + `"`)
	b.WriteString(` aria-labelledby="` + id + `-title ` + id + `-desc">`)
	b.WriteString(`<title id="` + id + `-title">` + esc(c.Title) + `</title>`)
	b.WriteString(`<desc id="` + id + `-desc">` + esc(c.Desc) + `</desc>`)
	// Legend: a sample of each line and its name, one a row, so that
	// long names fit a phone.
	for i, s := range c.Series {
		y := 12 + i*lineLegend
		b.WriteString(`<line x1="0" y1="` + itoa(y) + `" x2="24" y2="` + itoa(y) + `" stroke="` + seriesColor(i) + `" stroke-width="2"` + dash(i) + `/>`)
		b.WriteString(`<text x="30" y="` + itoa(y+4) + `" font-size="` + fontSize + `" fill="` + colorText + `">` + esc(s.Name) + `</text>`)
	}
	// Gridlines; their values are written over the plot, below.
	for i := 0; i <= 4; i++ {
		y := plotY + linePlotH - i*linePlotH/4
		b.WriteString(`<line x1="0" y1="` + itoa(y) + `" x2="100%" y2="` + itoa(y) + `" stroke="` + colorGrid + `" stroke-width="1"/>`)
	}
	// The plot: x in points, y in plotUnits, stretched to the area.
	w := max(n-1, 1)
	b.WriteString(`<svg x="0" y="` + itoa(plotY) + `" width="100%" height="` + itoa(linePlotH) + `" viewBox="0 0 ` + itoa(w) + ` ` + itoa(plotUnits) + `" preserveAspectRatio="none">`)
	for i := len(c.Series) - 1; i >= 0; i-- {
		pts := points(c.Series[i].Values, n, top)
		if pts == "" {
			continue
		}
		if i == 0 {
			b.WriteString(`<polygon points="0,` + itoa(plotUnits) + ` ` + pts + ` ` + itoa(w) + `,` + itoa(plotUnits) + `" fill="` + ColorMain + `" fill-opacity="0.12" stroke="none"/>`)
		}
		b.WriteString(`<polyline data-series="` + itoa(i) + `" points="` + pts + `" fill="none" stroke="` + seriesColor(i) + `" stroke-width="2"` + dash(i) +
			` stroke-linejoin="round" vector-effect="non-scaling-stroke"/>`)
	}
	b.WriteString(`</svg>`)
	// The gridlines' values, above each line on the left, with a white
	// halo so that a line crossing them does not hide them.
	for i := 1; i <= 4; i++ {
		y := plotY + linePlotH - i*linePlotH/4
		b.WriteString(`<text x="0" y="` + itoa(y-4) + `" font-size="` + fontSize + `" fill="` + ColorPrev +
			`" stroke="#ffffff" stroke-width="3" paint-order="stroke">` + esc(format(top*float64(i)/4)) + `</text>`)
	}
	// First, middle and last label under the plot.
	ly := itoa(plotY + linePlotH + 18)
	if n > 0 {
		b.WriteString(`<text x="0" y="` + ly + `" font-size="` + fontSize + `" fill="` + colorText + `">` + esc(c.Labels[0]) + `</text>`)
	}
	if n > 2 {
		m := (n - 1) / 2
		b.WriteString(`<text x="` + pct(float64(m)/float64(n-1)) + `" y="` + ly + `" font-size="` + fontSize + `" fill="` + colorText + `" text-anchor="middle">` + esc(c.Labels[m]) + `</text>`)
	}
	if n > 1 {
		b.WriteString(`<text x="100%" y="` + ly + `" font-size="` + fontSize + `" fill="` + colorText + `" text-anchor="end">` + esc(c.Labels[n-1]) + `</text>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // safe: every text and attribute above is escaped (esc, cleanID) or a number
}

// points is the polyline of values in the plot's units; a single point is
// drawn as a flat line across.
func points(values []float64, n int, top float64) string {
	if len(values) == 0 || n == 0 {
		return ""
	}
	y := func(v float64) string {
		if top <= 0 {
			return itoa(plotUnits)
		}
		return num(plotUnits - v/top*plotUnits)
	}
	var b strings.Builder
	if n == 1 {
		return "0," + y(values[0]) + " 1," + y(values[0])
	}
	for i := 0; i < n && i < len(values); i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(itoa(i) + "," + y(values[i]))
	}
	return b.String()
}

// Bar is one bar: its label, value and the value as the chart writes it
// ("1,234", "2 min 5 s"). Prev, when HasPrev, is marked on the bar's track
// (the previous period).
type Bar struct {
	Label   string
	Value   float64
	Text    string
	Prev    float64
	HasPrev bool
}

// Bars is a horizontal bar chart, one row per bar: the label above, the
// bar below it, all bars on one scale from zero.
type Bars struct {
	ID, Title, Desc string
	Bars            []Bar
}

// Bar chart geometry, in pixels.
const (
	barRow    = 42
	barLabelY = 15
	barY      = 21
	barH      = 14
	maxLabel  = 34 // runes, so label and value share a phone's line; the table has the whole label
)

// SVG draws the chart.
func (c Bars) SVG() template.HTML {
	id := cleanID(c.ID)
	peak := 0.0
	for _, bar := range c.Bars {
		peak = max(peak, bar.Value)
		if bar.HasPrev {
			peak = max(peak, bar.Prev)
		}
	}
	var b strings.Builder
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" height="` + itoa(max(1, len(c.Bars))*barRow) + `"`)
	b.WriteString(` aria-labelledby="` + id + `-title ` + id + `-desc">`)
	b.WriteString(`<title id="` + id + `-title">` + esc(c.Title) + `</title>`)
	b.WriteString(`<desc id="` + id + `-desc">` + esc(c.Desc) + `</desc>`)
	for i, bar := range c.Bars {
		y0 := i * barRow
		share := 0.0
		if peak > 0 {
			share = bar.Value / peak
		}
		b.WriteString(`<g>`)
		b.WriteString(`<text x="0" y="` + itoa(y0+barLabelY) + `" font-size="13" fill="` + colorText + `">` + esc(clip(bar.Label)) + `</text>`)
		b.WriteString(`<rect x="0" y="` + itoa(y0+barY) + `" width="100%" height="` + itoa(barH) + `" fill="` + colorTrack + `"/>`)
		b.WriteString(`<rect data-value="` + num(bar.Value) + `" x="0" y="` + itoa(y0+barY) + `" width="` + pct(share) + `" height="` + itoa(barH) + `" fill="` + ColorMain + `">`)
		b.WriteString(`<title>` + esc(bar.Label+": "+bar.Text) + `</title></rect>`)
		if bar.HasPrev && peak > 0 {
			px := pct(bar.Prev / peak)
			b.WriteString(`<line data-prev="` + num(bar.Prev) + `" x1="` + px + `" y1="` + itoa(y0+barY-3) + `" x2="` + px + `" y2="` + itoa(y0+barY+barH+3) +
				`" stroke="` + ColorPrev + `" stroke-width="2"/>`)
		}
		// The value on the label's line, at the right: clear of the bar
		// and of the previous period's mark.
		b.WriteString(`<text x="100%" y="` + itoa(y0+barLabelY) + `" font-size="` + fontSize + `" fill="` + colorText + `" text-anchor="end">` + esc(bar.Text) + `</text>`)
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // safe: every text and attribute above is escaped (esc, cleanID) or a number
}

// Nice is the smallest of 1, 2, 2.5, 5 times a power of ten at or above v:
// the top of an axis whose quarter lines have round values. Nice(0) is 1.
func Nice(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v*(1-1e-12) {
			return m * p
		}
	}
	return 10 * p
}

// Thousands writes n with commas between groups of three digits.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func seriesColor(i int) string {
	if i == 0 {
		return ColorMain
	}
	return ColorPrev
}

func dash(i int) string {
	if i == 0 {
		return ""
	}
	return ` stroke-dasharray="6 4"`
}

// esc escapes text for SVG inside HTML, in content and in attributes.
func esc(s string) string { return html.EscapeString(s) }

// cleanID keeps the letters, digits, - and _ of an id.
func cleanID(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "chart"
	}
	return b.String()
}

func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxLabel {
		return s
	}
	r := []rune(s)
	return string(r[:maxLabel-1]) + "…"
}

func itoa(n int) string { return strconv.Itoa(n) }

// num writes a coordinate with at most two decimals.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

// pct writes a share (0..1) as a percentage length.
func pct(share float64) string { return num(share*100) + "%" }
